'use client'
import { memo } from 'react'
import type { NetworkView } from '../feed/network-view.ts'
import { KIND_COLORS, THEME } from './palette.ts'

function Tile({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div data-testid={testId} style={{ minWidth: 92 }}>
      <div style={{ fontSize: 26, fontWeight: 600, fontVariantNumeric: 'tabular-nums', color: THEME.text }}>{value}</div>
      <div style={{ fontSize: 11, color: THEME.muted, textTransform: 'uppercase', letterSpacing: 0.4 }}>{label}</div>
    </div>
  )
}

const format = (value: number | undefined, digits = 0) => (value === undefined ? '–' : value.toFixed(digits))

/**
 * The headline numbers: workers shown (by kind), active jobs, active leases (leased tasks),
 * queued tasks, and the latest claims/s and completions/s.
 */
export function NetworkTiles({ view }: { view: NetworkView }) {
  const latest = view.rates.at(-1)
  return (
    <div style={{ display: 'flex', flexWrap: 'wrap', gap: '8px 18px' }}>
      <Tile
        testId="tile-workers"
        label={`workers (${view.counts.cli} CLI · ${view.counts.browser} browser)`}
        value={view.updatedAt === null ? '–' : String(view.counts.workers)}
      />
      <Tile testId="tile-jobs" label="active jobs" value={format(view.stats?.jobs.active)} />
      <Tile testId="tile-leases" label="active leases" value={format(view.stats?.tasks.leased)} />
      <Tile testId="tile-queued" label="queued tasks" value={format(view.stats?.tasks.queued)} />
      <Tile testId="tile-claims" label="claims/s" value={format(latest?.claims, 1)} />
      <Tile testId="tile-completions" label="completions/s" value={format(latest?.completions, 1)} />
    </div>
  )
}

/** What each colour in the graph is. */
function GraphLegendView({ coordinatorOnline }: { coordinatorOnline: boolean | null }) {
  const items = [
    { color: KIND_COLORS.coordinator.active, label: coordinatorOnline === false ? 'coordinator (not present)' : 'coordinator' },
    { color: KIND_COLORS.job.active, label: 'job (running)' },
    { color: KIND_COLORS.job.idle, label: 'job (funded)' },
    { color: KIND_COLORS.cli.active, label: 'CLI worker (leasing)' },
    { color: KIND_COLORS.cli.idle, label: 'CLI worker (idle)' },
    { color: KIND_COLORS.browser.active, label: 'browser worker (leasing)' },
    { color: KIND_COLORS.browser.idle, label: 'browser worker (idle)' },
  ]
  return (
    <ul style={{ listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexWrap: 'wrap', gap: '2px 14px', fontSize: 12, color: THEME.muted }}>
      {items.map((item) => (
        <li key={item.label}>
          <span style={{ color: item.color }}>●</span> {item.label}
        </li>
      ))}
      <li>
        <span style={{ color: 'rgb(250, 204, 21)' }}>—</span> lease
      </li>
    </ul>
  )
}

export const GraphLegend = memo(GraphLegendView)
