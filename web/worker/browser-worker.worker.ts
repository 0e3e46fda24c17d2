/// <reference lib="webworker" />
// The built-in browser worker: the same worker core as `oblivion worker` (claim_task, training,
// upload, complete_task, heartbeats), run in a module Web Worker so training never blocks the
// page. Started by components/browser-worker/use-browser-worker.ts; messages in protocol.ts.
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import { useBackend } from '@oblivion/model'
import { startWorker, type WorkerHandle } from '@oblivion/node-client/worker-core'
import type { FromWorker, ToWorker } from './protocol.ts'

/** Where copy-tfjs-wasm.mjs (the web package's prebuild/predev) puts TF.js' .wasm files. */
const WASM_PATHS = '/tfjs-wasm/'

const scope = self as unknown as DedicatedWorkerGlobalScope
const post = (message: FromWorker) => scope.postMessage(message)

/** The page's latest access token: every request and the Realtime socket read it through `accessToken`. */
let accessToken = ''
let client: SupabaseClient | null = null
let handle: WorkerHandle | null = null
let phase: 'idle' | 'starting' | 'running' | 'exited' = 'idle'
/** A stop that arrived while starting: applied as soon as the core has started. */
let pendingStop: Extract<ToWorker, { type: 'stop' }> | null = null

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data
  switch (message.type) {
    case 'start':
      if (phase === 'idle') void start(message)
      return
    case 'tokens':
      accessToken = message.accessToken
      // Push it to the joined channels now rather than at the next heartbeat (25 s).
      void client?.realtime.setAuth().catch(() => {})
      return
    case 'stop':
      if (handle) void stop(handle, message)
      else if (phase === 'starting') pendingStop = message
      else exit()
      return
  }
}

async function start(options: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  phase = 'starting'
  accessToken = options.accessToken
  try {
    const userId = await checkSession(options.supabaseUrl, options.anonKey, accessToken)

    let fallback: string | null = null
    const backend = await useBackend('wasm', { wasmPaths: WASM_PATHS, onFallback: (reason) => (fallback = reason) })
    post({ type: 'backend', backend, fallback })

    // The `accessToken` option (supabase-js' hook for sessions managed elsewhere) makes REST,
    // Storage and Realtime carry the page's token, and leaves this client without an auth client:
    // nothing here can refresh the session. The auth options only say so twice.
    client = createClient(options.supabaseUrl, options.anonKey, {
      accessToken: async () => accessToken,
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    })
    const started = await startWorker({
      supabase: client,
      userId,
      name: options.name,
      kind: 'browser',
      maxConcurrency: 1,
      leaseSeconds: options.leaseSeconds,
      pollIntervalMs: options.pollIntervalMs,
      payoutAddress: options.payoutAddress,
      backend,
      onEvent: (workerEvent) => {
        if (workerEvent.type === 'progress' && !progressThrottle(workerEvent.taskId, workerEvent.phase, workerEvent.fraction)) return
        post({ type: 'event', event: workerEvent })
      },
    })
    handle = started
    phase = 'running'
    void started.done.then(exit)
    if (pendingStop) void stop(started, pendingStop)
  } catch (error) {
    post({ type: 'fatal', message: (error as Error).message ?? String(error) })
    exit()
  }
}

async function stop(running: WorkerHandle, message: Extract<ToWorker, { type: 'stop' }>): Promise<void> {
  try {
    if (message.mode === 'drain') await running.drain()
    else await running.release(message.reason)
  } catch (error) {
    post({ type: 'fatal', message: `stopping failed: ${(error as Error).message ?? String(error)}` })
    exit()
  }
}

/**
 * Training reports every step (300–600 per MNIST task); the page needs a few a second. Passes a
 * phase's first and last report and at most one every PROGRESS_INTERVAL_MS between.
 */
const PROGRESS_INTERVAL_MS = 100
const lastProgress = new Map<string, number>()
function progressThrottle(taskId: number, phase: string, fraction: number): boolean {
  const key = `${taskId}:${phase}`
  const now = performance.now()
  const last = lastProgress.get(key)
  if (fraction >= 1) {
    lastProgress.delete(key)
    return true
  }
  if (last !== undefined && now - last < PROGRESS_INTERVAL_MS) return false
  lastProgress.set(key, now)
  return true
}

/** The access token's user, asked of the Auth API (GET /auth/v1/user): a bad session fails here, by name. */
async function checkSession(url: string, anonKey: string, token: string): Promise<string> {
  const auth = createClient(url, anonKey, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } }).auth
  const { data, error } = await auth.getUser(token)
  if (error || !data.user) throw new Error(`The session was not accepted (${error?.message ?? 'no user'}): sign in again.`)
  if (data.user.is_anonymous) throw new Error('Sign in with your wallet first: the browser worker is paid at the signed-in address.')
  return data.user.id
}

function exit(): void {
  if (phase === 'exited') return
  phase = 'exited'
  const closing = client
  client = null
  handle = null
  void (async () => {
    await closing?.removeAllChannels().catch(() => {})
    closing?.realtime.disconnect()
    post({ type: 'exited' })
  })()
}
