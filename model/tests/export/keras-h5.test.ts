import h5wasm from 'h5wasm'
import type { Dataset, Group } from 'h5wasm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportModel } from '../../src/export/index.ts'
import { weightsForExport } from '../../src/export/export-weights.ts'
import type { Activation } from '../../src/spec/job-spec.ts'
import type { MlpWeights } from '../../src/nn/mlp-weights.ts'
import { forwardMlp } from '../support/mlp-forward.ts'
import { argmaxRows, maxAbsDifference } from '../support/array-compare.ts'
import { predictTrained, trainMnistFixture, type MnistFixture } from '../support/mnist-trained-model.ts'

describe('Keras HDF5 export', () => {
  let fixture: MnistFixture
  let folded: MlpWeights
  let file: InstanceType<typeof h5wasm.File>
  const path = '/keras-h5-test.h5'

  beforeAll(async () => {
    fixture = await trainMnistFixture({ epochs: 1 })
    folded = weightsForExport(fixture.trained)
    const artifact = await exportModel(fixture.trained, 'h5')
    expect(artifact.files.map((f) => [f.name, f.contentType])).toEqual([['model.h5', 'application/x-hdf5']])
    const { FS } = await h5wasm.ready
    FS.writeFile(path, artifact.files[0]!.bytes)
    file = new h5wasm.File(path, 'r')
  })
  afterAll(async () => {
    file.close()
    ;(await h5wasm.ready).FS.unlink(path)
  })

  it('is a real HDF5 file (signature at offset 0)', async () => {
    const artifact = await exportModel(fixture.trained, 'h5')
    expect(Array.from(artifact.files[0]!.bytes.subarray(0, 8))).toEqual([
      0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a,
    ])
  })

  it('states the Keras version and backend at the root', () => {
    expect(file.attrs.keras_version!.value).toBe('2.13.1')
    expect(file.attrs.backend!.value).toBe('tensorflow')
  })

  it('stores a model_config that describes InputLayer → Dense(32, relu) → Dense(10, softmax)', () => {
    const config = JSON.parse(file.attrs.model_config!.value as string)
    expect(config.class_name).toBe('Sequential')
    const layers = config.config.layers as { class_name: string; config: Record<string, unknown> }[]
    expect(layers.map((l) => l.class_name)).toEqual(['InputLayer', 'Dense', 'Dense'])
    expect(layers[0]!.config.batch_input_shape).toEqual([null, 784])
    expect(
      layers.slice(1).map((l) => [l.config.name, l.config.units, l.config.activation, l.config.use_bias]),
    ).toEqual([
      ['dense', 32, 'relu', true],
      ['dense_1', 10, 'softmax', true],
    ])
  })

  it('lists the layers and each layer its weights, as Keras reads them back', () => {
    const weightsGroup = file.get('model_weights') as Group
    expect(weightsGroup.attrs.layer_names!.value).toEqual(['dense', 'dense_1'])
    expect(weightsGroup.attrs.layer_names!.dtype).toBe('S7') // fixed-length, as h5py writes numpy bytes
    expect((file.get('model_weights/dense') as Group).attrs.weight_names!.value).toEqual([
      'dense/kernel:0',
      'dense/bias:0',
    ])
    expect((file.get('model_weights/dense_1') as Group).attrs.weight_names!.value).toEqual([
      'dense_1/kernel:0',
      'dense_1/bias:0',
    ])
  })

  it('holds the folded float32 kernels [inputs, units] and biases bit for bit', () => {
    for (const layer of folded.layers) {
      const kernel = file.get(`model_weights/${layer.name}/${layer.name}/kernel:0`) as Dataset
      const bias = file.get(`model_weights/${layer.name}/${layer.name}/bias:0`) as Dataset
      expect([kernel.shape, kernel.dtype]).toEqual([[layer.inputs, layer.units], '<f'])
      expect([bias.shape, bias.dtype]).toEqual([[layer.units], '<f'])
      expect(kernel.value).toEqual(layer.kernel)
      expect(bias.value).toEqual(layer.bias)
    }
    // Folding changed the first layer, so the file cannot merely echo the unfolded weights.
    expect(folded.layers[0]!.kernel).not.toEqual(fixture.trained.weights.layers[0]!.kernel)
  })
  it('rebuilt from the file alone (config + weights), predicts like the trained model on RAW digits', () => {
    const config = JSON.parse(file.attrs.model_config!.value as string)
    const dense = (
      config.config.layers as {
        class_name: string
        config: { name: string; units: number; activation: Activation }
      }[]
    )
      .filter((l) => l.class_name === 'Dense')
      .map((l) => l.config)
    let inputs = 784
    const fromFile: MlpWeights = {
      inputSize: 784,
      layers: dense.map(({ name, units, activation }) => {
        const layer = {
          name,
          inputs,
          units,
          activation,
          kernel: (file.get(`model_weights/${name}/${name}/kernel:0`) as Dataset).value as Float32Array,
          bias: (file.get(`model_weights/${name}/${name}/bias:0`) as Dataset).value as Float32Array,
        }
        inputs = units
        return layer
      }),
    }
    const { count, raw } = fixture.test
    const actual = forwardMlp(fromFile, raw, count)
    const expected = predictTrained(fixture)
    expect(argmaxRows(actual, 10)).toEqual(argmaxRows(expected, 10))
    expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4)
  })
})
