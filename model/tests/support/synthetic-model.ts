import type { Activation } from '../../src/spec/job-spec.ts'
import type { TrainedModel } from '../../src/nn/mlp-weights.ts'
import { denseLayerName } from '../../src/nn/mlp-weights.ts'

/**
 * A small untrained MLP with deterministic pseudo-random weights and a min-max normalisation:
 * for checking that every activation survives an export, which the MNIST model (relu, softmax)
 * cannot show. `sizes` = [inputs, units of layer 1, …].
 */
export function syntheticModel(sizes: number[], activations: Activation[]): TrainedModel {
  let seed = 12345
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1
  const inputSize = sizes[0]!
  const layers = activations.map((activation, index) => {
    const inputs = sizes[index]!
    const units = sizes[index + 1]!
    return {
      name: denseLayerName(index),
      inputs,
      units,
      activation,
      kernel: Float32Array.from({ length: inputs * units }, next),
      bias: Float32Array.from({ length: units }, next),
    }
  })
  return {
    name: 'synthetic',
    weights: { inputSize, layers },
    normalization: {
      kind: 'minmax',
      offset: Float32Array.from({ length: inputSize }, (_, i) => i - 1),
      scale: Float32Array.from({ length: inputSize }, (_, i) => 1 / (i + 2)),
    },
    classNames: Array.from({ length: sizes[sizes.length - 1]! }, (_, i) => `class ${i}`),
    featureNames: Array.from({ length: inputSize }, (_, i) => `feature ${i}`),
    privacy: { epsilon: 1, delta: 1e-6 },
    metrics: { accuracy: 0.5 },
  }
}

/** `count` rows of raw features spread over a few units either side of the offsets. */
export function syntheticInputs(inputSize: number, count: number): Float32Array {
  return Float32Array.from({ length: inputSize * count }, (_, k) => ((k * 37) % 23) / 3 - 3)
}
