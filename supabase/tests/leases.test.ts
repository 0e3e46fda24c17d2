import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { service, signUp, type Actor } from './support/actors.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'
import { registerWorker, runningJob, validResult, type JobRow } from './support/fixtures.ts'

interface Claim {
  task_id: number
  job_id: string
  attempt: number
  lease_expires_at: string
}
interface Task {
  id: number
  status: string
  attempts: number
  leased_by: string | null
  last_error: string | null
  run_after: string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(BACKENDS)('leases on %s', (backend) => {
  let db: Database
  let coordinator: Actor
  const task = async (id: number) => (await coordinator.query<Task>('select * from public.tasks where id = $1', [id]))[0]!
  const job = async (id: string) => (await coordinator.query<JobRow>('select * from public.jobs where id = $1::uuid', [id]))[0]!

  beforeAll(async () => {
    db = await freshDatabase(backend)
    coordinator = service(db)
  })
  afterAll(() => db?.close())

  // Each test cancels what it leaves behind, so the next starts from an empty queue.
  async function singleTaskJob(maxAttempts?: number) {
    await coordinator.query(`update public.tasks set status = 'cancelled' where status in ('queued', 'leased')`)
    const creator = await signUp(db)
    const created = await runningJob(creator, coordinator, { shards: 1 })
    if (maxAttempts) await coordinator.query('update public.tasks set max_attempts = $1 where job_id = $2::uuid', [maxAttempts, created.id])
    return { creator, job: created }
  }

  it('heartbeat renews every lease the worker holds and reports them', async () => {
    await singleTaskJob()
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'beating')
    const [claim] = await operator.rpc<Claim>('claim_task', { p_worker_id: workerId, p_lease_seconds: 5 })
    const beats = await operator.rpc<{ task_id: number; lease_expires_at: string }>('heartbeat', {
      p_worker_id: workerId, p_lease_seconds: 120,
    })
    expect(beats.map((b) => b.task_id)).toEqual([claim!.task_id])
    expect(new Date(beats[0]!.lease_expires_at).getTime()).toBeGreaterThan(new Date(claim!.lease_expires_at).getTime() + 100_000)
  })

  it('a worker that stops heartbeating loses its task to another worker, and the attempt is counted', async () => {
    await singleTaskJob()
    const quitter = await signUp(db)
    const quitterId = await registerWorker(quitter, 'quitter')
    const [first] = await quitter.rpc<Claim>('claim_task', { p_worker_id: quitterId, p_lease_seconds: 1 })
    expect(first!.attempt).toBe(1)

    const other = await signUp(db)
    const otherId = await registerWorker(other, 'taker')
    expect(await other.rpc('claim_task', { p_worker_id: otherId })).toEqual([]) // still leased
    await sleep(1300)
    const [second] = await other.rpc<Claim>('claim_task', { p_worker_id: otherId }) // reaps lazily, then claims
    expect(second).toMatchObject({ task_id: first!.task_id, attempt: 2 })

    expect(await quitter.rpc('heartbeat', { p_worker_id: quitterId })).toEqual([]) // the lease is gone
    await expect(
      quitter.rpc('complete_task', { p_task_id: first!.task_id, p_worker_id: quitterId, p_result: validResult() }),
    ).rejects.toMatchObject({ code: 'OB030', message: expect.stringContaining('another worker holds its lease') })
    const [quitterRow] = await coordinator.query<{ leases_held: number; tasks_failed: number }>(
      'select leases_held, tasks_failed from public.workers where id = $1::uuid', [quitterId])
    expect(quitterRow).toEqual({ leases_held: 0, tasks_failed: 1 })
  })

  it('past max_attempts an expired task fails for good and its job learns why', async () => {
    const { job: created } = await singleTaskJob(2)
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'crashy')
    for (let attempt = 1; attempt <= 2; attempt++) {
      const [claim] = await operator.rpc<Claim>('claim_task', { p_worker_id: workerId, p_lease_seconds: 1 })
      expect(claim!.attempt).toBe(attempt)
      await sleep(1200)
    }
    // The service role reaps (a cron is optional: the next claim would do it too).
    expect(await coordinator.rpc('reap_expired_leases')).toEqual([{ reap_expired_leases: 1 }])
    const [only] = await coordinator.query<Task>('select * from public.tasks where job_id = $1::uuid', [created.id])
    expect(only).toMatchObject({ status: 'failed', attempts: 2 })
    expect(only!.last_error).toMatch(/lease expired .* \(attempt 2 of 2\)/)
    const learned = await job(created.id)
    expect(learned.tasks_failed).toBe(1)
    expect(learned.status_reason).toMatch(/failed permanently/)
    expect(await operator.rpc('claim_task', { p_worker_id: workerId })).toEqual([])
  })

  it('fail_task requeues with backoff and counts the attempt; a retried failure changes nothing', async () => {
    const { job: created } = await singleTaskJob()
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'flaky')
    const [claim] = await operator.rpc<Claim>('claim_task', { p_worker_id: workerId })
    const before = Date.now()
    const [failed] = await operator.rpc<Task>('fail_task', {
      p_task_id: claim!.task_id, p_worker_id: workerId, p_reason: 'out of memory',
    })
    expect(failed).toMatchObject({ status: 'queued', attempts: 1, last_error: 'out of memory' })
    // First retry after 5 s ± 20 %.
    const delay = new Date(failed!.run_after).getTime() - before
    expect(delay).toBeGreaterThan(3500)
    expect(delay).toBeLessThan(6500)
    expect(await operator.rpc('claim_task', { p_worker_id: workerId })).toEqual([]) // backing off

    const [replayed] = await operator.rpc<Task>('fail_task', {
      p_task_id: claim!.task_id, p_worker_id: workerId, p_reason: 'out of memory',
    })
    expect(replayed).toEqual(failed)
    expect((await job(created.id)).tasks_failed).toBe(0)
  })

  it('a failure that is not retryable fails the task at once and marks the job', async () => {
    const { job: created } = await singleTaskJob()
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'strict')
    const [claim] = await operator.rpc<Claim>('claim_task', { p_worker_id: workerId })
    const [failed] = await operator.rpc<Task>('fail_task', {
      p_task_id: claim!.task_id, p_worker_id: workerId, p_reason: 'CSV has no column "label"', p_retryable: false,
    })
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 })
    const learned = await job(created.id)
    expect(learned.tasks_failed).toBe(1)
    expect(learned.status_reason).toContain('CSV has no column "label"')
    const [row] = await coordinator.query<{ leases_held: number }>('select leases_held from public.workers where id = $1::uuid', [workerId])
    expect(row!.leases_held).toBe(0)
  })

  it('cancelling a job revokes its leases: the holder sees it on heartbeat and cannot complete', async () => {
    const { creator, job: created } = await singleTaskJob()
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'interrupted')
    const [claim] = await operator.rpc<Claim>('claim_task', { p_worker_id: workerId })
    const [cancelled] = await creator.rpc<JobRow>('cancel_job', { p_job_id: created.id, p_reason: 'wrong data set' })
    expect(cancelled).toMatchObject({ status: 'cancelled', status_reason: 'wrong data set' })
    expect(await operator.rpc('heartbeat', { p_worker_id: workerId })).toEqual([])
    await expect(
      operator.rpc('complete_task', { p_task_id: claim!.task_id, p_worker_id: workerId, p_result: validResult() }),
    ).rejects.toMatchObject({ code: 'OB030', message: expect.stringContaining('its job was cancelled') })
    expect((await task(claim!.task_id)).status).toBe('cancelled')
    // Cancelling again is not an error; cancelling a finished job is.
    expect((await creator.rpc<JobRow>('cancel_job', { p_job_id: created.id }))[0]!.status).toBe('cancelled')
  })

  it('deleting a worker that holds a lease (or its owner\'s account) hands the task back after the lease', async () => {
    await singleTaskJob()
    const leaving = await signUp(db)
    const leavingId = await registerWorker(leaving, 'leaving')
    const [claim] = await leaving.rpc<Claim>('claim_task', { p_worker_id: leavingId, p_lease_seconds: 1 })
    // As the auth server does when an account is deleted (a privileged role, not the API).
    await db.query('delete from auth.users where id = $1::uuid', [leaving.userId])
    expect(await task(claim!.task_id)).toMatchObject({ status: 'leased', leased_by: null })
    await sleep(1200)
    const heir = await signUp(db)
    const heirId = await registerWorker(heir, 'heir')
    expect(await heir.rpc<Claim>('claim_task', { p_worker_id: heirId })).toMatchObject([{ task_id: claim!.task_id, attempt: 2 }])
  })

  it('only the coordinator may run the reaper', async () => {
    const user = await signUp(db)
    await expect(user.rpc('reap_expired_leases')).rejects.toMatchObject({ code: '42501' })
  })
})
