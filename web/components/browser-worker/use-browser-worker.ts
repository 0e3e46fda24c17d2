'use client'
import { useCallback, useEffect, useReducer, useRef, useState } from 'react'
import type { ClaimedTask, TaskPhase, WorkerEvent } from '@oblivion/node-client/worker-core'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { useSupabase } from '../../lib/supabase-context.tsx'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'
import type { FromWorker, ToWorker } from '../../worker/protocol.ts'

/**
 * Lease asked for at each claim. The core heartbeats every quarter of it, so a tab that dies
 * without saying so (crash, killed process) holds its shard for at most 30 s.
 */
const LEASE_SECONDS = 30
/** Claim attempts without a "work available" broadcast (push makes it fast, polling makes it correct). */
const POLL_INTERVAL_MS = 5_000
const NAME_KEY = 'oblivion-browser-worker-name'

export type BrowserWorkerStatus =
  /** Toggle off, nothing running. */
  | 'off'
  /** Loading TF.js, checking the session, registering. */
  | 'starting'
  /** Registered, waiting for work. */
  | 'idle'
  | 'training'
  /** Toggled off: finishing and delivering the running task, then stopping. */
  | 'stopping'
  /** The tab is hidden: the running task was given back; resumes when the tab is visible again. */
  | 'paused'
  /** Could not start or stopped on an error: `problem` says why. */
  | 'failed'

export interface CurrentTask extends ClaimedTask {
  phase: TaskPhase
  /** Of the phase, in [0, 1]. */
  fraction: number
  loss?: number
}

export interface CompletedTask {
  taskId: number
  jobId: string
  round: number
  shardIndex: number
  seconds: number
  samplesPerSecond: number
}

export interface BrowserWorkerState {
  status: BrowserWorkerStatus
  /** The toggle: the person wants the worker running (while the tab is visible). */
  enabled: boolean
  workerId: string | null
  backend: 'wasm' | 'cpu' | null
  /** Why training runs on cpu, when it does. */
  backendFallback: string | null
  task: CurrentTask | null
  /** Delivered by this tab since it was opened. */
  completed: CompletedTask[]
  failed: number
  /** The last warning, failure or dropped lease, in words. */
  notice: string | null
  problem: string | null
}

const initialState: BrowserWorkerState = {
  status: 'off',
  enabled: false,
  workerId: null,
  backend: null,
  backendFallback: null,
  task: null,
  completed: [],
  failed: 0,
  notice: null,
  problem: null,
}

type Action =
  | { type: 'enable' }
  | { type: 'disable' }
  | { type: 'spawned' }
  | { type: 'paused' }
  | { type: 'message'; message: FromWorker }
  | { type: 'exited'; hidden: boolean }

function reduce(state: BrowserWorkerState, action: Action): BrowserWorkerState {
  switch (action.type) {
    case 'enable':
      return { ...state, enabled: true, problem: null, status: state.status === 'failed' || state.status === 'off' ? 'starting' : state.status }
    case 'disable':
      return { ...state, enabled: false, status: state.status === 'failed' || state.status === 'off' ? state.status : 'stopping' }
    case 'spawned':
      return { ...state, status: 'starting', task: null }
    case 'paused':
      return { ...state, status: 'paused' }
    case 'exited':
      return {
        ...state,
        task: null,
        workerId: null,
        status: state.status === 'failed' ? 'failed' : state.enabled && action.hidden ? 'paused' : state.enabled ? 'starting' : 'off',
      }
    case 'message':
      return onMessage(state, action.message)
  }
}

function onMessage(state: BrowserWorkerState, message: FromWorker): BrowserWorkerState {
  switch (message.type) {
    case 'backend':
      return { ...state, backend: message.backend, backendFallback: message.fallback }
    case 'fatal':
      return { ...state, status: 'failed', enabled: false, problem: message.message }
    case 'exited':
      return state
    case 'event':
      return onEvent(state, message.event)
  }
}

const stoppingOr = (state: BrowserWorkerState, status: BrowserWorkerStatus): BrowserWorkerStatus =>
  state.status === 'stopping' || state.status === 'paused' ? state.status : status

function onEvent(state: BrowserWorkerState, event: WorkerEvent): BrowserWorkerState {
  switch (event.type) {
    case 'registered':
      return { ...state, workerId: event.workerId, status: stoppingOr(state, 'idle') }
    case 'claimed':
      return { ...state, task: { ...event.task, phase: 'download', fraction: 0 }, status: stoppingOr(state, 'training') }
    case 'progress': {
      if (state.task?.taskId !== event.taskId) return state
      const task: CurrentTask = { ...state.task, phase: event.phase, fraction: event.fraction }
      if (event.loss !== undefined) task.loss = event.loss
      return { ...state, task }
    }
    case 'completed': {
      const task = state.task?.taskId === event.taskId ? state.task : null
      const done: CompletedTask = {
        taskId: event.taskId,
        jobId: task?.jobId ?? '',
        round: task?.round ?? 0,
        shardIndex: task?.shardIndex ?? 0,
        seconds: event.seconds,
        samplesPerSecond: event.samplesPerSecond,
      }
      return { ...state, task: null, completed: [...state.completed, done], status: stoppingOr(state, 'idle') }
    }
    case 'failed':
      return { ...state, task: null, failed: state.failed + 1, notice: `Task ${event.taskId} failed: ${event.reason}`, status: stoppingOr(state, 'idle') }
    case 'dropped':
      return { ...state, task: null, notice: `Task ${event.taskId} was dropped: ${event.reason}`, status: stoppingOr(state, 'idle') }
    case 'released':
      return event.taskIds.length ? { ...state, task: null, notice: `Gave back task ${event.taskIds.join(', ')}: ${event.reason}` } : state
    case 'warning':
      return { ...state, notice: event.message }
    case 'signed-in':
    case 'draining':
    case 'stopped':
      return state
  }
}

/** A stable worker name per browser profile: its tasks and payouts stay one worker's. */
function workerName(): string {
  let name = localStorage.getItem(NAME_KEY)
  if (!name) {
    const bytes = crypto.getRandomValues(new Uint8Array(4))
    name = `browser-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
    localStorage.setItem(NAME_KEY, name)
  }
  return name
}

interface RunningWorker {
  worker: Worker
  /** The stop already asked for: a drain can still become a release, nothing goes back. */
  stopping: 'drain' | 'release' | null
  releaseLock: () => void
}

/**
 * The built-in browser worker: runs the shared worker core in a Web Worker while the toggle is on,
 * the person is signed in with their wallet and the tab is visible. Turning it off drains (the
 * running task is finished and delivered); hiding the tab releases (the task is given back at
 * once, so its lease does not sit idle in a throttled tab) and resumes when visible again.
 */
export function useBrowserWorker() {
  const config = usePublicConfig()
  const { session } = useSupabase()
  const { account, signedIn } = useWallet()
  const [state, dispatch] = useReducer(reduce, initialState)
  const [visible, setVisible] = useState(true)
  const running = useRef<RunningWorker | null>(null)
  /** A spawn waiting for its Web Lock: the effect must not start a second one meanwhile. */
  const spawning = useRef(false)
  const accessToken = session?.access_token ?? null
  const tokenRef = useRef(accessToken)
  tokenRef.current = accessToken

  useEffect(() => {
    const onVisibility = () => setVisible(document.visibilityState !== 'hidden')
    onVisibility()
    document.addEventListener('visibilitychange', onVisibility)
    return () => document.removeEventListener('visibilitychange', onVisibility)
  }, [])

  const ready = signedIn && account !== null && accessToken !== null
  const wanted = state.enabled && visible && ready

  const stop = useCallback((mode: 'drain' | 'release', reason: string) => {
    const current = running.current
    if (!current || current.stopping === 'release' || current.stopping === mode) return
    current.stopping = mode
    current.worker.postMessage({ type: 'stop', mode, reason } satisfies ToWorker)
  }, [])

  // Start one when wanted and none runs; stop the running one when no longer wanted.
  useEffect(() => {
    if (wanted && !running.current && !spawning.current) {
      spawning.current = true
      void spawn().finally(() => (spawning.current = false))
    } else if (!wanted && running.current) {
      if (!ready) stop('release', 'signed out in the browser')
      else if (!visible) {
        stop('release', 'the browser tab was hidden')
        dispatch({ type: 'paused' })
      } else stop('drain', 'turned off')
    }

    async function spawn() {
      // One browser worker per wallet in this browser: a second tab would race the first for
      // the same worker row. The Web Lock is held until the worker has exited.
      let releaseLock!: () => void
      const held = new Promise<void>((resolve) => (releaseLock = resolve))
      const locked = await new Promise<boolean>((resolve) => {
        if (!navigator.locks) return resolve(true)
        navigator.locks
          .request(`oblivion-browser-worker:${account}`, { ifAvailable: true }, (lock) => {
            resolve(lock !== null)
            return lock ? held : undefined
          })
          .catch(() => resolve(true))
      })
      if (!locked) {
        dispatch({ type: 'message', message: { type: 'fatal', message: 'The browser worker is already running in another tab of this browser: use that tab, or turn it off there first.' } })
        return
      }
      const worker = new Worker(new URL('../../worker/browser-worker.worker.ts', import.meta.url), { type: 'module', name: 'oblivion-browser-worker' })
      const entry: RunningWorker = { worker, stopping: null, releaseLock }
      running.current = entry
      dispatch({ type: 'spawned' })
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data
        dispatch({ type: 'message', message })
        if (message.type === 'exited') finish()
      }
      worker.onerror = (event) => {
        event.preventDefault()
        dispatch({ type: 'message', message: { type: 'fatal', message: `The worker crashed: ${event.message || 'script error'}` } })
        finish()
      }
      const finish = () => {
        if (running.current !== entry) return
        worker.terminate()
        running.current = null
        releaseLock()
        dispatch({ type: 'exited', hidden: document.visibilityState === 'hidden' })
      }
      worker.postMessage({
        type: 'start',
        supabaseUrl: config.supabaseUrl,
        anonKey: config.anonKey,
        accessToken: tokenRef.current ?? '',
        name: workerName(),
        payoutAddress: account,
        leaseSeconds: LEASE_SECONDS,
        pollIntervalMs: POLL_INTERVAL_MS,
      } satisfies ToWorker)
    }
    // `state.status` re-runs this after an exit, so a wanted worker starts again.
  }, [wanted, ready, visible, account, config.supabaseUrl, config.anonKey, stop, state.status])

  // The page's client refreshes the session; the worker follows with each new access token.
  useEffect(() => {
    if (accessToken) running.current?.worker.postMessage({ type: 'tokens', accessToken } satisfies ToWorker)
  }, [accessToken])

  // Leaving the page: give the task back rather than let its lease run out.
  useEffect(() => {
    const onPageHide = () => stop('release', 'the page was closed')
    window.addEventListener('pagehide', onPageHide)
    return () => {
      window.removeEventListener('pagehide', onPageHide)
      const current = running.current
      if (current) {
        current.worker.postMessage({ type: 'stop', mode: 'release', reason: 'the page was left' } satisfies ToWorker)
        // Give the release a moment to reach the gateway before the worker goes.
        setTimeout(() => {
          current.worker.terminate()
          current.releaseLock()
        }, 3_000)
        running.current = null
      }
    }
  }, [stop])

  return {
    ...state,
    visible,
    /** Signed in with a wallet: the worker can run. */
    ready,
    enable: useCallback(() => dispatch({ type: 'enable' }), []),
    disable: useCallback(() => dispatch({ type: 'disable' }), []),
    /** While stopping: give the running task back now instead of finishing it. */
    stopNow: useCallback(() => stop('release', 'stopped by the person at the browser'), [stop]),
  }
}

export type BrowserWorker = ReturnType<typeof useBrowserWorker>
