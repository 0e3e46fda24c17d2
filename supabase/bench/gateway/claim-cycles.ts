import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import { validSpec } from '../../tests/support/fixtures.ts'
import type { ClaimLoopInput } from './claim-loop.ts'

const run = promisify(execFile)
const CLAIM_LOOP = new URL('./claim-loop.ts', import.meta.url).pathname

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
      const { data } = await c.auth.getSession()
      return { accessToken: data.session!.access_token, workerId: worker.id }
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

  // The workers run in a process of their own, as they do in the network: sharing the gateway's
  // event loop, the 32 clients' own HTTP work was measured as the gateway's (one core at 93 %).
  const input: ClaimLoopInput = {
    url: opts.url,
    anonKey: opts.anonKey,
    workers: team.map((t) => ({ accessToken: t.accessToken, workerId: t.workerId })),
    seconds: opts.seconds,
  }
  let outcome: { cycles: number; seconds: number }
  try {
    const { stdout } = await run(process.execPath, [...process.execArgv, CLAIM_LOOP, JSON.stringify(input)], {
      maxBuffer: 1024 * 1024,
    })
    outcome = JSON.parse(stdout.trim().split('\n').pop()!) as { cycles: number; seconds: number }
  } finally {
    running = false
    await refill
  }
  const { cycles, seconds } = outcome
  return { cycles, seconds: Math.round(seconds * 100) / 100, cyclesPerSecond: Math.round(cycles / seconds) }
}
