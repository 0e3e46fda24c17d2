import type { DenseLayerWeights, TrainedModel } from '../nn/mlp-weights.ts'
import { weightsForExport } from './export-weights.ts'
import { modelMetadata } from './model-metadata.ts'
import { pickle, py, type PyValue } from './pickle-writer.ts'

export const PICKLE_FORMAT = 'oblivion-mlp-v1'

/**
 * The `.pkl` format: one plain dict of builtins (str, int, float, bool, None, list, dict), so
 * that `pickle.load` needs no module of ours, numpy or torch, and cannot be made to run code
 * beyond building those values. Python users get the forward pass in three lines:
 *
 *   for layer in m['layers']:  x = act(x @ np.array(layer['weight']) + layer['bias'])
 *
 * `weight` is a list of `inputs` rows of `units` floats (our kernel as is, `weight_layout`
 * says so); the inputs are raw features because the normalisation is folded in.
 */
export function exportPythonPickle(model: TrainedModel): Uint8Array {
  const weights = weightsForExport(model)
  const metadata = modelMetadata(model)
  const optional: Record<string, PyValue> = {}
  if (metadata.jobId !== undefined) optional.job_id = py.str(metadata.jobId)
  if (metadata.rounds !== undefined) optional.rounds = py.int(metadata.rounds)

  return pickle(
    py.dict({
      format: py.str(PICKLE_FORMAT),
      name: py.str(metadata.modelName),
      input_size: py.int(weights.inputSize),
      layers: py.list(weights.layers.map(layerDict)),
      class_names: py.list(metadata.classNames.map(py.str)),
      feature_names: py.list(metadata.featureNames.map(py.str)),
      privacy: py.dict({
        epsilon: optionalFloat(metadata.privacy.epsilon),
        delta: optionalFloat(metadata.privacy.delta),
      }),
      metrics: py.dict(
        Object.fromEntries(Object.entries(metadata.metrics).map(([k, v]) => [k, py.float(v)])),
      ),
      normalization_folded: py.bool(true),
      ...optional,
    }),
  )
}

function layerDict(layer: DenseLayerWeights): PyValue {
  const rows: PyValue[] = []
  for (let i = 0; i < layer.inputs; i++) {
    rows.push(py.floats(layer.kernel.subarray(i * layer.units, (i + 1) * layer.units)))
  }
  return py.dict({
    name: py.str(layer.name),
    activation: py.str(layer.activation),
    inputs: py.int(layer.inputs),
    units: py.int(layer.units),
    weight_layout: py.str('inputs x units'),
    weight: py.list(rows),
    bias: py.floats(layer.bias),
  })
}

function optionalFloat(value: number | null): PyValue {
  return value === null ? py.none : py.float(value)
}
