import * as tf from '@tensorflow/tfjs'
import type { Dataset } from '../data/dataset.ts'
import { MlpParameters } from '../nn/mlp-parameters.ts'
import type { MlpWeights } from '../nn/mlp-weights.ts'

export interface Evaluation {
  accuracy: number
  /** Mean cross-entropy. */
  loss: number
  count: number
}

/** Accuracy and mean cross-entropy of `weights` on a (normalised) data set, 1,000 rows at a time. */
export async function evaluate(weights: MlpWeights, data: Dataset, batchSize = 1000): Promise<Evaluation> {
  if (data.count === 0) return { accuracy: Number.NaN, loss: Number.NaN, count: 0 }
  const params = new MlpParameters(weights)
  let correct = 0
  let lossSum = 0
  try {
    for (let start = 0; start < data.count; start += batchSize) {
      const end = Math.min(data.count, start + batchSize)
      const [batchCorrect, batchLoss] = tf.tidy(() => {
        const x = tf.tensor2d(data.features.subarray(start * data.featureCount, end * data.featureCount), [end - start, data.featureCount])
        const labels = tf.tensor1d(data.labels.subarray(start, end), 'int32')
        const probabilities = params.predict(x)
        const picked = tf.sum(tf.mul(tf.oneHot(labels, probabilities.shape[1]), probabilities), 1)
        // 1e-7: a zero probability would make one example's loss infinite.
        const loss = tf.neg(tf.sum(tf.log(tf.add(picked, 1e-7))))
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(probabilities, 1), labels), 'float32'))
        return [hits, loss] as const
      })
      correct += (await batchCorrect.data())[0]!
      lossSum += (await batchLoss.data())[0]!
      batchCorrect.dispose()
      batchLoss.dispose()
    }
  } finally {
    params.dispose()
  }
  return { accuracy: correct / data.count, loss: lossSum / data.count, count: data.count }
}
