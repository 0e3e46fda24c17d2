import type { Normalization } from '../nn/mlp-weights.ts'
import type { Dataset } from './dataset.ts'
import { DatasetError, datasetErrorCodes } from './dataset-error.ts'

/**
 * Fits x' = (x − offset) · scale per feature on the training rows (never the test rows, so that
 * evaluation sees data as new). minmax maps the train range to [0, 1]; standard gives mean 0 and
 * (population, as scikit-learn's StandardScaler) standard deviation 1. A constant feature gets
 * scale 1 rather than a division by zero; it becomes 0. Sums are in float64.
 */
export function fitNormalization(kind: Normalization['kind'], train: Dataset): Normalization {
  const { count, featureCount } = train
  const offset = new Float32Array(featureCount)
  const scale = new Float32Array(featureCount).fill(1)
  if (kind === 'none') return { kind, offset, scale }
  if (count === 0) {
    throw new DatasetError(datasetErrorCodes.cannotSplit, `Cannot fit ${kind} normalization on an empty training set. Use more data or fewer test rows.`)
  }
  if (kind === 'minmax') {
    const min = new Float64Array(featureCount).fill(Infinity)
    const max = new Float64Array(featureCount).fill(-Infinity)
    forEachValue(train, (j, x) => {
      if (x < min[j]!) min[j] = x
      if (x > max[j]!) max[j] = x
    })
    for (let j = 0; j < featureCount; j++) {
      offset[j] = min[j]!
      scale[j] = safeReciprocal(max[j]! - min[j]!)
    }
    return { kind, offset, scale }
  }
  // Two passes (mean, then squared deviations): one-pass E[x²] − E[x]² loses digits to cancellation.
  const mean = new Float64Array(featureCount)
  forEachValue(train, (j, x) => {
    mean[j]! += x
  })
  for (let j = 0; j < featureCount; j++) mean[j]! /= count
  const squares = new Float64Array(featureCount)
  forEachValue(train, (j, x) => {
    const deviation = x - mean[j]!
    squares[j]! += deviation * deviation
  })
  for (let j = 0; j < featureCount; j++) {
    offset[j] = mean[j]!
    scale[j] = safeReciprocal(Math.sqrt(squares[j]! / count))
  }
  return { kind, offset, scale }
}

/** A new Dataset with every feature mapped to (x − offset) · scale; labels and names are shared. */
export function normalizeFeatures(dataset: Dataset, normalization: Normalization): Dataset {
  const { featureCount, features } = dataset
  const { offset, scale } = normalization
  if (offset.length !== featureCount || scale.length !== featureCount) {
    throw new RangeError(`normalization has ${offset.length} offsets and ${scale.length} scales for ${featureCount} features`)
  }
  const normalized = new Float32Array(features.length)
  for (let i = 0; i < features.length; i += featureCount) {
    for (let j = 0; j < featureCount; j++) {
      normalized[i + j] = (features[i + j]! - offset[j]!) * scale[j]!
    }
  }
  return { ...dataset, features: normalized }
}

/** 1/spread, or 1 when the spread is 0 (a constant feature) or so small that 1/spread overflows float32. */
function safeReciprocal(spread: number): number {
  const reciprocal = 1 / spread
  return spread > 0 && Number.isFinite(Math.fround(reciprocal)) ? reciprocal : 1
}

function forEachValue(dataset: Dataset, visit: (feature: number, value: number) => void): void {
  const { featureCount, features } = dataset
  for (let i = 0; i < features.length; i += featureCount) {
    for (let j = 0; j < featureCount; j++) visit(j, features[i + j]!)
  }
}
