import { initialWeights, loadBuiltinDataset, parseJobSpec, selectRows, trainLocally, useBackend, type BackendName } from '@oblivion/model'

export interface LocalStepMeasurement {
  backend: BackendName
  nonPrivateSamplesPerSecond: number
  dpSgdSamplesPerSecond: number
  /** DP-SGD step time / non-private step time (target ≤ 2). */
  dpOverhead: number
}

/**
 * Local training throughput on 784-128-10 at batch 64, the sample job's model: one epoch over
 * `examples` MNIST digits per measurement, after a warm-up epoch (kernel compilation, caches).
 * DP-SGD processes the same expected number of examples (Poisson batches of expected size 64).
 */
export async function measureLocalStep(backend: BackendName, examples: number): Promise<LocalStepMeasurement> {
  const actual = await useBackend(backend)
  if (actual !== backend) throw new Error(`backend ${backend} is not available here (got ${actual})`)
  const mnist = await loadBuiltinDataset('mnist')
  const shard = selectRows(mnist, Array.from({ length: examples }, (_, i) => (i * 7919) % mnist.count))
  const spec = parseJobSpec({
    version: 1,
    dataset: { source: 'builtin', name: 'mnist' },
    model: { type: 'mlp', layers: [{ units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' }] },
    training: { optimizer: 'sgd', learningRate: 0.05, batchSize: 64, localEpochs: 1, rounds: 1, shards: 1 },
  })
  const global = initialWeights(spec.model, 784, 'bench')
  const run = async (privacy: { noiseMultiplier: number; clipNorm: number } | null) => {
    const started = performance.now()
    const result = await trainLocally({ training: spec.training, global, shard, privacy })
    return (result.steps * spec.training.batchSize) / ((performance.now() - started) / 1000)
  }
  await run(null) // warm-up
  await run({ noiseMultiplier: 1, clipNorm: 1 })
  const nonPrivate = await run(null)
  const dp = await run({ noiseMultiplier: 1, clipNorm: 1 })
  return {
    backend,
    nonPrivateSamplesPerSecond: Math.round(nonPrivate),
    dpSgdSamplesPerSecond: Math.round(dp),
    dpOverhead: Number((nonPrivate / dp).toFixed(3)),
  }
}
