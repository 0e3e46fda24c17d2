import type { MlpWeights, Normalization } from '../nn/mlp-weights.ts'

/**
 * Folds the input normalisation x' = (x − offset)·scale into the first Dense layer, so that an
 * exported model takes RAW features and its users need no preprocessing code of ours:
 *
 *   x'·W + b = (x − offset)·diag(scale)·W + b = x·W' + b'
 *   W' = diag(scale)·W          (row i of the [inputs, units] kernel times scale[i])
 *   b' = b − (offset ⊙ scale)·W
 *
 * Exact up to float32 rounding; the bias sums are accumulated in float64 because a 784-input
 * layer adds 784 terms per unit. Later layers are returned as they are (shared, not copied).
 * Assumes consistent shapes (see `weightsForExport`, which checks them first).
 */
export function foldNormalization(weights: MlpWeights, normalization: Normalization): MlpWeights {
  const [first, ...rest] = weights.layers
  if (first === undefined || normalization.kind === 'none') return weights

  const { offset, scale } = normalization
  if (offset.length !== weights.inputSize || scale.length !== weights.inputSize) {
    throw new Error(
      `normalization has ${offset.length} offsets and ${scale.length} scales but the model takes ` +
        `${weights.inputSize} features: refit the normalization on the training data's features`,
    )
  }

  const { inputs, units } = first
  const kernel = new Float32Array(inputs * units)
  const shift = new Float64Array(units) // (offset ⊙ scale)·W, one entry per unit
  for (let i = 0; i < inputs; i++) {
    const s = scale[i]!
    const shiftedInput = offset[i]! * s
    for (let j = 0; j < units; j++) {
      const w = first.kernel[i * units + j]!
      kernel[i * units + j] = w * s
      shift[j]! += shiftedInput * w
    }
  }
  const bias = new Float32Array(units)
  for (let j = 0; j < units; j++) bias[j] = first.bias[j]! - shift[j]!

  return { inputSize: weights.inputSize, layers: [{ ...first, kernel, bias }, ...rest] }
}
