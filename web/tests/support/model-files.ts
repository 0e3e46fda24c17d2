import h5wasm from 'h5wasm'
import type { Dataset, Group } from 'h5wasm'
import type { Activation, MlpWeights } from '@oblivion/model'
import { unpickle } from '../../../model/tests/support/unpickle.ts'
import { readZip } from '../../../model/tests/support/zip-reader.ts'

/**
 * The weights in each downloaded model file, read the way its consumer reads it (the layout each
 * exporter documents, model/README.md), so a test can run them and compare predictions: a file
 * whose extension lies about its format, or that holds other weights, fails here.
 */

/** Keras HDF5: model_config's Dense layers, and model_weights/<layer>/<layer>/kernel:0 and bias:0. */
export async function weightsFromKerasH5(bytes: Uint8Array): Promise<MlpWeights> {
  const { FS } = await h5wasm.ready
  const file = `/downloaded-${process.pid}-${Date.now()}.h5`
  FS.writeFile(file, bytes)
  const h5 = new h5wasm.File(file, 'r')
  try {
    const config = JSON.parse(String(h5.attrs.model_config!.value)) as { config: { layers: { class_name: string; config: { name: string; units: number; activation: Activation } }[] } }
    const dense = config.config.layers.filter((l) => l.class_name === 'Dense').map((l) => l.config)
    const first = h5.get(`model_weights/${dense[0]!.name}/${dense[0]!.name}/kernel:0`) as Dataset
    let inputs = first.shape![0]!
    const inputSize = inputs
    const layers = dense.map(({ name, units, activation }) => {
      const group = h5.get(`model_weights/${name}`) as Group
      if (!group) throw new Error(`model_weights/${name} is missing`)
      const layer = {
        name,
        inputs,
        units,
        activation,
        kernel: Float32Array.from((h5.get(`model_weights/${name}/${name}/kernel:0`) as Dataset).value as Float32Array),
        bias: Float32Array.from((h5.get(`model_weights/${name}/${name}/bias:0`) as Dataset).value as Float32Array),
      }
      inputs = units
      return layer
    })
    return { inputSize, layers }
  } finally {
    h5.close()
    FS.unlink(file)
  }
}

/**
 * PyTorch torch.save zip: model/data.pkl (an OrderedDict state dict of persistent-id tensors) and
 * one little-endian float32 storage per tensor, weight [units, inputs] then bias, per layer.
 * `activations` come from another file (a state dict has none).
 */
export function weightsFromTorchPt(bytes: Uint8Array, activations: Activation[]): MlpWeights {
  const records = new Map(readZip(bytes).map((r) => [r.name, r.data]))
  if (!records.has('model/data.pkl')) throw new Error(`not a torch.save archive: ${[...records.keys()].join(', ')}`)
  unpickle(records.get('model/data.pkl')!) // must parse
  const storage = (k: number) => {
    const data = records.get(`model/data/${k}`)
    if (!data) throw new Error(`model/data/${k} is missing`)
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    return Float32Array.from({ length: data.length / 4 }, (_, i) => view.getFloat32(i * 4, true))
  }
  let inputs = 0
  const layers = activations.map((activation, l) => {
    const weight = storage(2 * l)
    const bias = storage(2 * l + 1)
    const units = bias.length
    inputs = weight.length / units
    const kernel = new Float32Array(inputs * units)
    for (let j = 0; j < units; j++) for (let i = 0; i < inputs; i++) kernel[i * units + j] = weight[j * inputs + i]!
    return { name: `layer${l}`, inputs, units, activation, kernel, bias }
  })
  return { inputSize: layers[0]!.inputs, layers }
}

/** The builtins-only pickle: {'layers': [{'name', 'activation', 'weight': rows [inputs][units], 'bias'}]}. */
export function weightsFromPickle(bytes: Uint8Array): MlpWeights {
  const model = unpickle(bytes) as Map<string, unknown>
  const layers = (model.get('layers') as Map<string, unknown>[]).map((layer) => {
    const rows = layer.get('weight') as number[][]
    return {
      name: layer.get('name') as string,
      inputs: rows.length,
      units: rows[0]!.length,
      activation: layer.get('activation') as Activation,
      kernel: Float32Array.from(rows.flat()),
      bias: Float32Array.from(layer.get('bias') as number[]),
    }
  })
  return { inputSize: layers[0]!.inputs, layers }
}
