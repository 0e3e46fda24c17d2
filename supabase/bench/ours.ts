import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { callFunction } from '../src/db/call-function.ts'
import type { Database } from '../src/db/database.ts'
import { serviceIdentity, userIdentity, withRequestContext, type RequestIdentity } from '../src/db/request-context.ts'
import { SAMPLE_CID, validSpec } from '../tests/support/fixtures.ts'
import type { Backlog } from './backlog.ts'
import type { QueueUnderTest } from './measure.ts'

// A refill opens the next round of one job: SHARDS tasks. shards × rounds ≤ 100,000 per job
// (the spec's limit), so 3 jobs hold 300,000 tasks: minutes of claiming at any level.
const JOBS = 3
const SHARDS = 100
const ROUNDS = 1000
const WORKER_CAP = 2
const RESULT = { artifact_cid: SAMPLE_CID, sample_count: 100 }

interface BenchWorker {
  id: string
  identity: RequestIdentity
}

/**
 * Oblivion's queue as the network runs it: `workers` auth users, each with one registered
 * worker (cap 2), and 3 running jobs created by another user, funded and fed round by round by
 * the coordinator (service_role), all through the RPCs the gateway exposes. `admin` is the
 * migrated database (setup and refills); each level's pool comes from `openPool`.
 */
export async function prepareOurs(
  admin: Database,
  workers: number,
  openPool: (size: number) => Promise<Database>,
): Promise<QueueUnderTest> {
  const signUp = async (): Promise<RequestIdentity> => {
    const id = randomUUID()
    await admin.query(`insert into auth.users (id, aud, role) values ($1::uuid, 'authenticated', 'authenticated')`, [id])
    return userIdentity(id)
  }

  const owner = await signUp()
  const spec = validSpec()
  Object.assign(spec.training as object, { shards: SHARDS, rounds: ROUNDS })
  const jobs: Array<{ id: string; rounds: number }> = []
  for (let i = 0; i < JOBS; i++) {
    const [job] = await withRequestContext(admin, owner, (tx) =>
      callFunction<{ id: string }>(tx, 'create_job', { p_spec: { ...spec, name: `bench job ${i + 1}` }, p_reward_wei: '1000' }),
    )
    await withRequestContext(admin, serviceIdentity, (tx) =>
      tx.query(`update public.jobs set status = 'funded' where id = $1::uuid`, [job!.id]),
    )
    jobs.push({ id: job!.id, rounds: 0 })
  }

  const team: BenchWorker[] = []
  for (let i = 0; i < workers; i++) {
    const identity = await signUp()
    const [worker] = await withRequestContext(admin, identity, (tx) =>
      callFunction<{ id: string }>(tx, 'register_worker', {
        p_name: `bench-${i}`, p_kind: 'cli', p_capabilities: { backend: 'bench' }, p_max_concurrency: WORKER_CAP,
      }),
    )
    team.push({ id: worker!.id, identity })
  }

  let nextJob = 0
  return {
    async queued() {
      const { rows } = await admin.query<{ n: number }>(`select count(*)::integer as n from public.tasks where status = 'queued'`)
      return rows[0]!.n
    },

    // The coordinator's round loop, one job at a time: running → aggregating → next round
    // (running again), in one transaction so no claim sees the job paused.
    async refill() {
      const job = jobs[nextJob++ % jobs.length]!
      if (job.rounds === ROUNDS) {
        throw new Error(`All ${JOBS * SHARDS * ROUNDS} benchmark tasks are used up; run fewer or shorter levels (--levels, --seconds).`)
      }
      await withRequestContext(admin, serviceIdentity, async (tx) => {
        if (job.rounds > 0) await tx.query(`update public.jobs set status = 'aggregating' where id = $1::uuid`, [job.id])
        await callFunction(tx, 'enqueue_round', { p_job_id: job.id })
      })
      job.rounds++
      return SHARDS
    },

    async tidy() {
      if (admin.kind === 'postgres') await admin.exec('vacuum analyze public.tasks, public.task_results, public.workers, public.jobs')
      else await admin.exec('vacuum analyze')
    },

    async openLevel(level: number, backlog: Backlog) {
      const pool = await openPool(level)
      const cycle = async (slot: number) => {
        const worker = team[slot]
        if (!worker) throw new Error(`Worker slot ${slot} is beyond the ${team.length} registered benchmark workers`)
        const started = performance.now()
        const [task] = await withRequestContext(
          pool, worker.identity,
          (tx) => callFunction<{ task_id: number }>(tx, 'claim_task', { p_worker_id: worker.id }),
          { path: '/rest/v1/rpc/claim_task' },
        )
        const claimMs = performance.now() - started
        if (!task) throw new Error('claim_task found no queued task: the backlog ran dry (raise --backlog)')
        backlog.claimed()
        await withRequestContext(
          pool, worker.identity,
          (tx) => callFunction(tx, 'complete_task', { p_task_id: task.task_id, p_worker_id: worker.id, p_result: RESULT }),
          { path: '/rest/v1/rpc/complete_task' },
        )
        return { claimMs }
      }
      return { cycle, close: () => (pool === admin ? Promise.resolve() : pool.close()) }
    },
  }
}
