import { shortId, when } from '../../lib/format.ts'
import type { TaskRow } from '../../lib/jobs/job-rows.ts'
import { Empty } from '../states.tsx'

const STATUS_TEXT: Record<TaskRow['status'], string> = {
  queued: 'queued',
  leased: 'training',
  completed: 'delivered',
  failed: 'failed',
  cancelled: 'cancelled',
}

/**
 * The current round's shards: who trains or trained each (a pseudonymous worker id and its kind,
 * when the network still lists it), attempts, and the last error a worker gave back.
 */
export function ShardsTable({ tasks, round, workerKinds }: { tasks: TaskRow[]; round: number; workerKinds: Record<string, string> }) {
  if (round === 0 || tasks.length === 0) return <Empty testId="shards-empty">No shards yet: they are queued when a round starts.</Empty>
  return (
    <table data-testid="shards-table">
      <thead>
        <tr>
          <th>Shard</th>
          <th>State</th>
          <th>Worker</th>
          <th>Attempts</th>
          <th>Since</th>
          <th>Last error</th>
        </tr>
      </thead>
      <tbody>
        {tasks.map((t) => (
          <tr key={t.id} data-testid={`shard-row-${t.shard_index}`} data-status={t.status}>
            <td>{t.shard_index + 1}</td>
            <td className={`task-${t.status}`}>{STATUS_TEXT[t.status] ?? t.status}</td>
            <td data-testid={`shard-worker-${t.shard_index}`}>
              {t.leased_by ? (
                <span className="mono" title={`worker ${t.leased_by}`}>
                  {shortId(t.leased_by)} <span className="muted">{workerKinds[t.leased_by] ?? ''}</span>
                </span>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
            <td>
              {t.attempts} / {t.max_attempts}
            </td>
            <td>{when(t.finished_at ?? t.leased_at)}</td>
            <td className="muted">{t.last_error ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
