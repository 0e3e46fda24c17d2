import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkJobSpec } from '../../model/src/spec/job-spec.ts'
import type { Database } from '../src/db/database.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'

// The database (internal.validate_job_spec) and every client (checkJobSpec, the zod schema in
// model/) must agree on what a job spec is: each spec below goes to both, and both must accept
// it, or both refuse it naming the same field first. Each case states that field, so a rule
// that both sides dropped fails too.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Spec = { [key: string]: any }

function base(): Spec {
  return {
    version: 1,
    name: 'MNIST digits',
    dataset: { source: 'builtin', name: 'mnist' },
    model: { type: 'mlp', layers: [{ units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' }] },
    training: { optimizer: 'sgd', learningRate: 0.1, batchSize: 64, localEpochs: 1, rounds: 3, shards: 4, testFraction: 0.1 },
    privacy: { clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5 },
  }
}

const csv = (overrides: Spec = {}): Spec => ({
  source: 'csv', bucket: 'datasets', path: 'owner/penguins.csv', featureColumns: ['bill_length', 'bill_depth'], labelColumn: 'species', ...overrides,
})

/** The base spec with one change; the change may return a whole new value (for non-objects). */
function spec(change: (s: Spec) => unknown = () => {}): string {
  const s = base()
  const replaced = change(s)
  return JSON.stringify(replaced === undefined ? s : replaced)
}

const encoder = new TextEncoder()

/** A valid CSV spec whose JSON.stringify is exactly `bytes` long (featureColumns padded). */
function specOfSize(bytes: number): string {
  const s = base()
  s.dataset = csv({ featureColumns: [] })
  s.privacy.delta = 1e-7 // jsonb prints it as 0.0000001: the sizes must still count "1e-7"
  const column = (i: number) => `feature_${String(i).padStart(4, '0')}`
  let text = JSON.stringify(s)
  while (encoder.encode(text).length < bytes - 20) {
    s.dataset.featureColumns.push(column(s.dataset.featureColumns.length))
    text = JSON.stringify(s)
  }
  const missing = bytes - encoder.encode(text).length - 3 // `,""` around the last column
  s.dataset.featureColumns.push('x'.repeat(missing))
  text = JSON.stringify(s)
  expect(encoder.encode(text).length).toBe(bytes)
  return text
}

// [what, the spec as JSON text (null: no spec), the field named first, or null when valid]
const CASES: Array<[string, string | null, string | null]> = [
  // ---------------------------------------------------------------- valid
  ['the README example', spec((s) => {
    s.description = 'Handwritten digits, 4 shards'
    s.model.normalization = 'minmax'
    s.aggregation = { strategy: 'fedavg', updateNormBound: 5 }
  }), null],
  ['a spec without privacy (no differential privacy)', spec((s) => void delete s.privacy), null],
  ['a target ε instead of σ', spec((s) => void (s.privacy = { clipNorm: 1, targetEpsilon: 3, delta: 1e-5 })), null],
  ['a CSV data set', spec((s) => void (s.dataset = csv())), null],
  ['MNIST at 14×14 (mnist-14x14, for ZK proofs of inference)', spec((s) => void (s.dataset.name = 'mnist-14x14')), null],
  ['the sample job mnist-zk.json (196-16-10 on mnist-14x14)', readFileSync(new URL('../../sample_job/jobs/mnist-zk.json', import.meta.url), 'utf8'), null],
  ['a trimmed mean with its trim fraction', spec((s) => void (s.aggregation = { strategy: 'trimmed_mean', trimFraction: 0.45 })), null],
  ['the median, standardised inputs', spec((s) => {
    s.aggregation = { strategy: 'median' }
    s.model.normalization = 'standard'
  }), null],
  ['minShardFraction 1 (every shard)', spec((s) => void (s.training.minShardFraction = 1)), null],
  ['minShardFraction 0.5', spec((s) => void (s.training.minShardFraction = 0.5)), null],
  ['every bound at its edge', spec((s) => {
    s.model.layers = [...Array.from({ length: 15 }, () => ({ units: 4096, activation: 'tanh' })), { units: 1, activation: 'softmax' }]
    s.training = { optimizer: 'adam', learningRate: 10, batchSize: 4096, localEpochs: 100, rounds: 1000, shards: 100, testFraction: 0.5 }
    s.privacy = { clipNorm: 100, noiseMultiplier: 100, delta: 0.01 }
  }), null],
  ['no test split, one shard, one round', spec((s) => {
    s.training = { optimizer: 'momentum', learningRate: 1e-6, batchSize: 1, localEpochs: 1, rounds: 1, shards: 10000, testFraction: 0 }
  }), null],
  ['a name of 120 characters outside the BMP (240 UTF-16 units)', spec((s) => void (s.name = '🧠'.repeat(120))), null],
  ['exactly 16384 bytes of JSON', specOfSize(16384), null],
  ['a δ written with more digits than a double holds', spec().replace('0.00001', '0.0000100000000000000000001'), null],
  ['a whole number written with a fraction', spec().replace('"batchSize":64', '"batchSize":64.000'), null],

  // ---------------------------------------------------------------- the spec itself
  ['no spec at all', null, 'spec'],
  ['a list instead of an object', '[1, 2]', 'spec'],
  ['version 2', spec((s) => void (s.version = 2)), 'spec.version'],
  ['a misspelt top-level field', spec((s) => void (s.traning = s.training)), 'spec.traning'],
  ['an empty name', spec((s) => void (s.name = '')), 'spec.name'],
  ['a name of 121 characters', spec((s) => void (s.name = 'n'.repeat(121))), 'spec.name'],
  ['a description of 2001 characters', spec((s) => void (s.description = 'd'.repeat(2001))), 'spec.description'],
  ['16385 bytes of JSON', specOfSize(16385), 'spec'],

  // ---------------------------------------------------------------- dataset
  ['no dataset', spec((s) => void delete s.dataset), 'spec.dataset'],
  ['a dataset from an unknown source', spec((s) => void (s.dataset = { source: 'url', name: 'mnist' })), 'spec.dataset.source'],
  ['an unknown builtin data set', spec((s) => void (s.dataset.name = 'imagenet')), 'spec.dataset.name'],
  ['a builtin name with the wrong case (MNIST-14x14)', spec((s) => void (s.dataset.name = 'MNIST-14x14')), 'spec.dataset.name'],
  ['a builtin data set with a bucket', spec((s) => void (s.dataset.bucket = 'datasets')), 'spec.dataset.bucket'],
  ['a CSV without a label column', spec((s) => void (s.dataset = csv({ labelColumn: undefined }))), 'spec.dataset.labelColumn'],
  ['a CSV bucket name of 64 characters', spec((s) => void (s.dataset = csv({ bucket: 'b'.repeat(64) }))), 'spec.dataset.bucket'],
  ['a CSV without feature columns', spec((s) => void (s.dataset = csv({ featureColumns: [] }))), 'spec.dataset.featureColumns'],
  ['4097 feature columns', spec((s) => void (s.dataset = csv({ featureColumns: Array.from({ length: 4097 }, (_, i) => `f${i}`) }))), 'spec.dataset.featureColumns'],
  ['a feature column that is a number', spec((s) => void (s.dataset = csv({ featureColumns: ['x', 7] }))), 'spec.dataset.featureColumns[1]'],
  ['a CSV with a builtin name', spec((s) => void (s.dataset = csv({ name: 'mnist' }))), 'spec.dataset.name'],

  // ---------------------------------------------------------------- model
  ['a model type other than mlp', spec((s) => void (s.model.type = 'cnn')), 'spec.model.type'],
  ['no layers', spec((s) => void (s.model.layers = [])), 'spec.model.layers'],
  ['17 layers', spec((s) => void (s.model.layers = Array.from({ length: 17 }, () => ({ units: 8, activation: 'softmax' })))), 'spec.model.layers'],
  ['a layer of 0 units', spec((s) => void (s.model.layers[0].units = 0)), 'spec.model.layers[0].units'],
  ['a layer of 1.5 units', spec((s) => void (s.model.layers[0].units = 1.5)), 'spec.model.layers[0].units'],
  ['an unknown activation', spec((s) => void (s.model.layers[0].activation = 'gelu')), 'spec.model.layers[0].activation'],
  ['a layer with dropout', spec((s) => void (s.model.layers[0].dropout = 0.5)), 'spec.model.layers[0].dropout'],
  ['a last layer that is not softmax', spec((s) => void (s.model.layers[1].activation = 'relu')), 'spec.model.layers[1].activation'],
  ['one sigmoid layer', spec((s) => void (s.model.layers = [{ units: 1, activation: 'sigmoid' }])), 'spec.model.layers[0].activation'],
  ['an unknown normalization', spec((s) => void (s.model.normalization = 'zscore')), 'spec.model.normalization'],

  // ---------------------------------------------------------------- training
  ['an unknown optimizer', spec((s) => void (s.training.optimizer = 'lbfgs')), 'spec.training.optimizer'],
  ['a learning rate of 0', spec((s) => void (s.training.learningRate = 0)), 'spec.training.learningRate'],
  ['a learning rate of 10.5', spec((s) => void (s.training.learningRate = 10.5)), 'spec.training.learningRate'],
  ['a learning rate that reads as 0 in JavaScript', spec().replace('"learningRate":0.1', '"learningRate":1e-400'), 'spec.training.learningRate'],
  ['a batch size as text', spec((s) => void (s.training.batchSize = '64')), 'spec.training.batchSize'],
  ['101 local epochs', spec((s) => void (s.training.localEpochs = 101)), 'spec.training.localEpochs'],
  ['0 rounds', spec((s) => void (s.training.rounds = 0)), 'spec.training.rounds'],
  ['rounds beyond any double', spec().replace('"rounds":3', '"rounds":1e400'), 'spec.training.rounds'],
  ['10001 shards', spec((s) => void (s.training.shards = 10001)), 'spec.training.shards'],
  ['1000 rounds × 101 shards', spec((s) => void Object.assign(s.training, { rounds: 1000, shards: 101 })), 'spec.training.shards'],
  ['a test fraction of 0.6', spec((s) => void (s.training.testFraction = 0.6)), 'spec.training.testFraction'],
  ['minShardFraction 0', spec((s) => void (s.training.minShardFraction = 0)), 'spec.training.minShardFraction'],
  ['minShardFraction 1.5', spec((s) => void (s.training.minShardFraction = 1.5)), 'spec.training.minShardFraction'],
  ['an unknown training field', spec((s) => void (s.training.epochs = 3)), 'spec.training.epochs'],

  // ---------------------------------------------------------------- privacy
  ['privacy: null', spec((s) => void (s.privacy = null)), 'spec.privacy'],
  ['no clip norm', spec((s) => void delete s.privacy.clipNorm), 'spec.privacy.clipNorm'],
  ['a clip norm of 0', spec((s) => void (s.privacy.clipNorm = 0)), 'spec.privacy.clipNorm'],
  ['both σ and a target ε', spec((s) => void (s.privacy.targetEpsilon = 1)), 'spec.privacy.noiseMultiplier'],
  ['neither σ nor a target ε', spec((s) => void delete s.privacy.noiseMultiplier), 'spec.privacy.noiseMultiplier'],
  ['a target ε of 0', spec((s) => void (s.privacy = { clipNorm: 1, targetEpsilon: 0, delta: 1e-5 })), 'spec.privacy.targetEpsilon'],
  ['a δ of 0.02', spec((s) => void (s.privacy.delta = 0.02)), 'spec.privacy.delta'],
  ['no δ', spec((s) => void delete s.privacy.delta), 'spec.privacy.delta'],
  ['an ε field', spec((s) => void (s.privacy.epsilon = 1)), 'spec.privacy.epsilon'],

  // ---------------------------------------------------------------- aggregation
  ['an unknown strategy', spec((s) => void (s.aggregation = { strategy: 'krum' })), 'spec.aggregation.strategy'],
  ['a trimmed mean without its trim fraction', spec((s) => void (s.aggregation = { strategy: 'trimmed_mean' })), 'spec.aggregation.trimFraction'],
  ['a trim fraction for fedavg', spec((s) => void (s.aggregation = { strategy: 'fedavg', trimFraction: 0.1 })), 'spec.aggregation.trimFraction'],
  ['a trim fraction of 0.5', spec((s) => void (s.aggregation = { strategy: 'trimmed_mean', trimFraction: 0.5 })), 'spec.aggregation.trimFraction'],
  ['an update norm bound of 0', spec((s) => void (s.aggregation = { strategy: 'fedavg', updateNormBound: 0 })), 'spec.aggregation.updateNormBound'],

  // ---------------------------------------------------------------- several problems: the same one first
  ['an unknown field and a bad version', spec((s) => void Object.assign(s, { extra: 1, version: 2 })), 'spec.version'],
  ['a relu output and a batch size of 0', spec((s) => {
    s.model.layers[1].activation = 'relu'
    s.training.batchSize = 0
  }), 'spec.model.layers[1].activation'],
  ['too many tasks and a bad δ', spec((s) => {
    Object.assign(s.training, { rounds: 1000, shards: 1000 })
    s.privacy.delta = 9
  }), 'spec.training.shards'],
  ['a layer with an unknown field and a relu output', spec((s) => {
    s.model.layers[0].extra = 1
    s.model.layers[1].activation = 'relu'
  }), 'spec.model.layers[0].extra'],
  ['both σ and ε, and δ too big', spec((s) => void Object.assign(s.privacy, { targetEpsilon: 1, delta: 1 })), 'spec.privacy.delta'],
  ['a trimmed mean without fraction and an unknown field', spec((s) => void (s.aggregation = { strategy: 'trimmed_mean', foo: 1 })), 'spec.aggregation.foo'],
  ['an oversized spec with version 3', spec((s) => {
    s.version = 3
    s.dataset = csv({ featureColumns: Array.from({ length: 3000 }, (_, i) => `column_${i}`) })
  }), 'spec.version'],
  ['no training and an unknown field', spec((s) => {
    delete s.training
    s.zzz = 1
  }), 'spec.training'],
]

type Verdict = { accepted: true } | { accepted: false; field: string }

function zodVerdict(json: string | null): Verdict {
  const checked = checkJobSpec(json === null ? null : (JSON.parse(json) as Json))
  return checked.ok ? { accepted: true } : { accepted: false, field: checked.issues[0]!.path }
}

async function sqlVerdict(db: Database, json: string | null): Promise<Verdict> {
  try {
    await db.query('select internal.validate_job_spec($1::jsonb)', [json])
    return { accepted: true }
  } catch (error) {
    const { code, detail } = error as { code?: string; detail?: string }
    if (code !== 'OB003') throw error
    return { accepted: false, field: detail ?? '(no detail)' }
  }
}

const expected = (field: string | null): Verdict => (field === null ? { accepted: true } : { accepted: false, field })

describe('the zod job spec (model/) on its own', () => {
  it.each(CASES)('%s → %s', (_, json, field) => {
    expect(zodVerdict(json)).toEqual(expected(field))
  })
})

describe.each(BACKENDS)('internal.validate_job_spec mirrors the zod schema on %s', (backend) => {
  let db: Database
  beforeAll(async () => {
    db = await freshDatabase(backend)
  })
  afterAll(() => db?.close())

  it('has a case for every kind of rule (about 40 specs or more)', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40)
    expect(CASES.filter(([, , field]) => field === null).length).toBeGreaterThanOrEqual(10)
  })

  it.each(CASES)('%s: both say %s', async (_, json, field) => {
    expect(await sqlVerdict(db, json)).toEqual(expected(field))
    expect(await sqlVerdict(db, json)).toEqual(zodVerdict(json))
  })

  it('counts a spec\'s size as JSON.stringify does: numbers as JavaScript prints them', async () => {
    const numbers = [
      0, -0, 1, -1, 0.1, 1e-5, 1e-6, 1e-7, 1.5e-7, 123.456, 1e15, 1e16, 1e20, 1e21, 1.5e21, 2 ** 53, 2 ** 53 + 2,
      5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.30000000000000004, 123456789012345680000,
      // 300 more across every magnitude, from subnormals to overflow (Infinity: "null")
      ...Array.from({ length: 300 }, (_, i) => (((Math.sin(i * 12.9898) * 43758.5453) % 1) - 0.5) * 10 ** (((i * 7) % 640) - 320)),
    ]
    const { rows } = await db.query<{ length: number }>(
      `select internal.js_number_length(x::double precision) as length
       from unnest($1::text[]) with ordinality as n(x, i) order by i`,
      [numbers.map((x) => String(x))],
    )
    expect(rows.map((r) => r.length)).toEqual(numbers.map((x) => JSON.stringify(x).length))

    const values: Json[] = [
      { a: [1, 2, { b: 1e-7, c: 'é "quoted" \n\t\u0001 🧠' }], d: {}, e: [], f: null, g: true, h: false },
      [[], [[]], {}, { '': '' }, -0.000001, 1e21],
    ]
    for (const value of values) {
      const [row] = (await db.query<{ size: string }>('select internal.spec_json_size($1::jsonb) as size', [JSON.stringify(value)])).rows
      expect(Number(row!.size)).toBe(encoder.encode(JSON.stringify(value)).length)
    }
  })
})
