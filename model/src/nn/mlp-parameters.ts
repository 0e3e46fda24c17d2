import * as tf from '@tensorflow/tfjs'
import type { Activation } from '../spec/job-spec.ts'
import type { MlpWeights } from './mlp-weights.ts'

/** One forward pass, keeping what backprop needs: each layer's input a_l and pre-activation z_l. */
export interface MlpForward {
  layerInputs: tf.Tensor2D[]
  preActivations: tf.Tensor2D[]
  layerOutputs: tf.Tensor2D[]
}

let instances = 0

export function activate(z: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  switch (activation) {
    case 'relu': return tf.relu(z)
    case 'sigmoid': return tf.sigmoid(z)
    case 'tanh': return tf.tanh(z)
    case 'softmax': return tf.softmax(z)
    case 'linear': return z
  }
}

/**
 * An MLP's weights as TF.js variables, with a hand-written forward pass: training computes
 * gradients by explicit backprop (train/backprop.ts) so that DP-SGD gets every example's
 * layer inputs and deltas, which per-example clipping needs, from one batched pass.
 */
export class MlpParameters {
  readonly kernels: tf.Variable<tf.Rank.R2>[]
  readonly biases: tf.Variable<tf.Rank.R1>[]
  readonly activations: Activation[]
  private readonly layout: MlpWeights

  constructor(weights: MlpWeights) {
    // Variable names are global in a TF.js engine: a per-instance prefix lets several trainings
    // (tasks, tests) live in one process.
    const prefix = `mlp${++instances}`
    this.layout = weights
    this.kernels = weights.layers.map((layer) =>
      tf.variable(tf.tensor2d(layer.kernel, [layer.inputs, layer.units]), true, `${prefix}/${layer.name}/kernel`),
    )
    this.biases = weights.layers.map((layer) => tf.variable(tf.tensor1d(layer.bias), true, `${prefix}/${layer.name}/bias`))
    this.activations = weights.layers.map((layer) => layer.activation)
  }

  get layerCount(): number {
    return this.kernels.length
  }

  forward(x: tf.Tensor2D): MlpForward {
    const layerInputs: tf.Tensor2D[] = []
    const preActivations: tf.Tensor2D[] = []
    const layerOutputs: tf.Tensor2D[] = []
    let a = x
    for (let l = 0; l < this.layerCount; l++) {
      layerInputs.push(a)
      const z = tf.add(tf.matMul(a, this.kernels[l]!), this.biases[l]!) as tf.Tensor2D
      preActivations.push(z)
      a = activate(z, this.activations[l]!)
      layerOutputs.push(a)
    }
    return { layerInputs, preActivations, layerOutputs }
  }

  /** Class probabilities for a batch (the last layer is a softmax). */
  predict(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.forward(x).layerOutputs[this.layerCount - 1]!)
  }

  async toWeights(): Promise<MlpWeights> {
    const layers = await Promise.all(
      this.layout.layers.map(async (layer, l) => ({
        ...layer,
        kernel: (await this.kernels[l]!.data()) as Float32Array,
        bias: (await this.biases[l]!.data()) as Float32Array,
      })),
    )
    return { inputSize: this.layout.inputSize, layers }
  }

  dispose(): void {
    for (const v of [...this.kernels, ...this.biases]) v.dispose()
  }
}
