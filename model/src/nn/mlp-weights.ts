import type { Activation } from '../spec/job-spec.ts'

/**
 * The weights of a trained MLP in plain typed arrays: what the update codec sends, FedAvg
 * averages and every exporter writes. Layout follows Keras/TF.js Dense: `kernel` is row-major
 * `[inputs, units]` (y = x·kernel + bias), so it is ONNX Gemm's B with transB = 0 and the
 * transpose of PyTorch's nn.Linear.weight `[units, inputs]`.
 */
export interface DenseLayerWeights {
  /** Stable layer name used by every format: `dense`, `dense_1`, … (Keras' default naming). */
  name: string
  inputs: number
  units: number
  activation: Activation
  kernel: Float32Array
  bias: Float32Array
}

export interface MlpWeights {
  inputSize: number
  layers: DenseLayerWeights[]
}

/** Keras' default names: the first Dense layer is `dense`, then `dense_1`, `dense_2`, … */
export function denseLayerName(index: number): string {
  return index === 0 ? 'dense' : `dense_${index}`
}

/** Input normalisation fitted on the training data: x' = (x − offset) · scale, per feature. */
export interface Normalization {
  kind: 'none' | 'minmax' | 'standard'
  offset: Float32Array
  scale: Float32Array
}

/** Everything an exporter needs: weights, preprocessing, labels, and what the model cost. */
export interface TrainedModel {
  name: string
  weights: MlpWeights
  normalization: Normalization
  /** classNames[i] is the label of output i. */
  classNames: string[]
  featureNames: string[]
  /** (ε, δ) spent; null ε means trained without differential privacy. */
  privacy: { epsilon: number | null; delta: number | null }
  metrics: Record<string, number>
  jobId?: string
  rounds?: number
}
