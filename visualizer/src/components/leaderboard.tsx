'use client'
import { memo } from 'react'
import type { LeaderboardEntry } from '../feed/network-answers.ts'
import { KIND_COLORS, THEME, shortId } from './palette.ts'
import { EmptyNote, Panel } from './panel.tsx'

const cell = { padding: '2px 6px', textAlign: 'right' as const }

/** Workers by completed tasks: pseudonymous id, kind, completed, failed, reputation, online. */
function LeaderboardView({ entries, problem }: { entries: LeaderboardEntry[] | null; problem?: string | null }) {
  return (
    <Panel title="Worker leaderboard" problem={problem} testId="leaderboard">
      {entries === null ? (
        <EmptyNote>Loading the leaderboard…</EmptyNote>
      ) : entries.length === 0 ? (
        <EmptyNote>No worker has registered yet.</EmptyNote>
      ) : (
        <table style={{ width: '100%', borderCollapse: 'collapse', fontSize: 12, fontVariantNumeric: 'tabular-nums' }}>
          <thead style={{ color: THEME.muted }}>
            <tr>
              <th style={{ ...cell, textAlign: 'left' }}>#</th>
              <th style={{ ...cell, textAlign: 'left' }}>worker</th>
              <th style={cell}>done</th>
              <th style={cell}>failed</th>
              <th style={cell}>reputation</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry, index) => (
              <tr key={entry.worker_id} data-worker={entry.worker_id} style={{ opacity: entry.online ? 1 : 0.5 }}>
                <td style={{ ...cell, textAlign: 'left' }}>{index + 1}</td>
                <td style={{ ...cell, textAlign: 'left' }} title={`${KIND_COLORS[entry.kind].label}${entry.online ? '' : ' (offline)'}`}>
                  <span style={{ color: KIND_COLORS[entry.kind].active }}>●</span> <code>{shortId(entry.worker_id)}</code>
                </td>
                <td style={cell}>{entry.tasks_completed}</td>
                <td style={cell}>{entry.tasks_failed}</td>
                <td style={cell}>{(entry.reputation * 100).toFixed(0)} %</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  )
}

export const Leaderboard = memo(LeaderboardView)
