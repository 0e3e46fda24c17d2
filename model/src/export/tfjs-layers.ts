import type { TrainedModel } from '../nn/mlp-weights.ts'
import { weightsForExport } from './export-weights.ts'
import { float32LittleEndian } from './float32-bytes.ts'
import { tfjsModelTopology } from './keras-sequential-config.ts'
import { modelMetadata } from './model-metadata.ts'

/** model.json names its weights shard by a path relative to itself, so the name is fixed here. */
export const TFJS_WEIGHTS_FILE = 'weights.bin'

export interface TfjsLayersFiles {
  /** `model.json`: UTF-8 JSON. */
  modelJson: Uint8Array
  /** `weights.bin` (TFJS_WEIGHTS_FILE): float32 little-endian, in manifest order. */
  weightsBin: Uint8Array
}

/**
 * The TF.js layers format: `model.json` (topology, weights manifest, metadata) and one
 * `weights.bin` shard. Served side by side, `tf.loadLayersModel('…/model.json')` loads it; the
 * manifest's path is relative to model.json. One shard: TF.js splits at 4 MB only to suit HTTP
 * caches, and our MLPs are far smaller (784-128-10 is 0.4 MB).
 */
export function exportTfjsLayers(model: TrainedModel): TfjsLayersFiles {
  const weights = weightsForExport(model)
  // The loader matches each manifest entry to the variable `<layer name>/<weight>` by name and
  // reads the shard in manifest order, so names and byte order must follow the layers exactly.
  const weightSpecs = weights.layers.flatMap((layer) => [
    { name: `${layer.name}/kernel`, shape: [layer.inputs, layer.units], dtype: 'float32' },
    { name: `${layer.name}/bias`, shape: [layer.units], dtype: 'float32' },
  ])
  const weightData = float32LittleEndian(...weights.layers.flatMap((l) => [l.kernel, l.bias]))

  const modelJson = {
    modelTopology: tfjsModelTopology(weights),
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    convertedBy: 'oblivion model exporter',
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: weightSpecs }],
    userDefinedMetadata: modelMetadata(model),
  }
  return { modelJson: new TextEncoder().encode(JSON.stringify(modelJson)), weightsBin: weightData }
}
