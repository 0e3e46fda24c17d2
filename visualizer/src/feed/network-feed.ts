import {
  NETWORK_CHANGED_EVENT,
  NETWORK_CHANNEL,
  NETWORK_PRESENCE_CHANNEL,
} from '@oblivion/node-client/network-channel'
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js'
import { buildGraph } from './graph-model.ts'
import {
  AnswerShapeError,
  readJobCurves,
  readLeaderboard,
  readStats,
  readTopology,
  type TopologyAnswer,
} from './network-answers.ts'
import { addSample, EMPTY_HISTORY, rateSeries, type CounterHistory } from './rate-series.ts'
import { RefreshThrottle } from './refresh-throttle.ts'
import {
  EMPTY_PRESENCE,
  nextPresence,
  readPresenceState,
  unknownPresentWorkers,
  visibleWorkers,
  type PresenceMemory,
  type PresenceState,
} from './worker-presence.ts'
import { ViewStore, type NetworkSource, type NetworkView } from './network-view.ts'

export interface NetworkFeedOptions {
  /** supabase-js with the anon key (a signed-in session works too): the public RPCs need nothing more. */
  supabase: SupabaseClient
  /** The API's URL, named in messages ("… at http://127.0.0.1:54321 does not answer"). */
  apiUrl?: string
  /** Topology and stats are re-read on a change pulse at most this often. */
  refreshMs?: number
  /** Curves and the leaderboard (they change per round and per completion) at most this often. */
  slowRefreshMs?: number
  /** Without pulses (no coordinator, Realtime down) everything is re-read this often. */
  fallbackPollMs?: number
  curvesLimit?: number
  leaderboardLimit?: number
}

const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 15_000]

/**
 * The live network as a store for React (useSyncExternalStore) or anything else: reads the
 * public RPCs network_topology() and network_stats() when the coordinator pulses on `network`
 * (throttled), network_job_curves() and network_leaderboard() more slowly, and polls every 15 s
 * as the fallback ("push makes it fast, polling makes it correct"). Presence on
 * `network-presence` hides workers as soon as they leave. A failed read is shown as a problem
 * with the last data kept, and retried with a growing wait.
 */
export class NetworkFeed implements NetworkSource {
  private readonly store = new ViewStore()
  readonly subscribe = this.store.subscribe
  readonly getSnapshot = this.store.getSnapshot

  private readonly options: Required<Omit<NetworkFeedOptions, 'apiUrl'>> & { apiUrl: string | null }
  private topology: TopologyAnswer | null = null
  private presence: PresenceMemory = EMPTY_PRESENCE
  private unknownPresent = ''
  private history: CounterHistory = EMPTY_HISTORY
  private failures = 0
  private session: Session | null = null
  private stopping: Promise<void> = Promise.resolve()

  constructor(options: NetworkFeedOptions) {
    this.options = {
      refreshMs: 500,
      slowRefreshMs: 3_000,
      fallbackPollMs: 15_000,
      curvesLimit: 6,
      leaderboardLimit: 10,
      ...options,
      apiUrl: options.apiUrl ?? null,
    }
  }

  start(): void {
    if (this.session) return
    const session: Session = {
      active: true,
      channels: [],
      timers: new Map(),
      fast: new RefreshThrottle(() => this.readTopology(session), this.options.refreshMs),
      slow: new RefreshThrottle(() => this.readPanels(session), this.options.slowRefreshMs),
    }
    this.session = session
    // A channel of the same topic from a stop() a moment ago must be gone before it is joined again.
    void this.stopping.then(() => session.active && this.open(session))
  }

  async stop(): Promise<void> {
    const session = this.session
    if (!session) return this.stopping
    this.session = null
    session.active = false
    session.fast.cancel()
    session.slow.cancel()
    for (const timer of session.timers.values()) clearTimeout(timer)
    const { supabase } = this.options
    this.stopping = Promise.all(session.channels.map((c) => supabase.removeChannel(c).catch(() => {}))).then(() => {})
    return this.stopping
  }

  private open(session: Session): void {
    const { supabase } = this.options
    const refreshAll = () => {
      session.fast.request()
      session.slow.request()
    }
    const realtimeStatus = (status: string) => {
      if (!session.active) return
      if (status === 'SUBSCRIBED') {
        this.store.update({ realtime: 'live' })
        // (Re)joined: changes may have happened while we were not listening.
        session.fast.requestNow()
        session.slow.request()
      } else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
        this.store.update({ realtime: 'down' })
      }
    }
    const pulses: RealtimeChannel = supabase
      .channel(NETWORK_CHANNEL)
      .on('broadcast', { event: NETWORK_CHANGED_EVENT }, refreshAll)
      .subscribe(realtimeStatus)
    const presence: RealtimeChannel = supabase
      .channel(NETWORK_PRESENCE_CHANNEL)
      .on('presence', { event: 'sync' }, () => session.active && this.onPresence(presence.presenceState() as PresenceState, session))
      .subscribe()
    session.channels.push(pulses, presence)

    const poll = () => {
      if (!session.active) return
      refreshAll()
      later(session, 'poll', this.options.fallbackPollMs, poll)
    }
    poll()
    // The rate charts move on every second, whether or not a read came in.
    const tick = () => {
      if (!session.active) return
      if (this.history.first !== null) this.store.update({ rates: rateSeries(this.history, Date.now()) })
      later(session, 'tick', 1000 - (Date.now() % 1000), tick)
    }
    tick()
  }

  private onPresence(state: PresenceState, session: Session): void {
    this.presence = nextPresence(this.presence, readPresenceState(state), Date.now())
    const unknown = this.topology ? unknownPresentWorkers(this.topology.workers, this.presence).sort().join(',') : ''
    // A worker that just registered: the database lists it by now.
    if (unknown && unknown !== this.unknownPresent) session.fast.request()
    this.unknownPresent = unknown
    this.rebuild()
  }

  private rebuild(): void {
    const topology = this.topology
    if (!topology) return
    const graph = buildGraph(
      {
        workers: visibleWorkers(topology.workers, this.presence),
        jobs: topology.jobs,
        leases: topology.leases,
        coordinatorOnline: this.presence.coordinator,
      },
      this.store.getSnapshot().graph,
    )
    this.store.update({ graph, coordinatorOnline: this.presence.coordinator })
  }

  private async readTopology(session: Session): Promise<void> {
    try {
      const [topologyAnswer, statsAnswer] = await Promise.all([this.call('network_topology'), this.call('network_stats')])
      if (!session.active) return
      const topology = readTopology(topologyAnswer)
      const stats = readStats(statsAnswer)
      const now = Date.now()
      this.topology = topology
      this.history = addSample(this.history, { t: now, claims: stats.tasks.claims, completed: stats.tasks.completed })
      this.failures = 0
      this.store.update({ phase: 'live', problem: null, updatedAt: now, stats, rates: rateSeries(this.history, now) })
      this.rebuild()
    } catch (error) {
      if (!session.active) return
      const waitMs = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)]!
      this.failures++
      this.store.update({ phase: 'unreachable', problem: `${describeFailure(error, this.options.apiUrl)} Retrying in ${waitMs / 1000} s.` })
      later(session, 'retry', waitMs, () => session.fast.request())
    }
  }

  private async readPanels(session: Session): Promise<void> {
    const [curves, leaderboard] = await Promise.allSettled([
      this.call('network_job_curves', { p_limit: this.options.curvesLimit }).then(readJobCurves),
      this.call('network_leaderboard', { p_limit: this.options.leaderboardLimit }).then(readLeaderboard),
    ])
    if (!session.active) return
    const view: NetworkView = this.store.getSnapshot()
    this.store.update({
      curves: curves.status === 'fulfilled' ? curves.value : view.curves,
      leaderboard: leaderboard.status === 'fulfilled' ? leaderboard.value : view.leaderboard,
      panelProblems: {
        curves: curves.status === 'rejected' ? describeFailure(curves.reason, this.options.apiUrl) : null,
        leaderboard: leaderboard.status === 'rejected' ? describeFailure(leaderboard.reason, this.options.apiUrl) : null,
      },
    })
  }

  private async call(name: string, args?: Record<string, unknown>): Promise<unknown> {
    const { data, error } = await this.options.supabase.rpc(name, args)
    if (error) throw new RpcFailure(name, error.message, error.code ?? '')
    return data
  }
}

interface Session {
  active: boolean
  channels: RealtimeChannel[]
  timers: Map<'poll' | 'tick' | 'retry', ReturnType<typeof setTimeout>>
  fast: RefreshThrottle
  slow: RefreshThrottle
}

function later(session: Session, name: 'poll' | 'tick' | 'retry', ms: number, run: () => void): void {
  clearTimeout(session.timers.get(name))
  session.timers.set(name, setTimeout(run, ms))
}

class RpcFailure extends Error {
  constructor(
    readonly rpc: string,
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

/** A failed read in words: unreachable API, a database without the functions, or the error itself. */
export function describeFailure(error: unknown, apiUrl: string | null): string {
  const where = apiUrl ? ` at ${apiUrl}` : ''
  if (error instanceof AnswerShapeError) return error.message
  if (error instanceof RpcFailure) {
    if (error.code === 'PGRST202' || error.code === '42883') {
      return `The database${where} has no ${error.rpc}(): apply the migrations (npm start applies them).`
    }
    // supabase-js reports a fetch that failed (no server, DNS, CORS) with an empty code.
    if (!error.code || /fetch|network|ECONNREFUSED|Failed to/i.test(error.message)) {
      return `The network's API${where} does not answer (${error.message}). Is the gateway running (npm start)?`
    }
    return `${error.rpc}() failed${where}: ${error.message} (${error.code}).`
  }
  return `Reading the network failed: ${(error as Error)?.message ?? String(error)}.`
}
