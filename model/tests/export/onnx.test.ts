import onnxProto from 'onnx-proto'
import * as ort from 'onnxruntime-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { exportModel } from '../../src/export/index.ts'
import type { Activation } from '../../src/spec/job-spec.ts'
import { argmaxRows, maxAbsDifference } from '../support/array-compare.ts'
import { forwardMlp } from '../support/mlp-forward.ts'
import { syntheticInputs, syntheticModel } from '../support/synthetic-model.ts'
import { predictTrained, trainMnistFixture, type MnistFixture } from '../support/mnist-trained-model.ts'

const { onnx } = onnxProto
/** protobufjs types nested messages with nullable fields; decoded repeated fields are arrays. */
const list = <T>(items: T[] | null | undefined): T[] => items ?? []

describe('ONNX export', () => {
  let fixture: MnistFixture
  let expected: Float32Array
  let bytes: Uint8Array
  beforeAll(async () => {
    fixture = await trainMnistFixture()
    expected = predictTrained(fixture)
    const artifact = await exportModel(fixture.trained, 'onnx')
    expect(artifact.files.map((f) => [f.name, f.contentType])).toEqual([
      ['model.onnx', 'application/octet-stream'],
    ])
    bytes = artifact.files[0]!.bytes
  })

  it('runs in ONNX Runtime and predicts like the trained model on 1,000 RAW digits', async () => {
    const session = await ort.InferenceSession.create(bytes)
    expect(session.inputNames).toEqual(['input'])
    expect(session.outputNames).toEqual(['probabilities'])
    const { count, raw } = fixture.test
    const result = await session.run({ input: new ort.Tensor('float32', raw, [count, 784]) })
    const probabilities = result.probabilities!
    expect(probabilities.dims).toEqual([count, 10])
    const actual = probabilities.data as Float32Array
    expect(argmaxRows(actual, 10)).toEqual(argmaxRows(expected, 10))
    const worst = maxAbsDifference(actual, expected)
    expect(worst).toBeLessThan(1e-4)
    await session.release()
  })

  it('accepts any batch size, one row included (the batch dimension is symbolic)', async () => {
    const session = await ort.InferenceSession.create(bytes)
    const row = fixture.test.raw.slice(0, 784)
    const result = await session.run({ input: new ort.Tensor('float32', row, [1, 784]) })
    const actual = result.probabilities!.data as Float32Array
    expect(Array.from(actual, (v, i) => Math.abs(v - expected[i]!) < 1e-4)).toEqual(Array(10).fill(true))
    await session.release()
  })

  it('is opset 13 / IR 8 with one Gemm (transB = 0) and activation per layer', () => {
    const model = onnx.ModelProto.decode(bytes)
    expect(Number(model.irVersion)).toBe(8)
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]])
    const graph = model.graph!
    const nodes = list(graph.node)
    expect(nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm', 'Softmax'])
    const attribute = (opType: string, name: string) =>
      nodes
        .filter((n) => n.opType === opType)
        .map((n) => Number(list(n.attribute).find((a) => a.name === name)?.i))
    expect(attribute('Gemm', 'transB')).toEqual([0, 0])
    expect(attribute('Softmax', 'axis')).toEqual([-1])
    expect(list(graph.initializer).map((t) => [t.name, list(t.dims).map(Number)])).toEqual([
      ['dense/kernel', [784, 32]],
      ['dense/bias', [32]],
      ['dense_1/kernel', [32, 10]],
      ['dense_1/bias', [10]],
    ])
    const inputDims = list(list(graph.input)[0]!.type!.tensorType!.shape!.dim)
    expect(inputDims.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 784])
  })

  it('names the classes and states (ε, δ) in its metadata', () => {
    const props = Object.fromEntries(onnx.ModelProto.decode(bytes).metadataProps.map((p) => [p.key, p.value]))
    expect(JSON.parse(props.class_names!)).toEqual(fixture.trained.classNames)
    expect(JSON.parse(props.feature_names!)).toHaveLength(784)
    expect(JSON.parse(props.epsilon!)).toBe(3.5)
    expect(JSON.parse(props.delta!)).toBe(1e-5)
    expect(props.normalization_folded).toBe('true')
  })
  it.each<{ activations: Activation[] }>([
    { activations: ['sigmoid', 'tanh', 'linear'] },
    { activations: ['linear', 'relu', 'sigmoid'] },
    { activations: ['tanh', 'softmax'] },
  ])('computes $activations layers like the reference forward pass', async ({ activations }) => {
    const model = syntheticModel([5, 7, 6, 3].slice(0, activations.length + 1), activations)
    const [file] = (await exportModel(model, 'onnx')).files
    const session = await ort.InferenceSession.create(file!.bytes)
    const raw = syntheticInputs(5, 20)
    const out = (await session.run({ input: new ort.Tensor('float32', raw, [20, 5]) })).probabilities!
    const normalized = raw.map(
      (x, k) => (x - model.normalization.offset[k % 5]!) * model.normalization.scale[k % 5]!,
    )
    const expected = forwardMlp(model.weights, normalized, 20)
    expect(out.dims).toEqual([20, model.weights.layers[activations.length - 1]!.units])
    const worst = maxAbsDifference(out.data as Float32Array, expected)
    expect(worst).toBeLessThan(1e-5)
    await session.release()
  })
})
