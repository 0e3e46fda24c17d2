import { performance } from 'node:perf_hooks'
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import { SAMPLE_CID, validSpec } from '../../tests/support/fixtures.ts'

export interface ClaimCycleOptions {
  url: string
  anonKey: string
  serviceRoleKey: string
  /** Not needed: every worker signs in anonymously through /auth/v1, as a browser worker does. */
  jwtSecret?: string
  workers: number
  seconds: number
}

export interface ClaimCycleResult {
  cycles: number
  seconds: number
  cyclesPerSecond: number
}

// Two jobs of 5,000 shards × 20 rounds: 10,000 queued tasks at the start, and 190,000 more one
// round at a time: minutes of claiming at any rate this machine reaches.
const JOBS = 2
const SHARDS = 5000
const ROUNDS = 20
/** Open another round when fewer tasks than this are queued. */
const LOW_WATER = 2000
const RESULT = { artifact_cid: SAMPLE_CID, sample_count: 100 }

function client(url: string, key: string): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket as never },
  })
}

async function signedIn(url: string, anonKey: string): Promise<SupabaseClient> {
  const c = client(url, anonKey)
  const { error } = await c.auth.signInAnonymously()
  if (error) throw new Error(`Anonymous sign-in through ${url}/auth/v1 failed: ${error.message}`)
  return c
}

function must<T>(what: string, result: { data: T; error: { message: string; code?: string } | null }): T {
  if (result.error) throw new Error(`${what} failed: ${result.error.code ?? ''} ${result.error.message}`)
  return result.data
}

/**
 * Claim+complete cycles per second through the gateway with the official supabase-js, as
 * workers run them: `workers` anonymous users, each with one registered worker, each looping
 * `rpc('claim_task')` → `rpc('complete_task')`, while the coordinator (service_role) keeps the
 * queue from running dry by opening rounds of two large jobs.
 */
export async function measureClaimCycles(opts: ClaimCycleOptions): Promise<ClaimCycleResult> {
  const service = client(opts.url, opts.serviceRoleKey)
  const owner = await signedIn(opts.url, opts.anonKey)
  const spec = validSpec()
  Object.assign(spec.training as object, { shards: SHARDS, rounds: ROUNDS })
  const jobs: Array<{ id: string; round: number }> = []
  for (let i = 0; i < JOBS; i++) {
    const job = must('create_job', await owner.rpc('create_job', { p_spec: { ...spec, name: `bench ${i + 1}` }, p_reward_wei: '1000' })) as { id: string }
    must('funding a job', await service.from('jobs').update({ status: 'funded' }).eq('id', job.id))
    must('enqueue_round', await service.rpc('enqueue_round', { p_job_id: job.id }))
    jobs.push({ id: job.id, round: 1 })
  }

  const team = await Promise.all(
    Array.from({ length: opts.workers }, async (_, i) => {
      const c = await signedIn(opts.url, opts.anonKey)
      const worker = must('register_worker', await c.rpc('register_worker', { p_name: `bench-${i}`, p_kind: 'cli' })) as { id: string }
      return { client: c, workerId: worker.id }
    }),
  )

  let running = true
  let nextJob = 0
  // The coordinator's round loop: running → aggregating → next round, whenever the queue runs low.
  const refill = (async () => {
    while (running) {
      const { count } = await service.from('tasks').select('*', { count: 'exact', head: true }).eq('status', 'queued')
      if ((count ?? 0) < LOW_WATER) {
        const job = jobs[nextJob++ % jobs.length]!
        if (job.round >= ROUNDS) throw new Error(`All ${JOBS * SHARDS * ROUNDS} benchmark tasks are used up; measure for fewer seconds`)
        must('pausing a job', await service.from('jobs').update({ status: 'aggregating' }).eq('id', job.id))
        must('enqueue_round', await service.rpc('enqueue_round', { p_job_id: job.id }))
        job.round++
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  })()

  let cycles = 0
  const started = performance.now()
  const deadline = started + opts.seconds * 1000
  const loops = team.map(async ({ client: c, workerId }) => {
    while (performance.now() < deadline) {
      const tasks = must('claim_task', await c.rpc('claim_task', { p_worker_id: workerId })) as Array<{ task_id: number }>
      const task = tasks[0]
      if (!task) {
        await new Promise((resolve) => setTimeout(resolve, 5))
        continue
      }
      must('complete_task', await c.rpc('complete_task', { p_task_id: task.task_id, p_worker_id: workerId, p_result: RESULT }))
      if (performance.now() <= deadline) cycles++
    }
  })
  try {
    await Promise.all(loops)
  } finally {
    running = false
    await refill
  }
  const seconds = (performance.now() - started) / 1000
  return { cycles, seconds: Math.round(seconds * 100) / 100, cyclesPerSecond: Math.round(cycles / seconds) }
}
