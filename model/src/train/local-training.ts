import * as tf from '@tensorflow/tfjs'
import type { Dataset } from '../data/dataset.ts'
import { gaussianNoise } from '../dp/gaussian-noise.ts'
import { MlpParameters } from '../nn/mlp-parameters.ts'
import type { MlpWeights } from '../nn/mlp-weights.ts'
import type { JobSpec } from '../spec/job-spec.ts'
import { batchGradients } from './backprop.ts'
import { createOptimizer } from './optimizer.ts'
import { stepsPerEpoch } from './privacy-plan.ts'

export interface TrainingProgress {
  step: number
  steps: number
  epoch: number
  /** Mean training loss over the steps so far in this epoch. */
  loss: number
}

export interface LocalTrainingOptions {
  training: JobSpec['training']
  /** The round's global model: training starts from it. */
  global: MlpWeights
  /** This task's shard of the training set, already normalised. */
  shard: Dataset
  /** DP-SGD parameters, or null to train without differential privacy. */
  privacy: { noiseMultiplier: number; clipNorm: number } | null
  onProgress?: (progress: TrainingProgress) => void
  signal?: AbortSignal
}

export interface LocalTrainingResult {
  weights: MlpWeights
  sampleCount: number
  steps: number
  /** L2 norm of (weights − global): what the aggregation's update-norm bound checks. */
  updateNorm: number
  metrics: { loss: number; accuracy: number; clippedFraction?: number }
}

/** How long training may hold the thread before it lets timers (heartbeats, UI) run. */
const YIELD_EVERY_MS = 25

/**
 * Local training of one shard for `localEpochs`, starting from the global weights.
 *
 * Without DP: shuffled mini-batches of batchSize, mean gradient.
 * With DP-SGD (Abadi et al. 2016): each step samples a batch by POISSON sampling — every example
 * independently with probability q = batchSize / shardSize, from the platform's secure RNG —
 * because that is the sampling the RDP accountant (dp/rdp-accountant.ts) analyses; each example's
 * gradient is clipped to clipNorm, the sum gets N(0, (σ·C)²) noise per coordinate, and is divided
 * by the EXPECTED batch size. ceil(shardSize / batchSize) steps make an epoch (privacy-plan.ts).
 */
export async function trainLocally(options: LocalTrainingOptions): Promise<LocalTrainingResult> {
  const { training, shard, privacy } = options
  const classCount = options.global.layers[options.global.layers.length - 1]!.units
  if (shard.count === 0) throw new Error('Cannot train on an empty shard: the job has more shards than training examples.')
  if (shard.featureCount !== options.global.inputSize) {
    throw new Error(`The shard has ${shard.featureCount} features but the model expects ${options.global.inputSize}.`)
  }

  const params = new MlpParameters(options.global)
  const optimizer = createOptimizer(training)
  const perEpoch = stepsPerEpoch(shard.count, training.batchSize)
  const steps = perEpoch * training.localEpochs
  const sampleRate = Math.min(1, training.batchSize / shard.count)
  let lastYield = Date.now()
  let step = 0
  let epochLoss = 0
  let epochCorrect = 0
  let epochExamples = 0
  let clipped = 0
  let examplesSeen = 0

  try {
    for (let epoch = 1; epoch <= training.localEpochs; epoch++) {
      epochLoss = 0
      epochCorrect = 0
      epochExamples = 0
      const order = privacy ? null : secureShuffle(shard.count)
      for (let s = 0; s < perEpoch; s++) {
        options.signal?.throwIfAborted()
        const rows = order
          ? order.subarray(s * training.batchSize, Math.min(shard.count, (s + 1) * training.batchSize))
          : poissonSample(shard.count, sampleRate)
        const stats = tf.tidy(() => {
          const grads = rows.length > 0 ? gradientsFor(params, shard, rows, classCount, privacy?.clipNorm ?? null) : null
          const named: tf.NamedTensorMap = {}
          params.kernels.forEach((kernel, l) => {
            named[kernel.name] = finalGradient(grads?.kernels[l] ?? tf.zerosLike(kernel), privacy, training.batchSize, rows.length)
          })
          params.biases.forEach((bias, l) => {
            named[bias.name] = finalGradient(grads?.biases[l] ?? tf.zerosLike(bias), privacy, training.batchSize, rows.length)
          })
          optimizer.applyGradients(named)
          return grads ? tf.stack([grads.lossSum, grads.correct, grads.clipped ?? tf.scalar(0)]) : tf.zeros([3])
        })
        const [lossSum, correct, clippedCount] = (await stats.data()) as Float32Array
        stats.dispose()
        epochLoss += lossSum!
        epochCorrect += correct!
        epochExamples += rows.length
        clipped += clippedCount!
        examplesSeen += rows.length
        step++
        options.onProgress?.({ step, steps, epoch, loss: epochExamples > 0 ? epochLoss / epochExamples : 0 })
        if (Date.now() - lastYield >= YIELD_EVERY_MS) {
          await new Promise((resolve) => setTimeout(resolve, 0))
          lastYield = Date.now()
        }
      }
    }
    const weights = await params.toWeights()
    const updateNorm = distance(weights, options.global)
    if (!Number.isFinite(updateNorm)) {
      throw new Error('Training diverged: the update contains NaN or infinite weights. Lower spec.training.learningRate and create the job again.')
    }
    return {
      weights,
      sampleCount: shard.count,
      steps,
      updateNorm,
      metrics: {
        loss: epochExamples > 0 ? epochLoss / epochExamples : Number.NaN,
        accuracy: epochExamples > 0 ? epochCorrect / epochExamples : Number.NaN,
        ...(privacy ? { clippedFraction: examplesSeen > 0 ? clipped / examplesSeen : 0 } : {}),
      },
    }
  } finally {
    params.dispose()
    optimizer.dispose()
  }
}

function gradientsFor(
  params: MlpParameters,
  shard: Dataset,
  rows: Uint32Array,
  classCount: number,
  clipNorm: number | null,
) {
  const f = shard.featureCount
  const features = new Float32Array(rows.length * f)
  const oneHot = new Float32Array(rows.length * classCount)
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    features.set(shard.features.subarray(row * f, (row + 1) * f), i * f)
    oneHot[i * classCount + shard.labels[row]!] = 1
  }
  const x = tf.tensor2d(features, [rows.length, f])
  const y = tf.tensor2d(oneHot, [rows.length, classCount])
  return batchGradients(params, x, y, clipNorm)
}

/** DP: noisy clipped sum / expected batch size. Otherwise: the batch mean. */
function finalGradient<T extends tf.Tensor>(
  sum: T,
  privacy: LocalTrainingOptions['privacy'],
  batchSize: number,
  actualBatch: number,
): T {
  if (!privacy) return tf.div(sum, Math.max(1, actualBatch))
  const noise = tf.tensor(gaussianNoise(sum.size, privacy.noiseMultiplier * privacy.clipNorm), sum.shape)
  return tf.div(tf.add(sum, noise), batchSize)
}

function secureRandomFloats(count: number): Float64Array {
  const words = new Uint32Array(count)
  for (let offset = 0; offset < count; offset += 16384) {
    globalThis.crypto.getRandomValues(words.subarray(offset, Math.min(count, offset + 16384)))
  }
  return Float64Array.from(words, (w) => w / 4294967296)
}

/** Each index in [0, n) independently with probability q. */
function poissonSample(n: number, q: number): Uint32Array {
  const draws = secureRandomFloats(n)
  const picked: number[] = []
  for (let i = 0; i < n; i++) if (draws[i]! < q) picked.push(i)
  return Uint32Array.from(picked)
}

/** A uniformly random permutation of [0, n) (Fisher–Yates). */
function secureShuffle(n: number): Uint32Array {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  const draws = secureRandomFloats(n)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(draws[i]! * (i + 1))
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  return order
}

function distance(a: MlpWeights, b: MlpWeights): number {
  let sum = 0
  a.layers.forEach((layer, l) => {
    const other = b.layers[l]!
    for (let k = 0; k < layer.kernel.length; k++) sum += (layer.kernel[k]! - other.kernel[k]!) ** 2
    for (let k = 0; k < layer.bias.length; k++) sum += (layer.bias[k]! - other.bias[k]!) ** 2
  })
  return Math.sqrt(sum)
}
