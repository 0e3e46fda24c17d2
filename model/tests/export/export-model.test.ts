import { describe, expect, it } from 'vitest'
import { exportAllFormats, exportModel, MODEL_FORMATS } from '../../src/export/index.ts'
import type { ModelFormat } from '../../src/export/model-artifact.ts'
import type { TrainedModel } from '../../src/nn/mlp-weights.ts'

const tinyModel: TrainedModel = {
  name: 'iris-like',
  weights: {
    inputSize: 4,
    layers: [
      {
        name: 'dense',
        inputs: 4,
        units: 3,
        activation: 'tanh',
        kernel: Float32Array.from({ length: 12 }, (_, i) => i / 10 - 0.5),
        bias: Float32Array.of(0.1, 0, -0.1),
      },
      {
        name: 'dense_1',
        inputs: 3,
        units: 3,
        activation: 'linear',
        kernel: Float32Array.from({ length: 9 }, (_, i) => (i % 4) - 1.5),
        bias: Float32Array.of(1, 2, 3),
      },
    ],
  },
  normalization: {
    kind: 'minmax',
    offset: Float32Array.of(4, 2, 1, 0),
    scale: Float32Array.of(0.25, 0.5, 0.2, 0.4),
  },
  classNames: ['setosa', 'versicolor', 'virginica'],
  featureNames: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  privacy: { epsilon: null, delta: null },
  metrics: {},
}

describe('exportModel / exportAllFormats', () => {
  it('exports every format with its file names and content types', async () => {
    const artifacts = await exportAllFormats(tinyModel)
    expect(artifacts.map((a) => [a.format, a.files.map((f) => `${f.name} ${f.contentType}`)])).toEqual([
      ['tfjs', ['model.json application/json', 'weights.bin application/octet-stream']],
      ['onnx', ['model.onnx application/octet-stream']],
      ['h5', ['model.h5 application/x-hdf5']],
      ['pt', ['model.pt application/zip']],
      ['pkl', ['model.pkl application/octet-stream']],
    ])
    expect(artifacts.map((a) => a.format)).toEqual([...MODEL_FORMATS])
    for (const file of artifacts.flatMap((a) => a.files))
      expect(file.bytes.length, file.name).toBeGreaterThan(40)
  })

  it('handles a linear output layer (ONNX then ends in the last Gemm)', async () => {
    const [file] = (await exportModel(tinyModel, 'onnx')).files
    const text = new TextDecoder('latin1').decode(file!.bytes)
    expect(text).toContain('dense/Tanh')
    expect(text).not.toContain('dense_1/linear')
  })

  it('gives the same bytes for the same model (fixed zip timestamps, no random ids)', async () => {
    for (const format of ['tfjs', 'onnx', 'pt', 'pkl'] as const) {
      const first = await exportModel(tinyModel, format)
      const second = await exportModel(tinyModel, format)
      expect(
        second.files.map((f) => Buffer.from(f.bytes).toString('hex')),
        format,
      ).toEqual(first.files.map((f) => Buffer.from(f.bytes).toString('hex')))
    }
  })

  it('names the formats it knows when asked for one it does not', async () => {
    await expect(exportModel(tinyModel, 'safetensors' as ModelFormat)).rejects.toThrow(
      "unknown model format 'safetensors': use one of tfjs, onnx, h5, pt, pkl",
    )
  })
})
