/**
 * The network views' building blocks, shared by the visualizer (the wall screen) and web/'s
 * Network page: the live feed (a store for React), the synthetic network, the pure functions
 * behind them, and the components. Browser code only (supabase-js, React, canvas); the static
 * server is in '@oblivion/visualizer/serve'. The graph uses the canvas: in Next.js load
 * NetworkGraphView / WallScreen with `dynamic(…, { ssr: false })`.
 */
export { NetworkFeed, describeFailure, type NetworkFeedOptions } from '../feed/network-feed.ts'
export { SyntheticNetwork, type SyntheticOptions } from '../feed/synthetic-network.ts'
export { INITIAL_VIEW, type NetworkSource, type NetworkView } from '../feed/network-view.ts'
export { useNetworkFeed, useNetworkView } from '../feed/use-network-view.ts'
export {
  buildGraph,
  countGraph,
  COORDINATOR_NODE_ID,
  jobNodeId,
  workerNodeId,
  type GraphCounts,
  type GraphInput,
  type GraphLink,
  type GraphNode,
  type NetworkGraph,
  type NodeKind,
} from '../feed/graph-model.ts'
export { addSample, rateSeries, EMPTY_HISTORY, RATE_WINDOW_MS, type CounterHistory, type CounterSample, type RatePoint } from '../feed/rate-series.ts'
export { nextPresence, readPresenceState, visibleWorkers, EMPTY_PRESENCE, type PresenceMemory } from '../feed/worker-presence.ts'
export type { JobCurve, LeaderboardEntry, StatsAnswer, TopologyAnswer, TopologyJob, TopologyLease, TopologyWorker, WorkerKind } from '../feed/network-answers.ts'
export { NetworkGraphView, type NetworkGraphViewProps } from './network-graph.tsx'
export { RatesChart } from './rates-chart.tsx'
export { JobCurves } from './job-curves.tsx'
export { Leaderboard } from './leaderboard.tsx'
export { NetworkTiles, GraphLegend } from './network-tiles.tsx'
export { NetworkStatus } from './network-status.tsx'
export { WallScreen } from './wall-screen.tsx'
export { KIND_COLORS, LINK_COLORS } from './palette.ts'
