import { useBackend, type BackendName, type BackendOptions } from '@oblivion/model'
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js'
import { JobDataCache } from './job-data-cache.ts'
import { joinNetworkPresence } from './network-channel.ts'
import { callRpc, RpcError } from './rpc.ts'
import { PermanentTaskError, runTask, type ClaimedTaskRow } from './task-runner.ts'
import type { WorkerEvent, WorkerHandle } from './worker-events.ts'
import { WORK_CHANNEL, WORK_AVAILABLE_EVENT } from './work-channel.ts'

export interface WorkerOptions {
  /** A signed-in supabase-js client (anon key + the worker owner's session). */
  supabase: SupabaseClient
  /**
   * The signed-in user's id, when the shell has checked the session itself. The browser worker's
   * client carries the page's token through supabase-js's `accessToken` option, which leaves it
   * without `supabase.auth`; otherwise the core asks `supabase.auth.getUser()`.
   */
  userId?: string
  name: string
  kind: 'cli' | 'browser'
  maxConcurrency: number
  /** Lease asked for at each claim; heartbeats renew it every quarter of it (at most 15 s). */
  leaseSeconds: number
  /** Claim attempts when no "work available" broadcast arrives: push makes it fast, polling makes it correct. */
  pollIntervalMs: number
  capabilities?: Record<string, unknown>
  /**
   * The EVM address the worker is paid at and whose bond stakes its leases of chain-funded jobs
   * (lower-case 0x + 40 hex); null or absent: local jobs only.
   */
  payoutAddress?: string | null
  backend?: BackendName
  backendOptions?: BackendOptions
  onEvent(event: WorkerEvent): void
}

interface RunningTask {
  row: ClaimedTaskRow
  abort: AbortController
  /** Why it was aborted: the lease was lost (drop silently) or the operator released it (give it back). */
  abortReason?: { kind: 'dropped' | 'released'; reason: string }
  done: Promise<void>
}

/**
 * The worker core shared by the CLI (`oblivion worker`) and the browser worker: register, then
 * claim tasks up to maxConcurrency through claim_task (woken by the coordinator's "work
 * available" broadcast, polling as the fallback), train each, deliver, and heartbeat to keep the
 * leases. Uses supabase-js only: no database access, no Node APIs.
 */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const { supabase, onEvent } = options
  onEvent({ type: 'signed-in', userId: options.userId ?? (await signedInUserId(supabase)) })

  const backend = await useBackend(options.backend ?? 'wasm', options.backendOptions)
  const worker = await callRpc<{ id: string; payout_address?: string | null }>(supabase, 'register_worker', {
    p_name: options.name,
    p_kind: options.kind,
    p_capabilities: { ...options.capabilities, backend },
    p_max_concurrency: options.maxConcurrency,
    p_payout_address: options.payoutAddress ?? null,
  })
  onEvent({ type: 'registered', workerId: worker.id, name: options.name, payoutAddress: worker.payout_address ?? null })
  // The network views see the worker arrive and leave at once (its id and kind only, no name).
  const presence = joinNetworkPresence(
    supabase,
    worker.id,
    { role: 'worker', worker_id: worker.id, kind: options.kind, started_at: new Date().toISOString() },
    (message) => onEvent({ type: 'warning', message }),
  )

  const running = new Map<number, RunningTask>()
  const dataCache = new JobDataCache(supabase)
  let state: 'running' | 'draining' | 'stopped' = 'running'
  let wake: (() => void) | null = null
  // Set by a wake-up that arrives while a claim is in flight, so the loop claims again at once.
  let dirty = false
  let stopped!: () => void
  const done = new Promise<void>((resolve) => (stopped = resolve))
  const wakeUp = () => {
    dirty = true
    wake?.()
    wake = null
  }

  const channel: RealtimeChannel = supabase
    .channel(WORK_CHANNEL)
    .on('broadcast', { event: WORK_AVAILABLE_EVENT }, wakeUp)
    .subscribe((status) => {
      // (Re)joined: something may have been queued while we were not listening.
      if (status === 'SUBSCRIBED') wakeUp()
    })

  const heartbeatMs = Math.min(15_000, (options.leaseSeconds * 1000) / 4)
  const heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs)

  async function heartbeat(): Promise<void> {
    try {
      const held = await callRpc<{ task_id: number }[]>(supabase, 'heartbeat', {
        p_worker_id: worker.id,
        p_lease_seconds: options.leaseSeconds,
      })
      const heldIds = new Set(held.map((row) => Number(row.task_id)))
      for (const [taskId, task] of running) {
        if (!heldIds.has(taskId) && !task.abortReason) {
          task.abortReason = { kind: 'dropped', reason: 'the lease was lost (expired, revoked or the job was cancelled)' }
          task.abort.abort()
        }
      }
    } catch (error) {
      onEvent({ type: 'warning', message: `heartbeat failed: ${(error as Error).message}; retrying in ${heartbeatMs / 1000} s` })
    }
  }

  function start(row: ClaimedTaskRow): void {
    const taskId = Number(row.task_id)
    const abort = new AbortController()
    const startedAt = Date.now()
    const entry: RunningTask = { row, abort, done: Promise.resolve() }
    onEvent({ type: 'claimed', task: { taskId, jobId: row.job_id, round: row.round, shardIndex: row.shard_index, attempt: row.attempt } })
    entry.done = runTask(row, {
      supabase,
      workerId: worker.id,
      dataCache,
      signal: abort.signal,
      onProgress: (phase, fraction, loss) => onEvent({ type: 'progress', taskId, phase, fraction, ...(loss !== undefined ? { loss } : {}) }),
    })
      .then((outcome) => onEvent({ type: 'completed', taskId, ...outcome, seconds: (Date.now() - startedAt) / 1000 }))
      .catch((error: Error) => settleFailure(entry, error))
      .finally(() => {
        running.delete(taskId)
        wakeUp()
      })
    running.set(taskId, entry)
  }

  async function settleFailure(task: RunningTask, error: Error): Promise<void> {
    const taskId = Number(task.row.task_id)
    if (task.abortReason?.kind === 'dropped') {
      onEvent({ type: 'dropped', taskId, reason: task.abortReason.reason })
      return
    }
    const retryable = !(error instanceof PermanentTaskError)
    const reason = task.abortReason?.reason ?? error.message
    try {
      await callRpc(supabase, 'fail_task', { p_task_id: taskId, p_worker_id: worker.id, p_reason: reason.slice(0, 1000), p_retryable: retryable })
      onEvent({ type: 'failed', taskId, reason, retryable })
    } catch (failError) {
      // OB030: the lease is gone already; the task is someone else's now.
      const message = failError instanceof RpcError && failError.code === 'OB030' ? 'the lease was already gone' : (failError as Error).message
      onEvent({ type: 'dropped', taskId, reason: `${reason}; could not give it back: ${message}` })
    }
  }

  async function claimLoop(): Promise<void> {
    let backoffMs = 1000
    while (state === 'running') {
      dirty = false
      if (running.size < options.maxConcurrency) {
        try {
          const rows = await callRpc<ClaimedTaskRow[]>(supabase, 'claim_task', {
            p_worker_id: worker.id,
            p_lease_seconds: options.leaseSeconds,
          })
          backoffMs = 1000
          const row = rows[0]
          if (row && state === 'running') {
            start(row)
            continue // try for another while below the cap
          }
        } catch (error) {
          if (!(error instanceof RpcError && error.code === 'OB011')) {
            onEvent({ type: 'warning', message: `claim failed: ${(error as Error).message}; retrying in ${backoffMs / 1000} s` })
            await sleep(backoffMs)
            backoffMs = Math.min(30_000, backoffMs * 2)
            continue
          }
        }
      }
      // Wait for a broadcast, a finished task, or the poll interval, whichever comes first.
      if (dirty && running.size < options.maxConcurrency) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollIntervalMs)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  async function shutdown(): Promise<void> {
    if (state === 'stopped') return
    clearInterval(heartbeatTimer)
    await Promise.all([supabase.removeChannel(channel), presence.leave()])
    state = 'stopped'
    onEvent({ type: 'stopped' })
    stopped()
  }

  const loop = claimLoop()

  return {
    workerId: worker.id,
    done,
    async drain() {
      if (state !== 'running') return done
      state = 'draining'
      wakeUp()
      onEvent({ type: 'draining', running: running.size })
      await loop
      await Promise.all([...running.values()].map((task) => task.done))
      await shutdown()
    },
    async release(reason) {
      if (state === 'stopped') return
      state = 'draining'
      wakeUp()
      const tasks = [...running.values()]
      for (const task of tasks) {
        task.abortReason ??= { kind: 'released', reason }
        task.abort.abort()
      }
      await loop
      await Promise.all(tasks.map((task) => task.done))
      onEvent({ type: 'released', taskIds: tasks.map((task) => Number(task.row.task_id)), reason })
      await shutdown()
    },
  }
}

async function signedInUserId(supabase: SupabaseClient): Promise<string> {
  const { data, error } = await supabase.auth.getUser()
  if (error || !data.user) throw new Error(`The worker needs a signed-in session: ${error?.message ?? 'no user'}`)
  return data.user.id
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
