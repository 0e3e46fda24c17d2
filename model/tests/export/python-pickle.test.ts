import { beforeAll, describe, expect, it } from 'vitest'
import { exportModel } from '../../src/export/index.ts'
import { weightsForExport } from '../../src/export/export-weights.ts'
import type { MlpWeights } from '../../src/nn/mlp-weights.ts'
import { forwardMlp } from '../support/mlp-forward.ts'
import { argmaxRows, maxAbsDifference } from '../support/array-compare.ts'
import { predictTrained, trainMnistFixture, type MnistFixture } from '../support/mnist-trained-model.ts'
import { PyCall, PyGlobal, PyPersistentId, PyTuple, unpickle } from '../support/unpickle.ts'

type Dict = Map<unknown, unknown>

describe('Python pickle (.pkl) export', () => {
  let fixture: MnistFixture
  let folded: MlpWeights
  let bytes: Uint8Array
  let model: Dict

  beforeAll(async () => {
    fixture = await trainMnistFixture({ epochs: 1 })
    folded = weightsForExport(fixture.trained)
    const artifact = await exportModel(fixture.trained, 'pkl')
    expect(artifact.files.map((f) => [f.name, f.contentType])).toEqual([
      ['model.pkl', 'application/octet-stream'],
    ])
    bytes = artifact.files[0]!.bytes
    model = unpickle(bytes) as Dict
  })

  it('is protocol 2 and holds only builtins: no global, call or persistent id for pickle.load to resolve', () => {
    expect(Array.from(bytes.subarray(0, 2))).toEqual([0x80, 2])
    const foreign: unknown[] = []
    const visit = (value: unknown): void => {
      if (
        value instanceof PyGlobal ||
        value instanceof PyCall ||
        value instanceof PyPersistentId ||
        value instanceof PyTuple
      ) {
        foreign.push(value)
      } else if (value instanceof Map) {
        value.forEach((v, k) => (visit(k), visit(v)))
      } else if (Array.isArray(value)) value.forEach(visit)
    }
    visit(model)
    expect(foreign).toEqual([])
  })

  it('describes the model: format, sizes, labels, privacy, metrics, folded normalisation', () => {
    expect(model.get('format')).toBe('oblivion-mlp-v1')
    expect(model.get('input_size')).toBe(784n) // a Python int, not a float
    expect(model.get('class_names')).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(model.get('feature_names')).toEqual(fixture.trained.featureNames)
    expect(model.get('privacy')).toEqual(
      new Map<string, number>([
        ['epsilon', 3.5],
        ['delta', 1e-5],
      ]),
    )
    expect(model.get('metrics')).toEqual(
      new Map([
        ['accuracy', 0.9],
        ['loss', 0.31],
      ]),
    )
    expect(model.get('normalization_folded')).toBe(true)
    expect(model.get('job_id')).toBe('job-123')
    expect(model.get('rounds')).toBe(3n)
  })

  it('lists each layer with its activation and folded weight as inputs × units rows', () => {
    const layers = model.get('layers') as Dict[]
    expect(layers.map((l) => [l.get('name'), l.get('activation'), l.get('weight_layout')])).toEqual([
      ['dense', 'relu', 'inputs x units'],
      ['dense_1', 'softmax', 'inputs x units'],
    ])
    layers.forEach((layer, l) => {
      const expected = folded.layers[l]!
      const rows = layer.get('weight') as number[][]
      expect(rows).toHaveLength(expected.inputs)
      expect(rows.every((row) => row.length === expected.units)).toBe(true)
      // float32 → Python float is exact, so the flattened rows equal the kernel bit for bit.
      expect(Float32Array.from(rows.flat())).toEqual(expected.kernel)
      expect(Float32Array.from(layer.get('bias') as number[])).toEqual(expected.bias)
    })
  })

  it('gives, with the forward pass its docstring shows, the trained model’s predictions on RAW digits', () => {
    const layers = (model.get('layers') as Dict[]).map((layer, index) => ({
      name: layer.get('name') as string,
      inputs: folded.layers[index]!.inputs,
      units: folded.layers[index]!.units,
      activation: layer.get('activation') as 'relu' | 'softmax',
      kernel: Float32Array.from((layer.get('weight') as number[][]).flat()),
      bias: Float32Array.from(layer.get('bias') as number[]),
    }))
    const actual = forwardMlp({ inputSize: 784, layers }, fixture.test.raw, fixture.test.count)
    const expected = predictTrained(fixture)
    expect(argmaxRows(actual, 10)).toEqual(argmaxRows(expected, 10))
    expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4)
  })

  it('writes None for ε and δ of a model trained without differential privacy', async () => {
    const artifact = await exportModel({ ...fixture.trained, privacy: { epsilon: null, delta: null } }, 'pkl')
    const privacy = (unpickle(artifact.files[0]!.bytes) as Dict).get('privacy')
    expect(privacy).toEqual(
      new Map([
        ['epsilon', null],
        ['delta', null],
      ]),
    )
  })
})
