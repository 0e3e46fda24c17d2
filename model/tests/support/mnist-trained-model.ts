import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import type { TrainedModel } from '../../src/nn/mlp-weights.ts'

/**
 * A small real model for the exporter tests: a 784-32-10 relu/softmax MLP trained with tfjs on
 * 2,000 real MNIST digits standardised per pixel, plus 1,000 held-out digits. The
 * standardisation is deliberately non-trivial (a different offset and scale per pixel) so that
 * exports, which take RAW pixels, only agree with the model if the folding is right.
 * Deterministic: seeded initialisers, no shuffling, digits taken in file order.
 */
export interface MnistFixture {
  /** The tfjs model as trained: takes NORMALISED pixels. */
  tfModel: tf.LayersModel
  /** The same model as the exporters receive it. */
  trained: TrainedModel
  test: { count: number; raw: Float32Array; normalized: Float32Array; labels: Int32Array }
}

const PIXELS = 784
const CLASSES = 10
/** Pixels that are (almost) always blank get scale 1/STD_FLOOR rather than 1/≈0. */
const STD_FLOOR = 0.05

export async function trainMnistFixture(
  options: { trainPerClass?: number; testPerClass?: number; epochs?: number } = {},
): Promise<MnistFixture> {
  const { trainPerClass = 200, testPerClass = 100, epochs = 3 } = options
  await tf.setBackend('cpu')
  const digits = loadDigits(trainPerClass + testPerClass)
  const train = interleave(digits, 0, trainPerClass)
  const test = interleave(digits, trainPerClass, testPerClass)

  const { offset, scale } = standardize(train.pixels, train.count)
  const normalize = (pixels: Float32Array) =>
    pixels.map((x, k) => (x - offset[k % PIXELS]!) * scale[k % PIXELS]!)

  const tfModel = tf.sequential({
    layers: [
      tf.layers.dense({
        name: 'dense',
        inputShape: [PIXELS],
        units: 32,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
      }),
      tf.layers.dense({
        name: 'dense_1',
        units: CLASSES,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }),
      }),
    ],
  })
  tfModel.compile({ optimizer: tf.train.adam(0.003), loss: 'sparseCategoricalCrossentropy' })
  const xs = tf.tensor2d(normalize(train.pixels), [train.count, PIXELS])
  const ys = tf.tensor1d(train.labels, 'float32')
  await tfModel.fit(xs, ys, { epochs, batchSize: 64, shuffle: false, verbose: 0 })
  tf.dispose([xs, ys])

  const layers = tfModel.layers.map((layer, index) => {
    const [kernel, bias] = layer.getWeights()
    const [inputs, units] = kernel!.shape as [number, number]
    return {
      name: layer.name,
      inputs,
      units,
      activation: index === 0 ? ('relu' as const) : ('softmax' as const),
      kernel: Float32Array.from(kernel!.dataSync()),
      bias: Float32Array.from(bias!.dataSync()),
    }
  })
  const trained: TrainedModel = {
    name: 'mnist-export-fixture',
    weights: { inputSize: PIXELS, layers },
    normalization: { kind: 'standard', offset, scale },
    classNames: Array.from({ length: CLASSES }, (_, d) => String(d)),
    featureNames: Array.from({ length: PIXELS }, (_, k) => `pixel_${k}`),
    privacy: { epsilon: 3.5, delta: 1e-5 },
    metrics: { accuracy: 0.9, loss: 0.31 },
    jobId: 'job-123',
    rounds: 3,
  }
  return {
    tfModel,
    trained,
    test: { count: test.count, raw: test.pixels, normalized: normalize(test.pixels), labels: test.labels },
  }
}

/** The model's own predictions (on normalised pixels) as one flat [count, classes] array. */
export function predictTrained(fixture: MnistFixture): Float32Array {
  const { count, normalized } = fixture.test
  return tf.tidy(() => {
    const out = fixture.tfModel.predict(tf.tensor2d(normalized, [count, PIXELS])) as tf.Tensor
    return Float32Array.from(out.dataSync())
  })
}

/** `count` digits of each class, in the order the package stores them. */
function loadDigits(count: number): Float32Array[] {
  const root = dirname(createRequire(import.meta.url).resolve('mnist/package.json'))
  return Array.from({ length: CLASSES }, (_, d) => {
    const { data } = JSON.parse(readFileSync(join(root, 'src', 'digits', `${d}.json`), 'utf8')) as {
      data: number[]
    }
    return Float32Array.from(data.slice(0, count * PIXELS))
  })
}

/** Digits [from, from + perClass) of every class, round-robin so every batch mixes classes. */
function interleave(digits: Float32Array[], from: number, perClass: number) {
  const count = perClass * CLASSES
  const pixels = new Float32Array(count * PIXELS)
  const labels = new Int32Array(count)
  for (let i = 0; i < perClass; i++) {
    for (let d = 0; d < CLASSES; d++) {
      const row = i * CLASSES + d
      pixels.set(digits[d]!.subarray((from + i) * PIXELS, (from + i + 1) * PIXELS), row * PIXELS)
      labels[row] = d
    }
  }
  return { count, pixels, labels }
}

function standardize(pixels: Float32Array, count: number) {
  const offset = new Float32Array(PIXELS)
  const scale = new Float32Array(PIXELS)
  for (let k = 0; k < PIXELS; k++) {
    let sum = 0
    let squares = 0
    for (let r = 0; r < count; r++) {
      const x = pixels[r * PIXELS + k]!
      sum += x
      squares += x * x
    }
    const mean = sum / count
    const std = Math.sqrt(Math.max(0, squares / count - mean * mean))
    offset[k] = mean
    scale[k] = 1 / Math.max(std, STD_FLOOR)
  }
  return { offset, scale }
}
