import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { anon, service, signUp, type Actor } from './support/actors.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'
import { registerWorker, runningJob, validResult, validSpec, type JobRow } from './support/fixtures.ts'

type Spec = Record<string, any>

/** A spec with one change applied to a fresh valid one. */
function specWith(change: (spec: Spec) => void): Spec {
  const spec = structuredClone(validSpec()) as Spec
  change(spec)
  return spec
}

// Each bad spec and the field its error must name (in `detail`, and in the message).
const BAD_SPECS: Array<[string, Spec | null, string]> = [
  ['no spec at all', null, 'spec'],
  ['a spec that is not an object', [1, 2] as unknown as Spec, 'spec'],
  ['an unknown version', specWith((s) => (s.version = 2)), 'spec.version'],
  ['a misspelt top-level field', specWith((s) => (s.traning = s.training)), 'spec.traning'],
  ['no training section', specWith((s) => delete s.training), 'spec.training'],
  ['a batch size that is text', specWith((s) => (s.training.batchSize = 'abc')), 'spec.training.batchSize'],
  ['a fractional batch size', specWith((s) => (s.training.batchSize = 1.5)), 'spec.training.batchSize'],
  ['zero local epochs', specWith((s) => (s.training.localEpochs = 0)), 'spec.training.localEpochs'],
  ['a negative learning rate', specWith((s) => (s.training.learningRate = -0.1)), 'spec.training.learningRate'],
  ['an unknown optimizer', specWith((s) => (s.training.optimizer = 'lbfgs')), 'spec.training.optimizer'],
  ['too many tasks', specWith((s) => ((s.training.rounds = 1000), (s.training.shards = 1000))), 'spec.training.shards'],
  ['no layers', specWith((s) => (s.model.layers = [])), 'spec.model.layers'],
  ['a layer without units', specWith((s) => (s.model.layers[1].units = 0)), 'spec.model.layers[1].units'],
  ['an unknown activation', specWith((s) => (s.model.layers[0].activation = 'gelu')), 'spec.model.layers[0].activation'],
  ['an unknown data set', specWith((s) => (s.dataset = { source: 'builtin', name: 'imagenet' })), 'spec.dataset.name'],
  ['a CSV data set without a label column', specWith((s) => (s.dataset = { source: 'csv', bucket: 'datasets', path: 'a.csv', featureColumns: ['x'] })), 'spec.dataset.labelColumn'],
  ['a CSV feature column that is not text', specWith((s) => (s.dataset = { source: 'csv', bucket: 'datasets', path: 'a.csv', featureColumns: ['x', 7], labelColumn: 'y' })), 'spec.dataset.featureColumns[1]'],
  ['both σ and a target ε', specWith((s) => (s.privacy.targetEpsilon = 1)), 'spec.privacy.noiseMultiplier'],
  ['a δ of 0.5', specWith((s) => (s.privacy.delta = 0.5)), 'spec.privacy.delta'],
  ['a missing clip norm', specWith((s) => delete s.privacy.clipNorm), 'spec.privacy.clipNorm'],
  ['a trim fraction for fedavg', specWith((s) => (s.aggregation = { strategy: 'fedavg', trimFraction: 0.1 })), 'spec.aggregation.trimFraction'],
  ['an oversized spec', specWith((s) => (s.dataset = { source: 'csv', bucket: 'datasets', path: 'a.csv', featureColumns: Array.from({ length: 3000 }, (_, i) => `column_${i}`), labelColumn: 'y' })), 'spec'],
]

const BAD_REWARDS: Array<[string, unknown]> = [
  ['negative', '-5'], ['zero', '0'], ['fractional', '1.5'], ['in exponent form', '1e18'],
  ['empty', ''], ['not a number', 'ten'], ['with a leading zero', '007'], ['longer than a uint256', '1'.repeat(79)],
]

describe.each(BACKENDS)('bad input on %s', (backend) => {
  let db: Database
  let coordinator: Actor
  /** Everything a bad call could have changed, to compare before and after. */
  const snapshot = () =>
    coordinator.query(
      `select (select count(*) from public.jobs) as jobs, (select count(*) from public.task_results) as results,
              (select string_agg(status || ':' || attempts || ':' || coalesce(leased_by::text, '-'), ',' order by id) from public.tasks) as tasks,
              (select string_agg(name || ':' || leases_held, ',' order by id) from public.workers) as workers`,
    )

  beforeAll(async () => {
    db = await freshDatabase(backend)
    coordinator = service(db)
  })
  afterAll(() => db?.close())

  /** Runs `call` between two snapshots: it must fail with `expected` and change nothing. */
  async function expectRefused(call: () => Promise<unknown>, expected: { code: string; detail?: string; message?: RegExp }) {
    const before = await snapshot()
    const error = await call().then(() => undefined, (e: unknown) => e as { code: string; detail?: string; message: string })
    expect(error, 'the call should have been refused').toBeDefined()
    expect(error!.code).toBe(expected.code)
    if (expected.detail) expect(error!.detail).toBe(expected.detail)
    if (expected.message) expect(error!.message).toMatch(expected.message)
    expect(await snapshot()).toEqual(before)
  }

  it.each(BAD_SPECS)('create_job refuses %s, naming %s', async (_, spec, field) => {
    const creator = await signUp(db)
    await expectRefused(() => creator.rpc('create_job', { p_spec: spec, p_reward_wei: '1000' }), {
      code: 'OB003', detail: field, message: new RegExp(`^Invalid job spec: ${field.replace(/[[\].]/g, '\\$&')} `),
    })
  })

  it.each(BAD_REWARDS)('create_job refuses a %s reward', async (_, reward) => {
    const creator = await signUp(db)
    await expectRefused(() => creator.rpc('create_job', { p_spec: validSpec(), p_reward_wei: reward }), {
      code: 'OB004', message: /is not a positive whole number of wei/,
    })
  })

  it('create_job accepts the valid spec and the largest uint256-sized reward', async () => {
    const creator = await signUp(db)
    const [job] = await creator.rpc<JobRow>('create_job', { p_spec: validSpec(), p_reward_wei: '9'.repeat(78) })
    expect(job).toMatchObject({ status: 'created', reward_wei: '9'.repeat(78), rounds: 3, shards: 4, current_round: 0 })
  })

  it('refuses to act for a worker id that is not yours', async () => {
    const creator = await signUp(db)
    await runningJob(creator, coordinator, { shards: 2 })
    const alice = await signUp(db)
    const mallory = await signUp(db)
    const alicesWorker = await registerWorker(alice, 'alice-1')
    await registerWorker(mallory, 'mallory-1')
    for (const [fn, args] of [
      ['claim_task', { p_worker_id: alicesWorker }],
      ['heartbeat', { p_worker_id: alicesWorker }],
      ['claim_task', { p_worker_id: '00000000-0000-0000-0000-000000000000' }],
    ] as const) {
      await expectRefused(() => mallory.rpc(fn, args), { code: 'OB010', message: /is not registered to you/ })
    }
  })

  it('refuses to complete or fail a task you do not hold', async () => {
    const creator = await signUp(db)
    await runningJob(creator, coordinator, { shards: 2 })
    const alice = await signUp(db)
    const bob = await signUp(db)
    const alicesWorker = await registerWorker(alice, 'alice-2')
    const bobsWorker = await registerWorker(bob, 'bob-2')
    const [claim] = await alice.rpc<{ task_id: number }>('claim_task', { p_worker_id: alicesWorker })
    await expectRefused(
      () => bob.rpc('complete_task', { p_task_id: claim!.task_id, p_worker_id: bobsWorker, p_result: validResult() }),
      { code: 'OB030', message: /another worker holds its lease/ },
    )
    await expectRefused(
      () => bob.rpc('fail_task', { p_task_id: claim!.task_id, p_worker_id: bobsWorker, p_reason: 'sabotage' }),
      { code: 'OB030' },
    )
    await expectRefused(
      () => alice.rpc('complete_task', { p_task_id: 987654321, p_worker_id: alicesWorker, p_result: validResult() }),
      { code: 'OB030', message: /does not exist/ },
    )
    await expectRefused(
      () => alice.rpc('fail_task', { p_task_id: 987654321, p_worker_id: alicesWorker, p_reason: 'gone' }),
      { code: 'OB030', message: /does not exist/ },
    )
  })

  it('refuses malformed results, reasons and lease lengths from the lease holder', async () => {
    const creator = await signUp(db)
    await runningJob(creator, coordinator, { shards: 1 })
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'sloppy', 4)
    const [claim] = await operator.rpc<{ task_id: number }>('claim_task', { p_worker_id: workerId })
    for (const result of [
      null, ['done'], {}, validResult({ artifact_cid: 'QmNotACidV1' }), validResult({ sample_count: 0 }),
      validResult({ sample_count: 2.5 }), validResult({ update_norm: -1 }), validResult({ metrics: [1] }),
    ]) {
      await expectRefused(
        () => operator.rpc('complete_task', { p_task_id: claim!.task_id, p_worker_id: workerId, p_result: result }),
        { code: 'OB031', detail: 'p_result' },
      )
    }
    await expectRefused(
      () => operator.rpc('fail_task', { p_task_id: claim!.task_id, p_worker_id: workerId, p_reason: '  ' }),
      { code: 'OB002', detail: 'p_reason' },
    )
    for (const seconds of [0, 3601]) {
      await expectRefused(() => operator.rpc('claim_task', { p_worker_id: workerId, p_lease_seconds: seconds }), {
        code: 'OB002', detail: 'p_lease_seconds',
      })
    }
  })

  it('refuses bad worker registrations', async () => {
    const operator = await signUp(db)
    for (const [args, detail] of [
      [{ p_name: '', p_kind: 'cli' }, 'p_name'],
      [{ p_name: 'has space', p_kind: 'cli' }, 'p_name'],
      [{ p_name: 'ok', p_kind: 'cli', p_max_concurrency: 0 }, 'p_max_concurrency'],
      [{ p_name: 'ok', p_kind: 'cli', p_capabilities: { blob: 'x'.repeat(5000) } }, 'p_capabilities'],
    ] as const) {
      await expectRefused(() => operator.rpc('register_worker', args), { code: 'OB002', detail })
    }
    await expectRefused(() => operator.rpc('register_worker', { p_name: 'ok', p_kind: 'gpu' }), { code: '22P02' })
  })

  it('refuses to cancel a job that is not yours, or one that has ended', async () => {
    const alice = await signUp(db)
    const [job] = await alice.rpc<JobRow>('create_job', { p_spec: validSpec(), p_reward_wei: '1' })
    const mallory = await signUp(db)
    await expectRefused(() => mallory.rpc('cancel_job', { p_job_id: job!.id }), { code: 'OB020', message: /is not one of your jobs/ })
    await coordinator.query(`update public.jobs set status = 'funded' where id = $1::uuid`, [job!.id])
    await coordinator.query(`update public.jobs set status = 'running' where id = $1::uuid`, [job!.id])
    await coordinator.query(`update public.jobs set status = 'completed' where id = $1::uuid`, [job!.id])
    await expectRefused(() => alice.rpc('cancel_job', { p_job_id: job!.id }), { code: 'OB021', message: /already completed/ })
  })

  it('guards the job status machine even against the coordinator', async () => {
    const alice = await signUp(db)
    const [job] = await alice.rpc<JobRow>('create_job', { p_spec: validSpec(), p_reward_wei: '1' })
    await expectRefused(() => coordinator.query(`update public.jobs set status = 'running' where id = $1::uuid`, [job!.id]), {
      code: 'OB021', message: /cannot go from created to running/,
    })
    await expectRefused(() => coordinator.rpc('enqueue_round', { p_job_id: job!.id }), { code: 'OB021', message: /is created/ })
  })

  it('gives anonymous callers nothing that writes', async () => {
    const someId = '00000000-0000-0000-0000-000000000000'
    for (const [fn, args] of [
      ['create_job', { p_spec: validSpec(), p_reward_wei: '1' }],
      ['register_worker', { p_name: 'anon-worker', p_kind: 'cli' }],
      ['claim_task', { p_worker_id: someId }],
      ['heartbeat', { p_worker_id: someId }],
      ['complete_task', { p_task_id: 1, p_worker_id: someId, p_result: validResult() }],
      ['fail_task', { p_task_id: 1, p_worker_id: someId, p_reason: 'x' }],
      ['cancel_job', { p_job_id: someId }],
      ['enqueue_round', { p_job_id: someId }],
      ['reap_expired_leases', {}],
    ] as const) {
      await expectRefused(() => anon(db).rpc(fn, args), { code: '42501', message: /permission denied for function/ })
    }
  })
})
