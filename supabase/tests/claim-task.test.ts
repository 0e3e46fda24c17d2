import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { service, signUp, type Actor } from './support/actors.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'
import { registerWorker, runningJob, validResult } from './support/fixtures.ts'

interface Claim {
  task_id: number
  job_id: string
  round: number
  shard_index: number
  shard_count: number
  attempt: number
  lease_expires_at: string
  spec: Record<string, unknown>
}

describe.each(BACKENDS)('claim_task on %s', (backend) => {
  let db: Database
  let coordinator: Actor
  beforeAll(async () => {
    db = await freshDatabase(backend)
    coordinator = service(db)
  })
  afterAll(() => db?.close())

  it('leases a queued task with its spec, counts the attempt and the worker lease', async () => {
    const creator = await signUp(db)
    const job = await runningJob(creator, coordinator, { shards: 3 })
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'claim-1')

    const [claim] = await operator.rpc<Claim>('claim_task', { p_worker_id: workerId })
    expect(claim).toMatchObject({ job_id: job.id, round: 1, shard_index: 0, shard_count: 3, attempt: 1 })
    expect((claim!.spec as { version: number }).version).toBe(1)
    expect(new Date(claim!.lease_expires_at).getTime()).toBeGreaterThan(Date.now() + 50_000)

    const [worker] = await operator.query<{ leases_held: number }>('select leases_held from public.workers')
    expect(worker!.leases_held).toBe(1)
    const tasks = await operator.query<{ id: number; status: string }>('select id, status from public.tasks')
    expect(tasks).toEqual([{ id: claim!.task_id, status: 'leased' }])
  })

  it('refuses a claim beyond max_concurrency with OB011 and leases nothing', async () => {
    const creator = await signUp(db)
    const job = await runningJob(creator, coordinator, { shards: 5 })
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'capped', 2)
    await operator.rpc('claim_task', { p_worker_id: workerId })
    await operator.rpc('claim_task', { p_worker_id: workerId })
    await expect(operator.rpc('claim_task', { p_worker_id: workerId })).rejects.toMatchObject({
      code: 'OB011',
      message: expect.stringContaining('already holds 2 of its 2 leases'),
    })
    const [counts] = await coordinator.query<{ leased: number; leases_held: number }>(
      `select (select count(*) from public.tasks where leased_by = $1::uuid and status = 'leased') as leased,
              (select leases_held from public.workers where id = $1::uuid) as leases_held`,
      [workerId],
    )
    expect(counts).toEqual({ leased: 2, leases_held: 2 })
    expect(job.status).toBe('running')
  })

  it('answers an empty list when there is no work', async () => {
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'idle')
    await coordinator.query(`update public.tasks set status = 'cancelled' where status = 'queued'`)
    expect(await operator.rpc('claim_task', { p_worker_id: workerId })).toEqual([])
  })

  it('completes a held task, records the result and frees the lease; a retried completion changes nothing', async () => {
    const creator = await signUp(db)
    const job = await runningJob(creator, coordinator, { shards: 1 })
    const operator = await signUp(db)
    const workerId = await registerWorker(operator, 'finisher')
    const [claim] = await operator.rpc<Claim>('claim_task', { p_worker_id: workerId })
    expect(claim!.job_id).toBe(job.id)

    const [done] = await operator.rpc<{ status: string; result_id: number }>('complete_task', {
      p_task_id: claim!.task_id, p_worker_id: workerId, p_result: validResult({ sample_count: 321 }),
    })
    expect(done!.status).toBe('completed')
    const [again] = await operator.rpc<{ status: string; result_id: number }>('complete_task', {
      p_task_id: claim!.task_id, p_worker_id: workerId, p_result: validResult({ sample_count: 999 }),
    })
    expect(again).toEqual(done)

    const results = await creator.query<{ sample_count: number; worker_id: string }>(
      'select sample_count, worker_id from public.task_results where job_id = $1::uuid', [job.id])
    expect(results).toEqual([{ sample_count: 321, worker_id: workerId }])
    const [worker] = await operator.query<{ leases_held: number; tasks_completed: number; reputation: number }>(
      'select leases_held, tasks_completed, reputation from public.workers')
    expect(worker).toEqual({ leases_held: 0, tasks_completed: 1, reputation: 2 / 3 })
  })
})
