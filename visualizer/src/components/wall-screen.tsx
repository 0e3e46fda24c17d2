'use client'
import type { CSSProperties } from 'react'
import type { NetworkView } from '../feed/network-view.ts'
import { JobCurves } from './job-curves.tsx'
import { Leaderboard } from './leaderboard.tsx'
import { NetworkGraphView } from './network-graph.tsx'
import { NetworkStatus } from './network-status.tsx'
import { GraphLegend, NetworkTiles } from './network-tiles.tsx'
import { THEME } from './palette.ts'
import { RatesChart } from './rates-chart.tsx'

const PANEL_WIDTH = 'min(400px, 38vw)'
const PANEL_SPACE = `calc(${PANEL_WIDTH} + 32px)`

const column: CSSProperties = {
  position: 'absolute',
  top: 16,
  right: 16,
  bottom: 16,
  width: PANEL_WIDTH,
  display: 'flex',
  flexDirection: 'column',
  gap: 10,
  overflowY: 'auto',
}

/**
 * The operators' wall screen: the topology fills the screen; the headline numbers and the legend
 * sit top left; rates, per-job curves and the leaderboard in a column on the right.
 * `data-phase` on the root says loading / live / unreachable.
 */
export function WallScreen({ view, apiUrl }: { view: NetworkView; apiUrl?: string | null }) {
  const empty = view.phase === 'live' && view.counts.workers === 0 && view.counts.jobs === 0
  return (
    <main
      data-testid="wall-screen"
      data-phase={view.phase}
      data-realtime={view.realtime}
      data-coordinator={view.coordinatorOnline === null ? 'unknown' : view.coordinatorOnline ? 'present' : 'absent'}
      style={{ position: 'fixed', inset: 0, background: THEME.background, color: THEME.text, fontFamily: 'system-ui, sans-serif', overflow: 'hidden' }}
    >
      {/* Left of the panels' column, so that fitting the graph centres it where it can be seen. */}
      <NetworkGraphView graph={view.graph} version={view.updatedAt} style={{ right: PANEL_SPACE }} />
      {empty && (
        <p data-testid="network-empty" style={{ position: 'absolute', top: '50%', left: 0, right: PANEL_SPACE, textAlign: 'center', color: THEME.muted, fontSize: 16 }}>
          No worker is online and no job is active. Start a worker with <code>npm run -s oblivion -- worker</code>, or open the web app’s
          worker page.
        </p>
      )}
      <header style={{ position: 'absolute', top: 16, left: 16, right: PANEL_SPACE, display: 'flex', flexDirection: 'column', gap: 8, pointerEvents: 'none' }}>
        <h1 style={{ margin: 0, fontSize: 20, fontWeight: 600 }}>Oblivion network</h1>
        <NetworkTiles view={view} />
        <GraphLegend coordinatorOnline={view.coordinatorOnline} />
        <div style={{ pointerEvents: 'auto', maxWidth: 720 }}>
          <NetworkStatus view={view} apiUrl={apiUrl} />
        </div>
      </header>
      <aside style={column}>
        <RatesChart points={view.rates} />
        {/* While the whole network is unreachable the banner says so once. */}
        <JobCurves curves={view.curves} problem={view.phase === 'live' ? view.panelProblems.curves : null} />
        <Leaderboard entries={view.leaderboard} problem={view.phase === 'live' ? view.panelProblems.leaderboard : null} />
      </aside>
    </main>
  )
}
