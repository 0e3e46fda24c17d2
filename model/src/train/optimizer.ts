import * as tf from '@tensorflow/tfjs'
import type { JobSpec } from '../spec/job-spec.ts'

/** The spec's optimizer. State starts fresh each round: FedAvg averages weights, not moments. */
export function createOptimizer(training: JobSpec['training']): tf.Optimizer {
  switch (training.optimizer) {
    case 'sgd': return tf.train.sgd(training.learningRate)
    // 0.9 is the momentum of Abadi et al.'s and Opacus' MNIST examples.
    case 'momentum': return tf.train.momentum(training.learningRate, 0.9)
    case 'adam': return tf.train.adam(training.learningRate)
  }
}
