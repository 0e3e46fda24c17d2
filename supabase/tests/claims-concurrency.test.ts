import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { service, signUp, type Actor } from './support/actors.ts'
import { freshServerDatabase } from './support/databases.ts'
import { registerWorker, runningJob, validResult, type JobRow } from './support/fixtures.ts'

// The network's central promise under real concurrency, on a real PostgreSQL server:
// 64 connections drive 16 workers (4 connections each, so the cap of 2 is contested) through
// 5,000 tasks of three jobs of very different sizes.
const WORKERS = 16
const CONNECTIONS_PER_WORKER = 4
const CAP = 2
const JOB_SIZES = [3500, 1000, 500]
const TOTAL = JOB_SIZES.reduce((a, b) => a + b, 0)

interface Claim {
  task_id: number
  job_id: string
}

/** Jain's fairness index: 1 when every worker got the same share, 1/n when one got all. */
function jainIndex(counts: number[]): number {
  const sum = counts.reduce((a, b) => a + b, 0)
  const squares = counts.reduce((a, b) => a + b * b, 0)
  return (sum * sum) / (counts.length * squares)
}

/** Most intervals open at once (an interval closing at t frees its slot before one opening at t). */
function maxOverlap(intervals: Array<[number, number]>): number {
  const events = intervals.flatMap(([start, end]) => [[start, 1], [end, -1]] as Array<[number, number]>)
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let open = 0
  let max = 0
  for (const [, delta] of events) max = Math.max(max, (open += delta))
  return max
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('claim_task under 64 concurrent connections (PostgreSQL server)', () => {
  let db: Database
  let coordinator: Actor
  const jobs: JobRow[] = []
  const workers: Array<{ id: string; operator: Actor }> = []
  const claimsByWorker = new Map<string, number>()
  const refusals = { atCap: 0 }

  beforeAll(async () => {
    db = await freshServerDatabase({ max: WORKERS * CONNECTIONS_PER_WORKER + 4 })
    coordinator = service(db)
    const creator = await signUp(db)
    for (const shards of JOB_SIZES) jobs.push(await runningJob(creator, coordinator, { shards }))
    for (let i = 0; i < WORKERS; i++) {
      const operator = await signUp(db)
      workers.push({ id: await registerWorker(operator, `worker-${i}`, CAP), operator })
    }

    async function loop(worker: { id: string; operator: Actor }) {
      for (;;) {
        let claim: Claim | undefined
        try {
          ;[claim] = await worker.operator.rpc<Claim>('claim_task', { p_worker_id: worker.id })
        } catch (error) {
          if ((error as { code?: string }).code !== 'OB011') throw error
          refusals.atCap++
          await sleep(1 + Math.random() * 3)
          continue
        }
        if (!claim) return // no queued task left
        claimsByWorker.set(worker.id, (claimsByWorker.get(worker.id) ?? 0) + 1)
        await worker.operator.rpc('complete_task', {
          p_task_id: claim.task_id, p_worker_id: worker.id, p_result: validResult(),
        })
      }
    }
    await Promise.all(workers.flatMap((w) => Array.from({ length: CONNECTIONS_PER_WORKER }, () => loop(w))))
  }, 180_000)
  afterAll(() => db?.close())

  it('completes every task exactly once, each leased once', async () => {
    // attempts = 1 everywhere: no task was ever leased a second time; one result per task.
    const [summary] = await coordinator.query<{ completed: number; attempts_max: number; results: number; distinct_results: number }>(
      `select count(*) filter (where status = 'completed') as completed, max(attempts) as attempts_max,
              (select count(*) from public.task_results) as results,
              (select count(distinct task_id) from public.task_results) as distinct_results
       from public.tasks`,
    )
    expect(summary).toEqual({ completed: TOTAL, attempts_max: 1, results: TOTAL, distinct_results: TOTAL })
    expect([...claimsByWorker.values()].reduce((a, b) => a + b, 0)).toBe(TOTAL)
  })

  it('never lets a worker hold more than its cap, though its connections tried', async () => {
    const leases = await coordinator.query<{ leased_by: string; start: number; finish: number }>(
      `select leased_by, extract(epoch from leased_at)::float8 * 1e6 as start,
              extract(epoch from finished_at)::float8 * 1e6 as finish
       from public.tasks`,
    )
    const byWorker = new Map<string, Array<[number, number]>>()
    for (const l of leases) byWorker.set(l.leased_by, [...(byWorker.get(l.leased_by) ?? []), [l.start, l.finish]])
    const peaks = [...byWorker.values()].map(maxOverlap)
    expect(Math.max(...peaks)).toBe(CAP) // reached, never exceeded
    expect(refusals.atCap).toBeGreaterThan(0) // the cap was contested, not merely never approached
    const held = await coordinator.query<{ leases_held: number }>('select distinct leases_held from public.workers')
    expect(held).toEqual([{ leases_held: 0 }])
  })

  it('shares the work fairly between equal-speed workers (Jain index ≥ 0.99)', () => {
    const counts = workers.map((w) => claimsByWorker.get(w.id) ?? 0)
    expect(jainIndex(counts)).toBeGreaterThanOrEqual(0.99)
  })

  it('serves every job from the start: no job waits behind another job\'s backlog', async () => {
    const order = await coordinator.query<{ job_id: string }>('select job_id from public.tasks order by leased_at, id')
    const firstLease = (jobId: string) => order.findIndex((o) => o.job_id === jobId)
    const lastLease = (jobId: string) => order.length - 1 - [...order].reverse().findIndex((o) => o.job_id === jobId)
    // A claim whose snapshot predates every other claim's commit sees all jobs at 0 active leases
    // and takes the first; up to one such blind claim per connection can be in flight at once
    // (with begin + context + claim pipelined into one write, they start nearly together). So
    // every job must get its first lease within that first wave, not behind a backlog.
    for (const job of jobs) expect(firstLease(job.id)).toBeLessThan(WORKERS * CONNECTIONS_PER_WORKER)
    // Fewest-active-first interleaves the jobs: the 500-task job is done after ~3 × 500 claims,
    // the 1000-task job after ~500 + 2 × 1000. First-come-first-served would finish them only
    // after 4,500 and 5,000 claims.
    const [, medium, small] = jobs
    expect(lastLease(small!.id)).toBeLessThan(1500 * 1.2)
    expect(lastLease(medium!.id)).toBeLessThan(2500 * 1.2)
  })
})
