import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { anon, service, signUp, type Actor } from './support/actors.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'
import {
  cidOf,
  fundedJob,
  globalModelPath,
  registerWorker,
  startRound,
  trainingSpec,
  validResult,
  validSpec,
  type JobRow,
} from './support/fixtures.ts'

interface Claim {
  task_id: number
  job_id: string
  round: number
  shard_index: number
}

interface RoundRow {
  job_id: string
  round: number
  status: string
  global_model_cid: string
  global_model_path: string
  tasks_completed: number
  tasks_failed: number
  sample_count: number | string
  test_accuracy: number | null
  test_loss: number | null
  epsilon_spent: number | null
  metrics: Record<string, unknown>
  started_at: string
  aggregated_at: string | null
}

interface AcceptedResult {
  result_id: number
  task_id: number
  round: number
  shard_index: number
  worker_id: string
  artifact_cid: string
  sample_count: number
}

interface TaskRow {
  id: number
  status: string
  attempts: number
  last_error: string | null
  result_id: number | null
  run_after: string
}

const COORDINATOR_FUNCTIONS: Array<[string, (jobId: string) => Record<string, unknown>]> = [
  ['fund_job_without_escrow', (id) => ({ p_job_id: id })],
  ['start_round', (id) => ({ p_job_id: id, p_global_model_cid: cidOf('x'), p_global_model_path: globalModelPath(id, 1) })],
  ['begin_round_aggregation', (id) => ({ p_job_id: id })],
  ['reject_task_result', () => ({ p_task_id: 1, p_reason: 'bad' })],
  ['requeue_failed_tasks', (id) => ({ p_job_id: id })],
  ['finish_round', (id) => ({ p_job_id: id, p_test_accuracy: 0.9, p_test_loss: 0.3, p_epsilon_spent: 1, p_metrics: {} })],
  ['complete_job', (id) => ({ p_job_id: id, p_model: {} })],
  ['fail_job', (id) => ({ p_job_id: id, p_reason: 'giving up' })],
]

/** The model files the coordinator uploads, in the shape complete_job checks. */
function modelArtifacts(jobId: string) {
  const file = (format: string, name: string, contentType: string) => ({
    name, path: `jobs/${jobId}/model/${format}/${name}`, cid: cidOf(`${format}/${name}`), bytes: 1234, contentType,
  })
  return {
    tfjs: { files: [file('tfjs', 'model.json', 'application/json'), file('tfjs', 'group1-shard1of1.bin', 'application/octet-stream')] },
    onnx: { files: [file('onnx', 'model.onnx', 'application/octet-stream')] },
    h5: { files: [file('h5', 'model.h5', 'application/x-hdf5')] },
    pt: { files: [file('pt', 'model.pt', 'application/zip')] },
    pkl: { files: [file('pkl', 'model.pkl', 'application/octet-stream')] },
  }
}

describe.each(BACKENDS)('the coordinator functions on %s', (backend) => {
  let db: Database
  let coordinator: Actor
  let owner: Actor & { userId: string }
  let operator: Actor & { userId: string }
  let workerId: string

  beforeAll(async () => {
    db = await freshDatabase(backend)
    coordinator = service(db)
    owner = await signUp(db)
    operator = await signUp(db)
    workerId = await registerWorker(operator, 'trainer', 16)
  })
  afterAll(() => db?.close())

  const jobOf = async (id: string) => (await coordinator.query<JobRow>('select * from public.jobs where id = $1::uuid', [id]))[0]!
  const tasksOf = async (id: string) =>
    coordinator.query<TaskRow & { round: number; shard_index: number }>(
      'select * from public.tasks where job_id = $1::uuid order by round, shard_index', [id])
  const roundOf = async (id: string, round: number) =>
    (await coordinator.query<RoundRow>('select * from public.job_rounds where job_id = $1::uuid and round = $2', [id, round]))[0]

  /** The operator's worker claims every queued task of the job (one by one) and completes it. */
  async function trainAll(jobId: string, sampleCount = 100): Promise<Claim[]> {
    const done: Claim[] = []
    for (;;) {
      const [claim] = await operator.rpc<Claim>('claim_task', { p_worker_id: workerId })
      if (!claim) return done
      expect(claim.job_id).toBe(jobId) // each test's job is the only running one once it trains
      await operator.rpc('complete_task', {
        p_task_id: claim.task_id, p_worker_id: workerId, p_result: validResult({ sample_count: sampleCount + claim.shard_index }),
      })
      done.push(claim)
    }
  }

  /** A funded job whose round 1 is trained and closed (aggregating). */
  async function aggregatingJob(training: Record<string, unknown> = { rounds: 1, shards: 2 }, options: { private?: boolean } = {}) {
    const job = await fundedJob(owner, coordinator, trainingSpec(training, options))
    await startRound(coordinator, job.id, 1)
    await trainAll(job.id)
    const results = await coordinator.rpc<AcceptedResult>('begin_round_aggregation', { p_job_id: job.id })
    return { job, results }
  }

  describe('who may call them', () => {
    it('only service_role may execute them: signed-in users and anon are refused', async () => {
      const job = await fundedJob(owner, coordinator)
      for (const [name, args] of COORDINATOR_FUNCTIONS) {
        for (const caller of [owner, operator, anon(db)]) {
          await expect(caller.rpc(name, args(job.id)), `${name} as ${caller.identity.role}`).rejects.toMatchObject({
            code: '42501', message: expect.stringContaining('permission denied'),
          })
        }
      }
      const { rows } = await db.query<{ proname: string; authenticated: boolean; anon: boolean; service: boolean }>(
        `select p.proname, has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
                has_function_privilege('anon', p.oid, 'execute') as anon,
                has_function_privilege('service_role', p.oid, 'execute') as service
         from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public' and p.proname = any ($1::text[]) order by 1`,
        [COORDINATOR_FUNCTIONS.map(([name]) => name)],
      )
      expect(rows).toHaveLength(COORDINATOR_FUNCTIONS.length)
      for (const row of rows) expect(row, row.proname).toMatchObject({ authenticated: false, anon: false, service: true })
    })
  })

  describe('fund_job_without_escrow', () => {
    it('funds a created job and says so; funding again changes nothing', async () => {
      const [created] = await owner.rpc<JobRow>('create_job', { p_spec: validSpec(), p_reward_wei: '1000' })
      const [funded] = await coordinator.rpc<JobRow>('fund_job_without_escrow', { p_job_id: created!.id })
      expect(funded).toMatchObject({
        status: 'funded', status_reason: 'funded without escrow (local network; on-chain escrow arrives with settlement)',
      })
      const [again] = await coordinator.rpc<JobRow>('fund_job_without_escrow', { p_job_id: created!.id })
      expect(again).toEqual(funded)
    })

    it('refuses a job that has moved on (OB021) and one that does not exist (OB020)', async () => {
      const job = await fundedJob(owner, coordinator)
      await startRound(coordinator, job.id, 1)
      await expect(coordinator.rpc('fund_job_without_escrow', { p_job_id: job.id })).rejects.toMatchObject({
        code: 'OB021', message: expect.stringContaining('is running; only a created job can be funded'),
      })
      await expect(coordinator.rpc('fund_job_without_escrow', { p_job_id: '00000000-0000-4000-8000-000000000000' }))
        .rejects.toMatchObject({ code: 'OB020', detail: 'p_job_id' })
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })
  })

  describe('start_round', () => {
    it('queues one task per shard and records the round with the weights it starts from', async () => {
      const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 2, shards: 3 }))
      const round = await startRound(coordinator, job.id, 1)
      expect(round).toMatchObject({
        job_id: job.id, round: 1, status: 'training',
        global_model_cid: cidOf(`global weights of ${job.id} round 1`), global_model_path: globalModelPath(job.id, 1),
        tasks_completed: 0, tasks_failed: 0, test_accuracy: null, epsilon_spent: null, metrics: {}, aggregated_at: null,
      })
      expect(round.started_at).toBeTruthy()
      expect(await jobOf(job.id)).toMatchObject({ status: 'running', current_round: 1 })
      expect((await tasksOf(job.id)).map((t) => [t.round, t.shard_index, t.status])).toEqual([
        [1, 0, 'queued'], [1, 1, 'queued'], [1, 2, 'queued'],
      ])
      // The owner sees the round (RLS), as the workers of the job will.
      expect(await owner.query('select round, status from public.job_rounds where job_id = $1::uuid', [job.id]))
        .toEqual([{ round: 1, status: 'training' }])
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })

    it('refuses a bad CID or a path outside the job folder (OB002, naming the argument)', async () => {
      const job = await fundedJob(owner, coordinator)
      await expect(coordinator.rpc('start_round', { p_job_id: job.id, p_global_model_cid: 'Qm-not-a-cid-v1', p_global_model_path: globalModelPath(job.id, 1) }))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_global_model_cid' })
      await expect(coordinator.rpc('start_round', { p_job_id: job.id, p_global_model_cid: cidOf('w'), p_global_model_path: 'jobs/someone-else/rounds/1/global.obw' }))
        .rejects.toMatchObject({ code: 'OB002', detail: 'p_global_model_path', hint: expect.stringContaining(`jobs/${job.id}/rounds/1/global.obw`) })
      expect(await jobOf(job.id)).toMatchObject({ status: 'funded', current_round: 0 })
    })

    it('refuses an unfunded job, a round still training, and a round past the last (OB021)', async () => {
      const [created] = await owner.rpc<JobRow>('create_job', { p_spec: trainingSpec({ rounds: 1, shards: 1 }), p_reward_wei: '1' })
      await expect(startRound(coordinator, created!.id, 1)).rejects.toMatchObject({ code: 'OB021', message: expect.stringContaining('is created') })

      const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 1, shards: 1 }))
      await startRound(coordinator, job.id, 1)
      await expect(startRound(coordinator, job.id, 2)).rejects.toMatchObject({
        code: 'OB021', message: expect.stringContaining('Round 1 of job'), hint: expect.stringContaining('finish_round'),
      })
      await trainAll(job.id)
      await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })
      await coordinator.rpc('finish_round', { p_job_id: job.id, p_test_accuracy: 0.5, p_test_loss: 1, p_epsilon_spent: 0.5, p_metrics: {} })
      await expect(startRound(coordinator, job.id, 2)).rejects.toMatchObject({ code: 'OB021', message: expect.stringContaining('already run all 1 rounds') })
      expect(await roundOf(job.id, 2)).toBeUndefined()
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })
  })

  describe('begin_round_aggregation', () => {
    it('refuses while any task is queued or leased, saying how far the round is (OB021)', async () => {
      const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 1, shards: 3 }))
      await startRound(coordinator, job.id, 1)
      const [first] = await operator.rpc<Claim>('claim_task', { p_worker_id: workerId })
      await operator.rpc('complete_task', { p_task_id: first!.task_id, p_worker_id: workerId, p_result: validResult() })
      await operator.rpc('claim_task', { p_worker_id: workerId }) // leased, not done
      await expect(coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })).rejects.toMatchObject({
        code: 'OB021',
        message: `Round 1 of job ${job.id} is still training: 1 of 3 tasks done`,
        hint: 'Call again when its tasks finish: a round closes when none of its tasks is queued or leased.',
      })
      expect((await jobOf(job.id)).status).toBe('running')
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })

    it('closes a round whose tasks all completed or failed: aggregating, the accepted results by shard; again: the same', async () => {
      const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 1, shards: 3 }))
      await startRound(coordinator, job.id, 1)
      const claims: Claim[] = []
      for (let i = 0; i < 3; i++) claims.push((await operator.rpc<Claim>('claim_task', { p_worker_id: workerId }))[0]!)
      await operator.rpc('complete_task', { p_task_id: claims[2]!.task_id, p_worker_id: workerId, p_result: validResult({ sample_count: 30 }) })
      await operator.rpc('complete_task', { p_task_id: claims[0]!.task_id, p_worker_id: workerId, p_result: validResult({ sample_count: 10 }) })
      await operator.rpc('fail_task', { p_task_id: claims[1]!.task_id, p_worker_id: workerId, p_reason: 'out of memory', p_retryable: false })

      const results = await coordinator.rpc<AcceptedResult>('begin_round_aggregation', { p_job_id: job.id })
      expect(results.map((r) => [r.shard_index, r.task_id, r.round, r.sample_count, r.worker_id])).toEqual([
        [0, claims[0]!.task_id, 1, 10, workerId],
        [2, claims[2]!.task_id, 1, 30, workerId],
      ])
      expect(results[0]!.artifact_cid).toBe(validResult().artifact_cid)
      expect((await jobOf(job.id)).status).toBe('aggregating')
      expect(await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })).toEqual(results)
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })

    it('counts an expired lease with attempts left as training, and one on its last attempt as failed', async () => {
      const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 1, shards: 1 }))
      await startRound(coordinator, job.id, 1)
      const [claim] = await operator.rpc<Claim>('claim_task', { p_worker_id: workerId })
      const expire = (attempts: number) => coordinator.query(
        `update public.tasks set attempts = $2, lease_expires_at = now() - interval '1 second' where id = $1`, [claim!.task_id, attempts])
      await expire(1) // the worker died; the next claim (or the reaper) requeues the task
      await expect(coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })).rejects.toMatchObject({
        code: 'OB021', message: expect.stringContaining('still training: 0 of 1 tasks done'),
      })

      await expire(3) // it died on the task's last attempt: the task has failed for good
      expect(await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })).toEqual([])
      expect((await tasksOf(job.id))[0]).toMatchObject({ status: 'failed', last_error: expect.stringContaining('lease expired at') })
      expect(await jobOf(job.id)).toMatchObject({
        status: 'aggregating', tasks_failed: 1, status_reason: expect.stringMatching(/^Task \d+ \(round 1, shard 0\) failed permanently: lease expired/),
      })
      const [worker] = await coordinator.query<{ leases_held: number }>('select leases_held from public.workers where id = $1::uuid', [workerId])
      expect(worker!.leases_held).toBe(0)
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })

    it('refuses a job with no round running (OB021) and an unknown job (OB020)', async () => {
      const job = await fundedJob(owner, coordinator)
      await expect(coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })).rejects.toMatchObject({
        code: 'OB021', hint: 'Start its first round with start_round.',
      })
      await expect(coordinator.rpc('begin_round_aggregation', { p_job_id: '00000000-0000-4000-8000-000000000001' }))
        .rejects.toMatchObject({ code: 'OB020' })
    })
  })

  describe('reject_task_result', () => {
    it('deletes the result, requeues the task at once, moves the worker\'s count to failed and reopens the round', async () => {
      const { job, results } = await aggregatingJob()
      const [before] = await coordinator.query<{ tasks_completed: number; tasks_failed: number }>(
        'select tasks_completed, tasks_failed from public.workers where id = $1::uuid', [workerId])
      const [task] = await coordinator.rpc<TaskRow>('reject_task_result', { p_task_id: results[0]!.task_id, p_reason: 'update has NaN weights' })
      expect(task).toMatchObject({ id: results[0]!.task_id, status: 'queued', attempts: 1, result_id: null, last_error: 'result rejected: update has NaN weights' })
      expect(new Date(task!.run_after).getTime()).toBeLessThanOrEqual(Date.now() + 1000)
      expect(await coordinator.query('select id from public.task_results where id = $1', [results[0]!.result_id])).toEqual([])
      expect((await jobOf(job.id)).status).toBe('running')
      const [after] = await coordinator.query<{ tasks_completed: number; tasks_failed: number }>(
        'select tasks_completed, tasks_failed from public.workers where id = $1::uuid', [workerId])
      expect([Number(after!.tasks_completed), Number(after!.tasks_failed)])
        .toEqual([Number(before!.tasks_completed) - 1, Number(before!.tasks_failed) + 1])

      // The worker that delivered it learns its completion no longer holds.
      await expect(operator.rpc('complete_task', { p_task_id: task!.id, p_worker_id: workerId, p_result: validResult() }))
        .rejects.toMatchObject({ code: 'OB030' })
      // Trained again, the round closes again with both shards.
      await trainAll(job.id)
      expect(await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })).toHaveLength(2)
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })

    it('fails a task that used its last attempt, counting it on the job', async () => {
      const { job, results } = await aggregatingJob({ rounds: 1, shards: 1 })
      await coordinator.query('update public.tasks set attempts = max_attempts where id = $1', [results[0]!.task_id])
      const [task] = await coordinator.rpc<TaskRow>('reject_task_result', { p_task_id: results[0]!.task_id, p_reason: 'CID mismatch' })
      expect(task).toMatchObject({ status: 'failed', attempts: 3 })
      expect(await jobOf(job.id)).toMatchObject({
        status: 'running', tasks_failed: 1,
        status_reason: expect.stringMatching(/^Task \d+ \(round 1, shard 0\) failed after 3 attempt\(s\): result rejected: CID mismatch$/),
      })
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })

    it('refuses without a reason, an unknown task, a task without a result, another round\'s task, or after finish_round', async () => {
      const { job, results } = await aggregatingJob({ rounds: 2, shards: 1 })
      const taskId = results[0]!.task_id
      await expect(coordinator.rpc('reject_task_result', { p_task_id: taskId, p_reason: ' ' })).rejects.toMatchObject({ code: 'OB002', detail: 'p_reason' })
      await expect(coordinator.rpc('reject_task_result', { p_task_id: 987654321, p_reason: 'bad' })).rejects.toMatchObject({ code: 'OB002', detail: 'p_task_id' })
      await coordinator.rpc('finish_round', { p_job_id: job.id, p_test_accuracy: 0.9, p_test_loss: 0.2, p_epsilon_spent: 1, p_metrics: {} })
      await expect(coordinator.rpc('reject_task_result', { p_task_id: taskId, p_reason: 'bad' })).rejects.toMatchObject({
        code: 'OB021', message: expect.stringContaining('already aggregated'),
      })
      await startRound(coordinator, job.id, 2)
      await expect(coordinator.rpc('reject_task_result', { p_task_id: taskId, p_reason: 'bad' })).rejects.toMatchObject({
        code: 'OB021', message: `Task ${taskId} belongs to round 1 but job ${job.id} is in round 2`,
      })
      const [round2] = (await tasksOf(job.id)).filter((t) => t.round === 2)
      await expect(coordinator.rpc('reject_task_result', { p_task_id: round2!.id, p_reason: 'bad' })).rejects.toMatchObject({
        code: 'OB021', message: `Task ${round2!.id} is queued; only a completed task has a result to reject`,
      })
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })
  })

  describe('requeue_failed_tasks', () => {
    it('puts the round\'s failed tasks back with fresh attempts and reopens the round; 0 changes nothing', async () => {
      const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 1, shards: 3, minShardFraction: 1 }))
      await startRound(coordinator, job.id, 1)
      const claims: Claim[] = []
      for (let i = 0; i < 3; i++) claims.push((await operator.rpc<Claim>('claim_task', { p_worker_id: workerId }))[0]!)
      await operator.rpc('complete_task', { p_task_id: claims[0]!.task_id, p_worker_id: workerId, p_result: validResult() })
      for (const claim of claims.slice(1)) {
        await operator.rpc('fail_task', { p_task_id: claim.task_id, p_worker_id: workerId, p_reason: 'data error', p_retryable: false })
      }
      // 1 of 3 delivered; minShardFraction 1 needs all 3: the coordinator retries the failed ones.
      expect(await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })).toHaveLength(1)
      expect(await coordinator.rpc('requeue_failed_tasks', { p_job_id: job.id })).toEqual([{ requeue_failed_tasks: 2 }])
      expect((await tasksOf(job.id)).map((t) => [t.status, t.attempts])).toEqual([['completed', 1], ['queued', 0], ['queued', 0]])
      expect((await jobOf(job.id)).status).toBe('running')

      await trainAll(job.id)
      expect(await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })).toHaveLength(3)
      expect(await coordinator.rpc('requeue_failed_tasks', { p_job_id: job.id })).toEqual([{ requeue_failed_tasks: 0 }])
      expect((await jobOf(job.id)).status).toBe('aggregating')
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })

    it('refuses a job without an open round (OB021)', async () => {
      const job = await fundedJob(owner, coordinator)
      await expect(coordinator.rpc('requeue_failed_tasks', { p_job_id: job.id })).rejects.toMatchObject({ code: 'OB021' })
    })
  })

  describe('finish_round', () => {
    it('records the aggregate and the round\'s counts; the job\'s ε is the largest reported; a retry returns the first record', async () => {
      const { job } = await aggregatingJob({ rounds: 2, shards: 2 })
      await coordinator.query('update public.jobs set privacy_epsilon_spent = 5 where id = $1::uuid', [job.id]) // larger than reported
      const [round] = await coordinator.rpc<RoundRow>('finish_round', {
        p_job_id: job.id, p_test_accuracy: 0.91, p_test_loss: 0.27, p_epsilon_spent: 1.25, p_metrics: { update_norm_mean: 0.8 },
      })
      expect(round).toMatchObject({
        status: 'aggregated', tasks_completed: 2, tasks_failed: 0, test_accuracy: 0.91, test_loss: 0.27,
        epsilon_spent: 1.25, metrics: { update_norm_mean: 0.8 },
      })
      expect(Number(round!.sample_count)).toBe(100 + 101)
      expect(round!.aggregated_at).toBeTruthy()
      expect(await jobOf(job.id)).toMatchObject({ status: 'aggregating', privacy_epsilon_spent: 5 })

      const [again] = await coordinator.rpc<RoundRow>('finish_round', {
        p_job_id: job.id, p_test_accuracy: 0.1, p_test_loss: 9, p_epsilon_spent: 9, p_metrics: {},
      })
      expect(again).toEqual(round)

      await startRound(coordinator, job.id, 2)
      await trainAll(job.id)
      await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })
      await coordinator.rpc('finish_round', { p_job_id: job.id, p_test_accuracy: 0.95, p_test_loss: 0.2, p_epsilon_spent: 7.5, p_metrics: null })
      expect((await jobOf(job.id)).privacy_epsilon_spent).toBe(7.5)
      expect((await roundOf(job.id, 2))!.metrics).toEqual({})
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })

    it('takes null accuracy and loss (no test split) and null ε for a job without privacy', async () => {
      const { job } = await aggregatingJob({ rounds: 1, shards: 1, testFraction: 0 }, { private: false })
      expect(job.privacy_delta).toBeNull()
      const [round] = await coordinator.rpc<RoundRow>('finish_round', {
        p_job_id: job.id, p_test_accuracy: null, p_test_loss: null, p_epsilon_spent: null, p_metrics: {},
      })
      expect(round).toMatchObject({ status: 'aggregated', test_accuracy: null, test_loss: null, epsilon_spent: null })
      expect((await jobOf(job.id)).privacy_epsilon_spent).toBe(0)
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })

    it('refuses out-of-range numbers, a missing or unexpected ε and non-object metrics (OB002)', async () => {
      const { job } = await aggregatingJob({ rounds: 1, shards: 1 })
      const { job: plain } = await aggregatingJob({ rounds: 1, shards: 1 }, { private: false })
      const finish = (jobId: string, args: Record<string, unknown>) => coordinator.rpc('finish_round', {
        p_job_id: jobId, p_test_accuracy: 0.5, p_test_loss: 0.5, p_epsilon_spent: 1, p_metrics: {}, ...args,
      })
      await expect(finish(job.id, { p_test_accuracy: 1.5 })).rejects.toMatchObject({ code: 'OB002', detail: 'p_test_accuracy' })
      await expect(finish(job.id, { p_test_loss: -1 })).rejects.toMatchObject({ code: 'OB002', detail: 'p_test_loss' })
      await expect(finish(job.id, { p_test_loss: 'Infinity' })).rejects.toMatchObject({ code: 'OB002', detail: 'p_test_loss' })
      await expect(finish(job.id, { p_epsilon_spent: null })).rejects.toMatchObject({ code: 'OB002', detail: 'p_epsilon_spent' })
      await expect(finish(plain.id, { p_epsilon_spent: 1 })).rejects.toMatchObject({
        code: 'OB002', detail: 'p_epsilon_spent', message: expect.stringContaining('trains without differential privacy'),
      })
      await expect(finish(job.id, { p_metrics: [1, 2] })).rejects.toMatchObject({ code: 'OB002', detail: 'p_metrics' })
      expect((await roundOf(job.id, 1))!.status).toBe('training')
      for (const id of [job.id, plain.id]) await coordinator.rpc('fail_job', { p_job_id: id, p_reason: 'test over' })
    })

    it('refuses a job that is not aggregating, and a round started without start_round (OB021)', async () => {
      const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 1, shards: 1 }))
      await startRound(coordinator, job.id, 1)
      await expect(coordinator.rpc('finish_round', { p_job_id: job.id, p_test_accuracy: 0.5, p_test_loss: 0.5, p_epsilon_spent: 1, p_metrics: {} }))
        .rejects.toMatchObject({ code: 'OB021', hint: expect.stringContaining('begin_round_aggregation') })
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })

      const legacy = await fundedJob(owner, coordinator, trainingSpec({ rounds: 1, shards: 1 }))
      await coordinator.rpc('enqueue_round', { p_job_id: legacy.id })
      await trainAll(legacy.id)
      await coordinator.rpc('begin_round_aggregation', { p_job_id: legacy.id })
      await expect(coordinator.rpc('finish_round', { p_job_id: legacy.id, p_test_accuracy: 0.5, p_test_loss: 0.5, p_epsilon_spent: 1, p_metrics: {} }))
        .rejects.toMatchObject({ code: 'OB021', message: expect.stringContaining('not started with start_round') })
      await coordinator.rpc('fail_job', { p_job_id: legacy.id, p_reason: 'test over' })
    })
  })

  describe('complete_job', () => {
    /** A job whose every round is aggregated and recorded. */
    async function finishedJob(spec: Record<string, unknown> = trainingSpec({ rounds: 1, shards: 2 })) {
      const job = await fundedJob(owner, coordinator, spec)
      await startRound(coordinator, job.id, 1)
      await trainAll(job.id)
      await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })
      const eps = spec.privacy ? 2.5 : null
      await coordinator.rpc('finish_round', { p_job_id: job.id, p_test_accuracy: 0.97, p_test_loss: 0.1, p_epsilon_spent: eps, p_metrics: {} })
      return job
    }

    it('stores the model for the job\'s owner and completes the job; a retry returns the same model', async () => {
      const job = await finishedJob()
      const artifacts = modelArtifacts(job.id)
      const [model] = await coordinator.rpc<Record<string, unknown>>('complete_job', {
        p_job_id: job.id, p_model: { artifacts, metrics: { test_accuracy: 0.97 } },
      })
      expect(model).toMatchObject({
        owner_id: owner.userId, job_id: job.id, name: 'MNIST digits', artifacts, metrics: { test_accuracy: 0.97 },
        epsilon: 2.5, delta: 1e-5, listed: false,
      })
      expect(await jobOf(job.id)).toMatchObject({ status: 'completed', status_reason: `completed after 1 rounds: model ${model!.id}` })
      expect(await owner.query('select id from public.models where job_id = $1::uuid', [job.id])).toEqual([{ id: model!.id }])
      const [again] = await coordinator.rpc('complete_job', { p_job_id: job.id, p_model: { artifacts: {} } })
      expect(again).toEqual(model)
    })

    it('names the model from p_model, else the spec, else the job; no ε or δ without privacy', async () => {
      const named = await finishedJob()
      const [fromModel] = await coordinator.rpc('complete_job', {
        p_job_id: named.id, p_model: { name: 'Digits v2', artifacts: modelArtifacts(named.id), epsilon: 3, delta: 1e-6 },
      })
      expect(fromModel).toMatchObject({ name: 'Digits v2', epsilon: 3, delta: 1e-6 })

      const spec = trainingSpec({ rounds: 1, shards: 1 }, { private: false })
      delete spec.name
      const plain = await finishedJob(spec)
      const [fallback] = await coordinator.rpc('complete_job', { p_job_id: plain.id, p_model: { artifacts: modelArtifacts(plain.id) } })
      expect(fallback).toMatchObject({ name: `Job ${plain.id}`, epsilon: null, delta: null, metrics: {} })
    })

    it('refuses a malformed model, naming the field (OB002)', async () => {
      const job = await finishedJob()
      const good = modelArtifacts(job.id)
      const onnxFile = good.onnx.files[0]!
      const bad: Array<[unknown, string]> = [
        [[], 'p_model'],
        [{ artifacts: good, weights: [] }, 'p_model.weights'],
        [{ name: '', artifacts: good }, 'p_model.name'],
        [{}, 'p_model.artifacts'],
        [{ artifacts: {} }, 'p_model.artifacts'],
        [{ artifacts: { safetensors: good.onnx } }, 'p_model.artifacts.safetensors'],
        [{ artifacts: { onnx: { files: [] } } }, 'p_model.artifacts.onnx'],
        [{ artifacts: { onnx: { files: [onnxFile], extra: 1 } } }, 'p_model.artifacts.onnx'],
        [{ artifacts: { onnx: { files: [{ ...onnxFile, size: 1 }] } } }, 'p_model.artifacts.onnx.files[0]'],
        [{ artifacts: { onnx: { files: [{ ...onnxFile, name: '' }] } } }, 'p_model.artifacts.onnx.files[0].name'],
        [{ artifacts: { onnx: { files: [{ ...onnxFile, path: 'jobs/other/model/onnx/model.onnx' }] } } }, 'p_model.artifacts.onnx.files[0].path'],
        [{ artifacts: { onnx: { files: [onnxFile, { ...onnxFile, cid: 'Qm123' }] } } }, 'p_model.artifacts.onnx.files[1].cid'],
        [{ artifacts: { onnx: { files: [{ ...onnxFile, bytes: -1 }] } } }, 'p_model.artifacts.onnx.files[0].bytes'],
        [{ artifacts: { onnx: { files: [{ ...onnxFile, contentType: 'not a type' }] } } }, 'p_model.artifacts.onnx.files[0].contentType'],
        [{ artifacts: good, metrics: [] }, 'p_model.metrics'],
        [{ artifacts: good, epsilon: -1 }, 'p_model.epsilon'],
        [{ artifacts: good, delta: 1 }, 'p_model.delta'],
      ]
      for (const [model, field] of bad) {
        await expect(coordinator.rpc('complete_job', { p_job_id: job.id, p_model: model }), field).rejects.toMatchObject({ code: 'OB002', detail: field })
      }
      expect((await jobOf(job.id)).status).toBe('aggregating')
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })

    it('refuses before the last round is aggregated and recorded (OB021)', async () => {
      const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 2, shards: 1 }))
      const complete = () => coordinator.rpc('complete_job', { p_job_id: job.id, p_model: { artifacts: modelArtifacts(job.id) } })
      await expect(complete()).rejects.toMatchObject({ code: 'OB021', message: expect.stringContaining('is funded') })
      await startRound(coordinator, job.id, 1)
      await trainAll(job.id)
      await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })
      await expect(complete()).rejects.toMatchObject({ code: 'OB021', message: `Job ${job.id} has run 1 of its 2 rounds` })
      await coordinator.rpc('finish_round', { p_job_id: job.id, p_test_accuracy: 0.5, p_test_loss: 1, p_epsilon_spent: 1, p_metrics: {} })
      await startRound(coordinator, job.id, 2)
      await trainAll(job.id)
      await coordinator.rpc('begin_round_aggregation', { p_job_id: job.id })
      await expect(complete()).rejects.toMatchObject({ code: 'OB021', hint: expect.stringContaining('finish_round') })
      await coordinator.rpc('fail_job', { p_job_id: job.id, p_reason: 'test over' })
    })
  })

  describe('fail_job', () => {
    it('fails a running job with its reason and revokes its queued and leased tasks; failing again changes nothing', async () => {
      const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 1, shards: 2 }))
      await startRound(coordinator, job.id, 1)
      await operator.rpc('claim_task', { p_worker_id: workerId })
      const [failed] = await coordinator.rpc<JobRow>('fail_job', { p_job_id: job.id, p_reason: 'too few shards delivered twice' })
      expect(failed).toMatchObject({ status: 'failed', status_reason: 'too few shards delivered twice' })
      expect(failed!.finished_at).toBeTruthy()
      expect((await tasksOf(job.id)).map((t) => [t.status, t.last_error])).toEqual([['cancelled', 'job failed'], ['cancelled', 'job failed']])
      const [worker] = await coordinator.query<{ leases_held: number }>('select leases_held from public.workers where id = $1::uuid', [workerId])
      expect(worker!.leases_held).toBe(0)
      const [again] = await coordinator.rpc<JobRow>('fail_job', { p_job_id: job.id, p_reason: 'another reason' })
      expect(again).toEqual(failed)
    })

    it('fails a funded job that could not start; refuses a created or finished one (OB021) and an empty reason (OB002)', async () => {
      const funded = await fundedJob(owner, coordinator)
      expect((await coordinator.rpc<JobRow>('fail_job', { p_job_id: funded.id, p_reason: 'dataset missing' }))[0]).toMatchObject({ status: 'failed' })
      const [created] = await owner.rpc<JobRow>('create_job', { p_spec: validSpec(), p_reward_wei: '1' })
      await expect(coordinator.rpc('fail_job', { p_job_id: created!.id, p_reason: 'x' })).rejects.toMatchObject({ code: 'OB021' })
      await expect(coordinator.rpc('fail_job', { p_job_id: created!.id, p_reason: '' })).rejects.toMatchObject({ code: 'OB002', detail: 'p_reason' })
    })
  })

  it('publishes job_rounds to Realtime, so pages and workers follow the rounds live', async () => {
    const { rows } = await db.query(
      `select tablename from pg_catalog.pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'job_rounds'`)
    expect(rows).toEqual([{ tablename: 'job_rounds' }])
  })

  it('runs a whole job: 2 rounds × 2 shards, a rejected update retrained, the model stored', async () => {
    const job = await fundedJob(owner, coordinator, trainingSpec({ rounds: 2, shards: 2, minShardFraction: 1 }))
    for (const round of [1, 2]) {
      await startRound(coordinator, job.id, round)
      await trainAll(job.id)
      let results = await coordinator.rpc<AcceptedResult>('begin_round_aggregation', { p_job_id: job.id })
      if (round === 1) {
        await coordinator.rpc('reject_task_result', { p_task_id: results[1]!.task_id, p_reason: 'update norm 1e9 above the bound' })
        await trainAll(job.id)
        results = await coordinator.rpc<AcceptedResult>('begin_round_aggregation', { p_job_id: job.id })
      }
      expect(results.map((r) => r.shard_index)).toEqual([0, 1])
      await coordinator.rpc('finish_round', {
        p_job_id: job.id, p_test_accuracy: 0.8 + round / 10, p_test_loss: 1 / round, p_epsilon_spent: round, p_metrics: { shards: results.length },
      })
    }
    const [model] = await coordinator.rpc<{ id: string; epsilon: number }>('complete_job', { p_job_id: job.id, p_model: { artifacts: modelArtifacts(job.id) } })
    expect(model!.epsilon).toBe(2)
    expect(await jobOf(job.id)).toMatchObject({ status: 'completed', current_round: 2, privacy_epsilon_spent: 2 })
    const rounds = await owner.query<RoundRow>('select * from public.job_rounds where job_id = $1::uuid order by round', [job.id])
    expect(rounds.map((r) => [r.round, r.status, r.tasks_completed, r.test_accuracy, r.epsilon_spent])).toEqual([
      [1, 'aggregated', 2, 0.9, 1],
      [2, 'aggregated', 2, 1, 2],
    ])
  })
})
