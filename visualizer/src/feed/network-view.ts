import type { JobCurve, LeaderboardEntry, StatsAnswer } from './network-answers.ts'
import { countGraph, EMPTY_GRAPH, type GraphCounts, type NetworkGraph } from './graph-model.ts'
import type { RatePoint } from './rate-series.ts'

/** Everything a network view shows, as one immutable snapshot (a new object on each change). */
export interface NetworkView {
  /** loading: nothing read yet; live: the last read worked; unreachable: it failed (the data shown is the last that came). */
  phase: 'loading' | 'live' | 'unreachable'
  /** What went wrong, in words a person can act on; null when all is well. */
  problem: string | null
  /** Problems of one panel only (the rest still updates). */
  panelProblems: { curves: string | null; leaderboard: string | null }
  /** The change pulses and presence: without them the view polls every 15 s. */
  realtime: 'connecting' | 'live' | 'down'
  /** When the topology was last read (ms since the epoch). */
  updatedAt: number | null
  /** Same object until a node or link comes or goes: pass it to the graph as is. */
  graph: NetworkGraph
  counts: GraphCounts
  stats: StatsAnswer | null
  /** Claims/s and completions/s, one point a second over the last minutes. */
  rates: RatePoint[]
  /** null until first read. */
  curves: JobCurve[] | null
  leaderboard: LeaderboardEntry[] | null
  /** Whether a coordinator is present; null: not known yet. */
  coordinatorOnline: boolean | null
  /** Made up by SyntheticNetwork (?synthetic=N), not read from a network. */
  synthetic: boolean
}

/** What the hooks and components read: NetworkFeed (a real network) or SyntheticNetwork. */
export interface NetworkSource {
  subscribe(listener: () => void): () => void
  getSnapshot(): NetworkView
  /** Opens the channels and starts reading; again after stop() is fine (React's strict mode does it). */
  start(): void
  stop(): Promise<void>
}

export const INITIAL_VIEW: NetworkView = {
  phase: 'loading',
  problem: null,
  panelProblems: { curves: null, leaderboard: null },
  realtime: 'connecting',
  updatedAt: null,
  graph: EMPTY_GRAPH,
  counts: countGraph(EMPTY_GRAPH),
  stats: null,
  rates: [],
  curves: null,
  leaderboard: null,
  coordinatorOnline: null,
  synthetic: false,
}

/** The listeners and the current snapshot, shared by the sources. */
export class ViewStore {
  private view: NetworkView
  private readonly listeners = new Set<() => void>()

  constructor(initial: NetworkView = INITIAL_VIEW) {
    this.view = initial
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  readonly getSnapshot = (): NetworkView => this.view

  update(changes: Partial<NetworkView>): void {
    this.view = { ...this.view, ...changes }
    if (changes.graph) this.view.counts = countGraph(changes.graph)
    for (const listener of this.listeners) listener()
  }
}
