import { measure, percent, when } from '../../lib/format.ts'
import type { RoundRow } from '../../lib/jobs/job-rows.ts'
import { Empty } from '../states.tsx'

/** One row per round: its state, the shards it counted, accuracy, loss and ε. */
export function RoundsTable({ rounds, totalRounds, shards, privacy }: { rounds: RoundRow[]; totalRounds: number; shards: number; privacy: boolean }) {
  if (rounds.length === 0) return <Empty testId="rounds-empty">No round has started yet: the coordinator starts round 1 once the job is funded.</Empty>
  return (
    <table data-testid="rounds-table">
      <thead>
        <tr>
          <th>Round</th>
          <th>State</th>
          <th>Shards delivered</th>
          <th>Samples</th>
          <th>Accuracy</th>
          <th>Loss</th>
          {privacy && <th>ε spent</th>}
          <th>Aggregated</th>
        </tr>
      </thead>
      <tbody>
        {rounds.map((r) => (
          <tr key={r.round} data-testid={`round-row-${r.round}`} data-status={r.status}>
            <td>
              {r.round} / {totalRounds}
            </td>
            <td>{r.status === 'aggregated' ? 'aggregated' : 'training'}</td>
            <td>
              {r.status === 'aggregated' ? `${r.tasks_completed} / ${shards}` : '—'}
              {r.tasks_failed > 0 ? ` (${r.tasks_failed} failed)` : ''}
            </td>
            <td>{r.status === 'aggregated' ? r.sample_count.toLocaleString('en') : '—'}</td>
            <td data-testid={`round-accuracy-${r.round}`}>{percent(r.test_accuracy)}</td>
            <td>{measure(r.test_loss)}</td>
            {privacy && <td data-testid={`round-epsilon-${r.round}`}>{measure(r.epsilon_spent)}</td>}
            <td>{when(r.aggregated_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
