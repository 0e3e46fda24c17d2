import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import { measureLocalStep } from './local-step.ts'
import { runOblivion, startNetwork, startOblivion, type NetworkProcess } from '../src/local-processes.ts'

/**
 * `npm run bench:train` — prints JSON:
 *  - localStep: samples/s of local training on 784-128-10 at batch 64 per TF.js backend,
 *    non-private and DP-SGD, and the DP overhead ratio (target ≤ 2×);
 *  - timeTo94: wall time from job creation to the first round whose held-out accuracy is
 *    ≥ 0.94, for the non-private MNIST sample job with 1, 2 and 4 worker processes, each run on
 *    a fresh local network (gateway on embedded PGlite) with its own coordinator, and the mean
 *    time of a round (which round first reaches 0.94 varies from run to run: fresh noise and
 *    shuffling each time).
 * Options: --workers 1,2,4   --skip-network (local step only)
 */
const { values } = parseArgs({ options: { workers: { type: 'string', default: '1,2,4' }, 'skip-network': { type: 'boolean', default: false } } })

interface RoundRow {
  round: number
  test_accuracy: number | null
  started_at: string
  aggregated_at: string | null
}

async function timeTo94(workers: number) {
  const home = await mkdtemp(path.join(os.tmpdir(), 'oblivion-bench-'))
  const processes: NetworkProcess[] = []
  try {
    const network = await startNetwork(home)
    processes.push(network.process)
    const at = { url: network.url, home }
    processes.push(startOblivion('coordinator', ['coordinator', '--no-chain', '--fund-without-escrow', '--poll-seconds', '1'], at))
    const started = Array.from({ length: workers }, (_, i) => startOblivion(`w${i}`, ['worker', '--name', `bench-${i}`, '--poll-seconds', '1'], at))
    processes.push(...started)
    await Promise.all(started.map((w) => w.waitFor((line) => line.type === 'registered', 120_000)))

    const keys = JSON.parse(await readFile(path.join(home, 'gateway.json'), 'utf8')) as { serviceRoleKey: string }
    const service = createClient(network.url, keys.serviceRoleKey, { auth: { persistSession: false }, realtime: { transport: WebSocket as never } })
    const created = await runOblivion(['job', 'create', 'sample_job/jobs/mnist-nonprivate.json'], at)
    const jobId = String(created.find((line) => line.type === 'job-created')?.id)
    const deadline = Date.now() + 15 * 60_000
    for (;;) {
      const { data: job } = await service.from('jobs').select('status, created_at, finished_at').eq('id', jobId).single()
      const { data: rounds } = await service.from('job_rounds').select('round, test_accuracy, started_at, aggregated_at').eq('job_id', jobId).order('round')
      const reached = (rounds as RoundRow[] | null)?.find((r) => r.aggregated_at && (r.test_accuracy ?? 0) >= 0.94)
      if (reached || (job && ['completed', 'failed', 'cancelled'].includes(job.status)) || Date.now() > deadline) {
        const createdAt = Date.parse(job!.created_at)
        const done = (rounds as RoundRow[]).filter((r) => r.aggregated_at)
        const roundSeconds = done.map((r) => (Date.parse(r.aggregated_at!) - Date.parse(r.started_at)) / 1000)
        return {
          workers,
          secondsTo94: reached ? (Date.parse(reached.aggregated_at!) - createdAt) / 1000 : null,
          roundReached: reached?.round ?? null,
          // Training + aggregation of one round: the part that more workers should shorten.
          meanSecondsPerRound: roundSeconds.length ? Number((roundSeconds.reduce((a, b) => a + b, 0) / roundSeconds.length).toFixed(2)) : null,
          accuracies: (rounds as RoundRow[]).map((r) => r.test_accuracy),
          status: job!.status,
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  } finally {
    for (const proc of processes.slice().reverse()) await proc.stop(5_000)
    await rm(home, { recursive: true, force: true })
  }
}

const localStep = [await measureLocalStep('wasm', 6400), await measureLocalStep('cpu', 1280)]
const network = []
if (!values['skip-network']) {
  for (const workers of values.workers.split(',').map(Number)) network.push(await timeTo94(workers))
}
console.log(JSON.stringify({ machine: { cores: os.availableParallelism(), node: process.versions.node }, localStep, timeTo94: network }, null, 2))
process.exit(0)
