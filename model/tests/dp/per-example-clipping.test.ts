import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { randomFromSeed } from '../../src/data/seeded-random.ts'
import { activate, MlpParameters } from '../../src/nn/mlp-parameters.ts'
import type { MlpWeights } from '../../src/nn/mlp-weights.ts'
import { useBackend } from '../../src/nn/tf-backend.ts'
import type { Activation } from '../../src/spec/job-spec.ts'
import { batchGradients } from '../../src/train/backprop.ts'

beforeAll(async () => {
  await useBackend('cpu')
})

function smallModel(seed: string, hidden: Activation[]): MlpWeights {
  const random = randomFromSeed(seed)
  const sizes = [5, ...hidden.map((_, i) => 4 + i), 3]
  const activations = [...hidden, 'softmax' as const]
  return {
    inputSize: 5,
    layers: activations.map((activation, l) => {
      const inputs = sizes[l]!
      const units = sizes[l + 1]!
      return {
        name: l === 0 ? 'dense' : `dense_${l}`,
        inputs,
        units,
        activation,
        kernel: Float32Array.from({ length: inputs * units }, () => random() * 2 - 1),
        bias: Float32Array.from({ length: units }, () => random() - 0.5),
      }
    }),
  }
}

/** The naive reference: one example at a time through TF.js autodiff, clip, sum. */
function naiveClippedSum(weights: MlpWeights, xs: number[][], labels: number[], clipNorm: number) {
  const kernels = weights.layers.map((l) => tf.variable(tf.tensor2d(l.kernel, [l.inputs, l.units])))
  const biases = weights.layers.map((l) => tf.variable(tf.tensor1d(l.bias)))
  const variables = [...kernels, ...biases]
  const sums = variables.map((v) => new Float64Array(v.size))
  for (let i = 0; i < xs.length; i++) {
    const { grads } = tf.variableGrads(() => {
      let a: tf.Tensor2D = tf.tensor2d([xs[i]!])
      weights.layers.forEach((layer, l) => {
        const z = tf.add(tf.matMul(a, kernels[l]!), biases[l]!) as tf.Tensor2D
        a = l === weights.layers.length - 1 ? z : activate(z, layer.activation)
      })
      return tf.losses.softmaxCrossEntropy(tf.oneHot([labels[i]!], 3), a, undefined, 0, tf.Reduction.SUM) as tf.Scalar
    }, variables)
    const flat = variables.map((v) => Float32Array.from(grads[v.name]!.dataSync()))
    const norm = Math.sqrt(flat.reduce((s, g) => s + g.reduce((t, x) => t + x * x, 0), 0))
    const factor = Math.min(1, clipNorm / norm)
    flat.forEach((g, k) => g.forEach((x, j) => (sums[k]![j]! += x * factor)))
    Object.values(grads).forEach((g) => g.dispose())
  }
  variables.forEach((v) => v.dispose())
  return sums
}

describe('per-example clipping from activations and deltas', () => {
  for (const hidden of [['relu'], ['tanh', 'sigmoid'], ['linear', 'softmax']] as Activation[][]) {
    it(`equals clipping each one-example gradient (hidden layers: ${hidden.join(', ')})`, () => {
      const weights = smallModel(hidden.join(), hidden)
      const random = randomFromSeed(`data-${hidden.join()}`)
      const xs = Array.from({ length: 12 }, () => Array.from({ length: 5 }, () => random() * 4 - 2))
      const labels = xs.map((_, i) => i % 3)
      // A clip norm small enough that most examples are clipped, so the factors matter.
      const clipNorm = 0.5
      const expected = naiveClippedSum(weights, xs, labels, clipNorm)

      const params = new MlpParameters(weights)
      const actual = tf.tidy(() => {
        const grads = batchGradients(params, tf.tensor2d(xs), tf.oneHot(labels, 3).toFloat() as tf.Tensor2D, clipNorm)
        expect(grads.clipped!.dataSync()[0]).toBeGreaterThan(0)
        return [...grads.kernels, ...grads.biases].map((g) => g.dataSync())
      })
      params.dispose()
      actual.forEach((values, k) => {
        expect(values.length).toBe(expected[k]!.length)
        values.forEach((value, j) => expect(value).toBeCloseTo(expected[k]![j]!, 4))
      })
    })
  }

  it('without clipping equals the summed autodiff gradient', () => {
    const weights = smallModel('plain', ['relu'])
    const xs = [[1, 2, 3, 4, 5], [-1, 0.5, 0, 2, -3]]
    const expected = naiveClippedSum(weights, xs, [0, 2], Number.POSITIVE_INFINITY)
    const params = new MlpParameters(weights)
    const actual = tf.tidy(() => {
      const grads = batchGradients(params, tf.tensor2d(xs), tf.oneHot([0, 2], 3).toFloat() as tf.Tensor2D, null)
      expect(grads.clipped).toBeNull()
      return [...grads.kernels, ...grads.biases].map((g) => g.dataSync())
    })
    params.dispose()
    actual.forEach((values, k) => values.forEach((value, j) => expect(value).toBeCloseTo(expected[k]![j]!, 4)))
  })
})
