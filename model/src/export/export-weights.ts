import type { MlpWeights, TrainedModel } from '../nn/mlp-weights.ts'
import { foldNormalization } from './fold-normalization.ts'

/**
 * The weights every exporter writes: shapes checked (a wrong length would otherwise become a
 * file that loads and silently computes garbage, or fails far away in Python), normalisation
 * folded into the first layer so that every format takes raw features.
 */
export function weightsForExport(model: TrainedModel): MlpWeights {
  assertConsistentShapes(model.weights)
  return foldNormalization(model.weights, model.normalization)
}

export function assertConsistentShapes(weights: MlpWeights): void {
  if (weights.layers.length === 0) throw new Error('the model has no layers: nothing to export')
  let inputs = weights.inputSize
  for (const layer of weights.layers) {
    if (
      layer.inputs !== inputs ||
      layer.kernel.length !== layer.inputs * layer.units ||
      layer.bias.length !== layer.units
    ) {
      throw new Error(
        `layer ${layer.name} declares ${layer.inputs}×${layer.units} and receives ${inputs} inputs, ` +
          `but its kernel has ${layer.kernel.length} values and its bias ${layer.bias.length}: ` +
          'the weights are inconsistent, rebuild them from the trained model',
      )
    }
    inputs = layer.units
  }
}
