import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateCircuit, MARKETPLACE_CIRCUIT } from '../../src/zk/circuit.ts'
import { compileCircuit, createWitnessCalculator, releaseSnarkjs, type CompiledCircuit } from '../../src/zk/compile.node.ts'
import { BN254_PRIME } from '../../src/zk/field.ts'
import { commitInput, inputPacking, InputCommitmentError, packInput, randomSalt, unpackInput } from '../../src/zk/input-commitment.ts'
import { estimateConstraints, quantizeMlp, type QuantizedMlp } from '../../src/zk/quantize.ts'
import { mulberry32 } from '../../src/data/seeded-random.ts'
import { randomMlp } from '../support/zk-mnist-model.ts'

// ONE compile for the file: a 784-input model (28×28 MNIST size; weights need no training here),
// whose 28 packed chunks exceed one Poseidon, so the circuit takes the two-level hash.
let model: QuantizedMlp
let circuit: CompiledCircuit

const none = (n: number) => ({ kind: 'none' as const, offset: new Float32Array(n), scale: new Float32Array(n).fill(1) })
const randomInput = (m: Pick<QuantizedMlp, 'inputSize' | 'inputBits'>, seed: number) => {
  const random = mulberry32(seed)
  return Array.from({ length: m.inputSize }, () => Math.floor(random() * 2 ** m.inputBits))
}

beforeAll(async () => {
  model = quantizeMlp(randomMlp([784, 4, 3], ['relu', 'softmax']), none(784), { fracBits: 8 })
  circuit = await compileCircuit(generateCircuit(model, MARKETPLACE_CIRCUIT))
})

afterAll(async () => {
  await circuit?.dispose()
  await releaseSnarkjs()
})

describe('packing quantized inputs into field elements', () => {
  it('puts floor(252 / inputBits) inputs in each element and round-trips', () => {
    for (const [inputSize, inputBits] of [[196, 6], [784, 9], [10, 1], [7, 252]] as const) {
      const packing = inputPacking({ inputSize, inputBits })
      expect(packing.valuesPerChunk).toBe(Math.floor(252 / inputBits))
      expect(packing.chunks).toBe(Math.ceil(inputSize / packing.valuesPerChunk))
      const input = randomInput({ inputSize, inputBits: Math.min(inputBits, 30) }, inputSize)
      const chunks = packInput(packing, input)
      for (const chunk of chunks) expect(chunk < 2n ** 252n).toBe(true)
      expect(unpackInput(packing, chunks)).toEqual(input)
    }
  })

  it('hashes one level up to 15 chunks, in groups of 16 beyond, and refuses more than 15 groups', () => {
    expect(inputPacking({ inputSize: 196, inputBits: 6 })).toMatchObject({ chunks: 5, groups: 0 })
    expect(inputPacking({ inputSize: 784, inputBits: 9 })).toMatchObject({ valuesPerChunk: 28, chunks: 28, groups: 2 })
    expect(inputPacking({ inputSize: 15 * 42, inputBits: 6 })).toMatchObject({ chunks: 15, groups: 0 })
    expect(inputPacking({ inputSize: 16 * 42, inputBits: 6 })).toMatchObject({ chunks: 16, groups: 1 })
    expect(() => inputPacking({ inputSize: 15 * 16 * 42 + 1, inputBits: 6 })).toThrow(/16 Poseidon groups; at most 15/)
  })

  it('refuses inputs outside [0, 2^inputBits − 1] and salts outside [0, r)', () => {
    const packing = inputPacking({ inputSize: 3, inputBits: 4 })
    expect(() => packInput(packing, [0, 16, 0])).toThrow(InputCommitmentError)
    expect(() => packInput(packing, [0, 1.5, 0])).toThrow(/integers in \[0, 15\]/)
    expect(() => commitInput({ inputSize: 3, inputBits: 4 }, [1, 2, 3], BN254_PRIME)).toThrow(/randomSalt/)
    expect(() => commitInput({ inputSize: 3, inputBits: 4 }, [1, 2, 3], -1n)).toThrow(InputCommitmentError)
  })

  it('randomSalt gives distinct field elements, so equal inputs give unlinkable commitments', () => {
    const salts = Array.from({ length: 50 }, randomSalt)
    expect(new Set(salts).size).toBe(50)
    for (const salt of salts) expect(salt >= 0n && salt < BN254_PRIME).toBe(true)
    const shape = { inputSize: 3, inputBits: 4 }
    expect(commitInput(shape, [1, 2, 3], salts[0]!)).not.toBe(commitInput(shape, [1, 2, 3], salts[1]!))
  })
})

describe('the circuit’s input commitment (784 inputs: two-level Poseidon)', () => {
  it('accepts commitInput’s value and rejects another input’s, another salt’s, or an off-by-one value', async () => {
    expect(inputPacking(model).groups).toBe(2)
    const calculator = await createWitnessCalculator(circuit)
    const input = randomInput(model, 1)
    const salt = randomSalt()
    const commitment = commitInput(model, input, salt)
    await expect(calculator.witness({ in: input, salt, inputCommitment: commitment })).resolves.toBeDefined()
    const changed = [...input]
    changed[783] = (changed[783]! + 1) % 2 ** model.inputBits // the last chunk of the second group
    for (const inputCommitment of [commitment + 1n, commitInput(model, changed, salt), commitInput(model, input, salt + 1n)]) {
      await expect(calculator.witness({ in: input, salt, inputCommitment })).rejects.toThrow()
    }
  })

  it('costs what estimateConstraints says: 28 chunks → Poseidon(16) + Poseidon(12) + Poseidon(3)', () => {
    expect(circuit.publicOutputs).toBe(1)
    expect(circuit.publicInputs).toBe(1)
    const withoutCommitment = estimateConstraints(model, { inputCommitment: false })
    expect(model.estimatedConstraints - withoutCommitment).toBe(609 + 504 + 261)
    expect(circuit.constraints).toBeLessThanOrEqual(model.estimatedConstraints)
    expect(circuit.constraints).toBeGreaterThan(model.estimatedConstraints * 0.95)
  })
})
