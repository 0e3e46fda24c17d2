/**
 * The workers' side of `measureClaimCycles`, run in its own process as real workers are: reads
 * `{url, anonKey, workers: [{accessToken, workerId}], seconds}` as JSON from argv[2], loops
 * claim_task → complete_task through supabase-js for `seconds`, prints `{cycles, seconds}`.
 */
import { performance } from 'node:perf_hooks'
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import { SAMPLE_CID } from '../../tests/support/fixtures.ts'

export interface ClaimLoopInput {
  url: string
  anonKey: string
  workers: Array<{ accessToken: string; workerId: string }>
  seconds: number
}

const WARMUP_MS = 1000
const RESULT = { artifact_cid: SAMPLE_CID, sample_count: 100 }

async function main() {
  const input = JSON.parse(process.argv[2]!) as ClaimLoopInput
  let cycles = 0
  // The first second is not counted: connections open and the JIT warms up.
  const started = performance.now() + WARMUP_MS
  const deadline = started + input.seconds * 1000
  await Promise.all(
    input.workers.map(async ({ accessToken, workerId }) => {
      const c = createClient(input.url, input.anonKey, {
        accessToken: async () => accessToken,
        realtime: { transport: WebSocket as never },
      })
      while (performance.now() < deadline) {
        const claim = await c.rpc('claim_task', { p_worker_id: workerId })
        if (claim.error) throw new Error(`claim_task failed: ${claim.error.code} ${claim.error.message}`)
        const task = (claim.data as Array<{ task_id: number }>)[0]
        if (!task) {
          await new Promise((resolve) => setTimeout(resolve, 5))
          continue
        }
        const done = await c.rpc('complete_task', { p_task_id: task.task_id, p_worker_id: workerId, p_result: RESULT })
        if (done.error) throw new Error(`complete_task failed: ${done.error.code} ${done.error.message}`)
        const now = performance.now()
        if (now >= started && now <= deadline) cycles++
      }
    }),
  )
  console.log(JSON.stringify({ cycles, seconds: input.seconds }))
}

main().catch((error: Error) => {
  console.error(error.message)
  process.exit(1)
})
