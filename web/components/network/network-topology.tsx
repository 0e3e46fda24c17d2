'use client'
import Link from 'next/link'
import { GraphLegend, JobCurves, Leaderboard, NetworkGraphView, NetworkStatus, NetworkTiles, RatesChart, useNetworkFeed } from '@oblivion/visualizer/components'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { useSupabase } from '../../lib/supabase-context.tsx'

/**
 * The live topology with the visualizer's shared components (react-force-graph-2d): the
 * coordinator, the workers online by kind, the active jobs, an edge per current lease; read from
 * network_topology() on the coordinator's `network` pulses, workers hidden as soon as they leave
 * `network-presence`. Client only (canvas): loaded by NetworkPanel with ssr: false.
 */
export default function NetworkTopology() {
  const { supabase } = useSupabase()
  const config = usePublicConfig()
  const view = useNetworkFeed(supabase, { apiUrl: config.supabaseUrl })
  const empty = view.phase === 'live' && view.counts.workers === 0 && view.counts.jobs === 0
  return (
    <div
      className="network-view"
      data-testid="network-view"
      data-phase={view.phase}
      data-realtime={view.realtime}
      data-coordinator={view.coordinatorOnline === null ? 'unknown' : view.coordinatorOnline ? 'present' : 'absent'}
    >
      <NetworkStatus view={view} apiUrl={config.supabaseUrl} />
      <div className="panel">
        <NetworkTiles view={view} />
      </div>
      <div className="graph-frame">
        <NetworkGraphView graph={view.graph} version={view.updatedAt} />
        {empty && (
          <p className="graph-empty" data-testid="network-empty">
            No worker is online and no job is active. Start a worker on the <Link href="/worker">browser worker</Link> page or with <span className="mono">oblivion worker</span>, and{' '}
            <Link href="/jobs/new">create a job</Link>.
          </p>
        )}
        <div className="graph-legend">
          <GraphLegend coordinatorOnline={view.coordinatorOnline} />
        </div>
      </div>
      <div className="network-panels">
        <RatesChart points={view.rates} />
        <JobCurves curves={view.curves} problem={view.phase === 'live' ? view.panelProblems.curves : null} />
        <Leaderboard entries={view.leaderboard} problem={view.phase === 'live' ? view.panelProblems.leaderboard : null} />
      </div>
    </div>
  )
}
