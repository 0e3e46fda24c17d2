import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chooseScale, type ScaleChoice } from '../../src/zk/choose-scale.ts'
import { generateCircuit } from '../../src/zk/circuit.ts'
import { compileCircuit, computeOutputs, createWitnessCalculator, releaseSnarkjs, toSigned, type CompiledCircuit } from '../../src/zk/compile.node.ts'
import { estimateConstraints, quantizeInput, quantizeMlp, ZkModelError } from '../../src/zk/quantize.ts'
import { inferQuantized } from '../../src/zk/reference.ts'
import { randomMlp, trainZkMnistFixture, type ZkMnistFixture } from '../support/zk-mnist-model.ts'

// One trained 196-16-10 model and ONE circuit compile for the whole file (compiling is the slow part).
let fixture: ZkMnistFixture
let choice: ScaleChoice
let circuit: CompiledCircuit

beforeAll(async () => {
  fixture = await trainZkMnistFixture()
  choice = chooseScale(fixture.weights, fixture.normalization, fixture.test)
  circuit = await compileCircuit(generateCircuit(choice.model))
})

afterAll(async () => {
  await circuit?.dispose()
  await releaseSnarkjs()
})

describe('quantized 196-16-10 MNIST (14×14) model', () => {
  it('loses less than one point of accuracy against the float model, at the smallest scale that does', () => {
    expect(choice.floatAccuracy).toBeGreaterThan(0.85)
    expect(choice.quantizedAccuracy).toBeGreaterThan(choice.floatAccuracy - 0.01)
    // Every smaller candidate tried before it lost a point or more.
    const last = choice.trials[choice.trials.length - 1]!
    expect(last.fracBits).toBe(choice.fracBits)
    for (const trial of choice.trials.slice(0, -1)) expect(trial.refused ?? trial.accuracy <= choice.floatAccuracy - 0.01).toBeTruthy()
    // The notes' 2^8 also qualifies.
    const at8 = quantizeMlp(fixture.weights, fixture.normalization, { fracBits: 8 })
    let correct = 0
    for (let r = 0; r < fixture.test.count; r++) {
      const row = fixture.test.features.subarray(r * 196, (r + 1) * 196)
      if (inferQuantized(at8, quantizeInput(at8, row)).predicted === fixture.test.labels[r]) correct++
    }
    expect(correct / fixture.test.count).toBeGreaterThan(choice.floatAccuracy - 0.01)
  })

  it('circuit outputs equal the integer reference on 200 test inputs, negative intermediates included', async () => {
    const model = choice.model
    expect(circuit.publicOutputs).toBe(1 + model.classes)
    // This circuit has no input commitment (the marketplace form's estimate includes it).
    const estimated = estimateConstraints(model, { inputCommitment: false })
    expect(circuit.constraints).toBeLessThanOrEqual(estimated)
    expect(circuit.constraints).toBeGreaterThan(estimated * 0.9)
    const max = 2 ** model.inputBits - 1
    const inputs: number[][] = [new Array(196).fill(0), new Array(196).fill(max)] // the accepted range's extremes
    for (let r = 0; inputs.length < 202; r++) inputs.push(quantizeInput(model, fixture.test.features.subarray(r * 196, (r + 1) * 196)))
    const calculator = await createWitnessCalculator(circuit)
    let negativeHidden = 0
    let negativeLogits = 0
    let floorsOfNegatives = 0
    for (const input of inputs) {
      const expected = inferQuantized(model, input)
      const outputs = (await calculator.outputs({ in: input })).map(toSigned)
      expect(outputs).toEqual([BigInt(expected.predicted), ...expected.logits.map(BigInt)])
      negativeHidden += expected.preActivations[0]!.filter((z) => z < 0).length
      floorsOfNegatives += expected.preActivations[0]!.filter((z) => z < 0 && z % model.scale !== 0).length
      negativeLogits += expected.logits.filter((z) => z < 0).length
    }
    // snarkjs' own wtns.calculate agrees (it is what proving uses).
    for (const input of inputs.slice(0, 3)) {
      expect(await computeOutputs(circuit, { in: input })).toEqual(await calculator.outputs({ in: input }))
    }
    expect(negativeHidden).toBeGreaterThan(100)
    expect(floorsOfNegatives).toBeGreaterThan(100)
    expect(negativeLogits).toBeGreaterThan(100)
  })

  it('rejects an input outside the range the circuit accepts', async () => {
    const input = new Array(196).fill(0)
    input[0] = 2 ** choice.model.inputBits
    await expect(computeOutputs(circuit, { in: input })).rejects.toThrow()
    expect(() => inferQuantized(choice.model, input)).toThrow(RangeError)
  })
})

describe('refusals', () => {
  const none = (n: number) => ({ kind: 'none' as const, offset: new Float32Array(n), scale: new Float32Array(n).fill(1) })
  const refusal = (fn: () => unknown) => {
    try {
      fn()
    } catch (error) {
      expect(error).toBeInstanceOf(ZkModelError)
      return error as ZkModelError
    }
    throw new Error('not refused')
  }

  it('refuses a model whose circuit would exceed the constraint limit, saying how many', () => {
    const error = refusal(() => quantizeMlp(randomMlp([784, 256, 256, 10], ['relu', 'relu', 'softmax']), none(784)))
    expect(error.code).toBe('constraints')
    expect(error.message).toMatch(/about \d+ constraints, over the limit of 16384/)
  })

  it('refuses non-relu hidden layers, too many layers or units, and oversized numbers', () => {
    expect(refusal(() => quantizeMlp(randomMlp([196, 16, 10], ['tanh', 'softmax']), none(196))).code).toBe('activation')
    expect(refusal(() => quantizeMlp(randomMlp([8, 4, 4, 4, 4, 3], ['relu', 'relu', 'relu', 'relu', 'softmax']), none(8))).code).toBe('layers')
    expect(refusal(() => quantizeMlp(randomMlp([196, 512, 10], ['relu', 'softmax']), none(196))).code).toBe('units')
    expect(refusal(() => quantizeMlp(randomMlp([196, 16, 10], ['relu', 'softmax']), none(196), { fracBits: 20, inputMax: 1e6 })).code).toBe('bits')
  })
})
