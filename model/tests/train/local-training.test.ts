import { beforeAll, describe, expect, it } from 'vitest'
import { epsilonForSteps } from '../../src/dp/rdp-accountant.ts'
import { initialWeights } from '../../src/nn/initial-weights.ts'
import { useBackend } from '../../src/nn/tf-backend.ts'
import { parseJobSpec, type JobSpec } from '../../src/spec/job-spec.ts'
import { evaluate } from '../../src/train/evaluate.ts'
import { prepareJobData, type JobData } from '../../src/train/job-data.ts'
import { trainLocally } from '../../src/train/local-training.ts'
import { modelEpsilon, planPrivacy, shardEpsilon, stepsPerEpoch } from '../../src/train/privacy-plan.ts'

const noStorage = { readObject: async () => Promise.reject(new Error('no storage in this test')) }

function mnistSpec(overrides: { training?: Partial<JobSpec['training']>; privacy?: JobSpec['privacy'] } = {}): JobSpec {
  return parseJobSpec({
    version: 1,
    dataset: { source: 'builtin', name: 'mnist' },
    model: { type: 'mlp', layers: [{ units: 32, activation: 'relu' }, { units: 10, activation: 'softmax' }] },
    training: { optimizer: 'momentum', learningRate: 0.05, batchSize: 32, localEpochs: 1, rounds: 3, shards: 20, testFraction: 0.1, ...overrides.training },
    ...(overrides.privacy ? { privacy: overrides.privacy } : {}),
  })
}

let data: JobData
beforeAll(async () => {
  expect(await useBackend('wasm')).toBe('wasm')
  data = await prepareJobData(mnistSpec(), 'local-training-test', noStorage)
})

describe('local training', () => {
  it('learns: three epochs on a 450-digit shard beat chance by far on held-out digits', async () => {
    const spec = mnistSpec({ training: { localEpochs: 3 } })
    const global = initialWeights(spec.model, 784, 'seed')
    const before = await evaluate(global, data.test)
    const progress: number[] = []
    const result = await trainLocally({ training: spec.training, global, shard: data.shard(0), privacy: null, onProgress: (p) => progress.push(p.step) })
    const after = await evaluate(result.weights, data.test)
    expect(before.accuracy).toBeLessThan(0.2)
    expect(after.accuracy).toBeGreaterThan(0.6)
    expect(result.sampleCount).toBe(450)
    expect(result.steps).toBe(3 * stepsPerEpoch(450, 32))
    expect(progress).toEqual(Array.from({ length: result.steps }, (_, i) => i + 1))
    expect(result.updateNorm).toBeGreaterThan(0)
  })

  it('with DP-SGD still learns, reports clipping, and differs from run to run (fresh noise)', async () => {
    const spec = mnistSpec({ training: { learningRate: 0.1, localEpochs: 3 } })
    const global = initialWeights(spec.model, 784, 'seed')
    const privacy = { noiseMultiplier: 0.8, clipNorm: 1 }
    const [a, b] = await Promise.all([0, 1].map(() => trainLocally({ training: spec.training, global, shard: data.shard(1), privacy })))
    expect((await evaluate(a!.weights, data.test)).accuracy).toBeGreaterThan(0.3)
    expect(a!.metrics.clippedFraction).toBeGreaterThan(0)
    expect(a!.weights.layers[0]!.kernel).not.toEqual(b!.weights.layers[0]!.kernel)
  })

  it('stops when its signal is aborted (a lost lease)', async () => {
    const spec = mnistSpec({ training: { localEpochs: 5 } })
    const abort = new AbortController()
    const run = trainLocally({
      training: spec.training,
      global: initialWeights(spec.model, 784, 'seed'),
      shard: data.shard(2),
      privacy: null,
      signal: abort.signal,
      onProgress: (p) => p.step === 3 && abort.abort(new Error('lease lost')),
    })
    await expect(run).rejects.toThrow('lease lost')
  })

  it('refuses a diverged update instead of delivering NaN weights', async () => {
    const spec = mnistSpec({ training: { optimizer: 'sgd', learningRate: 10 } })
    const global = initialWeights(spec.model, 784, 'seed')
    global.layers[0]!.kernel.fill(1e30)
    await expect(trainLocally({ training: spec.training, global, shard: data.shard(3), privacy: null })).rejects.toThrow(/diverged/)
  })
})

describe('privacy plan', () => {
  it('accounts each shard for rounds × epochs × ceil(n/B) Poisson steps at q = B/n', () => {
    const spec = mnistSpec({ privacy: { clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5 } })
    const plan = planPrivacy(spec, data.shardSizes)!
    expect(plan).toMatchObject({ noiseMultiplier: 1.1, clipNorm: 1, delta: 1e-5, derived: false })
    const expected = epsilonForSteps({ sampleRate: 32 / 450, noiseMultiplier: 1.1, steps: 2 * 1 * Math.ceil(450 / 32), delta: 1e-5 }).epsilon
    expect(shardEpsilon(plan, spec, 450, 2)).toBeCloseTo(expected, 10)
    expect(modelEpsilon(plan, spec, data.shardSizes, 2)).toBeCloseTo(expected, 10)
    expect(shardEpsilon(plan, spec, 450, 3)).toBeGreaterThan(expected)
  })

  it('derives σ from a target ε so that the whole job stays within it', () => {
    const spec = mnistSpec({ privacy: { clipNorm: 1, targetEpsilon: 3, delta: 1e-5 } })
    const plan = planPrivacy(spec, data.shardSizes)!
    expect(plan.derived).toBe(true)
    const spent = modelEpsilon(plan, spec, data.shardSizes, spec.training.rounds)
    expect(spent).toBeLessThanOrEqual(3)
    expect(spent).toBeGreaterThan(2.9)
  })

  it('is null without a privacy section (no DP)', () => {
    expect(planPrivacy(mnistSpec(), data.shardSizes)).toBeNull()
  })
})
