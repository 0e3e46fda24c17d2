import type { JobStatus } from '../../lib/jobs/job-rows.ts'

const TEXT: Record<JobStatus, string> = {
  created: 'created — waiting for its escrow',
  funded: 'funded — starting',
  running: 'running',
  aggregating: 'aggregating a round',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  expired: 'expired',
}

/** A job's status as a coloured badge; `data-status` carries the raw value for tests. */
export function JobStatusBadge({ status, testId = 'job-status' }: { status: JobStatus; testId?: string }) {
  return (
    <span className={`badge status-${status}`} data-testid={testId} data-status={status}>
      {TEXT[status] ?? status}
    </span>
  )
}
