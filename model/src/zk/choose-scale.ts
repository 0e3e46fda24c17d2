import type { Dataset } from '../data/dataset.ts'
import { foldNormalization } from '../export/fold-normalization.ts'
import type { MlpWeights, Normalization } from '../nn/mlp-weights.ts'
import { quantizeInput, quantizeMlp, type QuantizedMlp, type QuantizeOptions } from './quantize.ts'
import { argmax, inferQuantized } from './reference.ts'

export interface ScaleTrial {
  fracBits: number
  accuracy: number
  /** Set when quantizeMlp refused this scale (e.g. too many bits); the trial then has accuracy NaN. */
  refused?: string
}

export interface ScaleChoice {
  model: QuantizedMlp
  fracBits: number
  floatAccuracy: number
  quantizedAccuracy: number
  /** Every scale tried, smallest first: how the choice was made. */
  trials: ScaleTrial[]
  /** The accuracy loss allowed (fraction, 0.01 = 1 point). */
  maxAccuracyLoss: number
}

export interface ChooseScaleOptions extends Omit<QuantizeOptions, 'fracBits'> {
  /** Candidates tried in increasing order; the smallest that meets maxAccuracyLoss wins. Default 4…12. */
  fracBitsCandidates?: number[]
  /** Default 0.01: strictly less than one point of accuracy lost on `test`. */
  maxAccuracyLoss?: number
}

/**
 * Picks the scale S = 2^fracBits: the SMALLEST candidate whose quantized model loses strictly
 * less than maxAccuracyLoss of accuracy against the float model on the held-out `test` rows
 * (raw features, as the circuit takes them). Smaller scales mean fewer bits per ReLU and so fewer
 * constraints. Throws if no candidate qualifies, with every trial in the message.
 */
export function chooseScale(weights: MlpWeights, normalization: Normalization, test: Dataset, options: ChooseScaleOptions = {}): ScaleChoice {
  const { fracBitsCandidates = [4, 5, 6, 7, 8, 9, 10, 11, 12], maxAccuracyLoss = 0.01, ...quantizeOptions } = options
  const floatAccuracy = floatMlpAccuracy(foldNormalization(weights, normalization), test)
  const trials: ScaleTrial[] = []
  for (const fracBits of [...fracBitsCandidates].sort((a, b) => a - b)) {
    let model: QuantizedMlp
    try {
      model = quantizeMlp(weights, normalization, { ...quantizeOptions, fracBits })
    } catch (error) {
      trials.push({ fracBits, accuracy: NaN, refused: (error as Error).message })
      continue
    }
    const accuracy = quantizedAccuracy(model, test)
    trials.push({ fracBits, accuracy })
    if (accuracy > floatAccuracy - maxAccuracyLoss) {
      return { model, fracBits, floatAccuracy, quantizedAccuracy: accuracy, trials, maxAccuracyLoss }
    }
  }
  const tried = trials.map((t) => `2^${t.fracBits}: ${t.refused ?? (100 * t.accuracy).toFixed(2) + '%'}`).join(', ')
  throw new Error(`no scale keeps quantized accuracy within ${100 * maxAccuracyLoss} points of the float model's ${(100 * floatAccuracy).toFixed(2)}% (${tried})`)
}

export function quantizedAccuracy(model: QuantizedMlp, test: Dataset): number {
  let correct = 0
  for (let r = 0; r < test.count; r++) {
    const row = test.features.subarray(r * test.featureCount, (r + 1) * test.featureCount)
    if (inferQuantized(model, quantizeInput(model, row)).predicted === test.labels[r]) correct++
  }
  return test.count === 0 ? 0 : correct / test.count
}

/** Float64 forward pass of (already folded) weights on raw features; argmax of the last layer. */
export function floatMlpAccuracy(weights: MlpWeights, test: Dataset): number {
  let correct = 0
  for (let r = 0; r < test.count; r++) {
    let a: ArrayLike<number> = test.features.subarray(r * test.featureCount, (r + 1) * test.featureCount)
    weights.layers.forEach((layer, index) => {
      const z = new Float64Array(layer.units)
      for (let j = 0; j < layer.units; j++) {
        let sum = layer.bias[j]!
        for (let i = 0; i < layer.inputs; i++) sum += a[i]! * layer.kernel[i * layer.units + j]!
        z[j] = index < weights.layers.length - 1 && layer.activation === 'relu' ? Math.max(0, sum) : sum
      }
      a = z
    })
    if (argmax(a) === test.labels[r]) correct++
  }
  return test.count === 0 ? 0 : correct / test.count
}
