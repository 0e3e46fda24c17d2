import type { MlpWeights, TrainedModel } from '../nn/mlp-weights.ts'
import { weightsForExport } from './export-weights.ts'
import { KERAS_VERSION, kerasModelConfig } from './keras-sequential-config.ts'

type H5Group = import('h5wasm').Group

let scratchFiles = 0

/**
 * A Keras 2 full-model HDF5 file, laid out as `model.save('model.h5')` writes it, so that
 * `keras.models.load_model('model.h5')` rebuilds the Sequential model:
 *
 *   /                        attrs keras_version, backend, model_config (JSON)
 *   /model_weights           attrs layer_names, backend, keras_version
 *   /model_weights/<layer>   attr  weight_names = [<layer>/kernel:0, <layer>/bias:0]
 *   /model_weights/<layer>/<layer>/kernel:0   float32 [inputs, units]
 *   /model_weights/<layer>/<layer>/bias:0     float32 [units]
 *
 * String attributes use the types h5py gives Keras' values: names and model_config are
 * encoded bytes (fixed-length strings), keras_version and backend on the root are `str`
 * (variable-length). No training_config: the model loads uncompiled, ready for inference.
 */
export async function exportKerasH5(model: TrainedModel): Promise<Uint8Array> {
  const weights = weightsForExport(model)
  // Imported on first use: the module embeds a 4 MB WebAssembly HDF5 library. We use the
  // package's ESM build, not `h5wasm/node`: that one maps its file system onto the host's disk
  // (NODERAWFS), while this one keeps the scratch file in memory, in Node and in browsers alike.
  const { default: h5wasm } = await import('h5wasm')
  const { FS } = await h5wasm.ready
  const path = `/oblivion-export-${++scratchFiles}.h5`
  try {
    const file = new h5wasm.File(path, 'w')
    try {
      file.create_attribute('keras_version', KERAS_VERSION)
      file.create_attribute('backend', 'tensorflow')
      fixedStringAttribute(file, 'model_config', JSON.stringify(kerasModelConfig(weights)))
      writeModelWeights(file.create_group('model_weights'), weights)
    } finally {
      file.close()
    }
    return FS.readFile(path)
  } finally {
    if (FS.analyzePath(path).exists) FS.unlink(path)
  }
}

function writeModelWeights(group: H5Group, weights: MlpWeights): void {
  fixedStringsAttribute(
    group,
    'layer_names',
    weights.layers.map((l) => l.name),
  )
  fixedStringAttribute(group, 'backend', 'tensorflow')
  fixedStringAttribute(group, 'keras_version', KERAS_VERSION)
  for (const layer of weights.layers) {
    const layerGroup = group.create_group(layer.name)
    fixedStringsAttribute(layerGroup, 'weight_names', [`${layer.name}/kernel:0`, `${layer.name}/bias:0`])
    // Keras nests each weight under its variable's scope: <layer>/<layer>/kernel:0.
    const scope = layerGroup.create_group(layer.name)
    scope.create_dataset({
      name: 'kernel:0',
      data: layer.kernel,
      shape: [layer.inputs, layer.units],
      dtype: '<f',
    })
    scope.create_dataset({ name: 'bias:0', data: layer.bias, shape: [layer.units], dtype: '<f' })
  }
}

function fixedStringAttribute(group: H5Group, name: string, value: string): void {
  group.create_attribute(name, value, [], `S${utf8Length(value)}`)
}

/** An array of fixed-length strings padded to the longest, like numpy's `S<n>` arrays. */
function fixedStringsAttribute(group: H5Group, name: string, values: string[]): void {
  const width = Math.max(1, ...values.map(utf8Length))
  group.create_attribute(name, values, [values.length], `S${width}`)
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length
}
