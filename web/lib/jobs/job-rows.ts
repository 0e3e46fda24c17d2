/** The rows the job pages read (supabase/database.types.ts), limited to the columns they use. */

export type JobStatus = 'created' | 'funded' | 'running' | 'aggregating' | 'completed' | 'failed' | 'cancelled' | 'expired'

export const JOB_COLUMNS =
  'id, owner_id, status, status_reason, current_round, rounds, shards, reward_wei, spec, privacy_delta, privacy_epsilon_spent, chain_id, chain_job_id, escrow_tx_hash, tasks_failed, created_at, started_at, finished_at'

export interface JobRow {
  id: string
  owner_id: string
  status: JobStatus
  status_reason: string | null
  current_round: number
  rounds: number
  shards: number
  reward_wei: string
  spec: Record<string, unknown>
  privacy_delta: number | null
  privacy_epsilon_spent: number
  chain_id: number | null
  chain_job_id: string | null
  escrow_tx_hash: string | null
  tasks_failed: number
  created_at: string
  started_at: string | null
  finished_at: string | null
}

export const ROUND_COLUMNS = 'job_id, round, status, tasks_completed, tasks_failed, sample_count, test_accuracy, test_loss, epsilon_spent, started_at, aggregated_at'

export interface RoundRow {
  job_id: string
  round: number
  status: 'training' | 'aggregated'
  tasks_completed: number
  tasks_failed: number
  sample_count: number
  test_accuracy: number | null
  test_loss: number | null
  epsilon_spent: number | null
  started_at: string
  aggregated_at: string | null
}

export const TASK_COLUMNS = 'id, job_id, round, shard_index, status, attempts, max_attempts, leased_by, last_error, leased_at, finished_at'

export interface TaskRow {
  id: number
  job_id: string
  round: number
  shard_index: number
  status: 'queued' | 'leased' | 'completed' | 'failed' | 'cancelled'
  attempts: number
  max_attempts: number
  leased_by: string | null
  last_error: string | null
  leased_at: string | null
  finished_at: string | null
}

export const MODEL_COLUMNS = 'id, job_id, name, artifacts, metrics, epsilon, delta, created_at'

export interface ModelRow {
  id: string
  job_id: string | null
  name: string
  artifacts: Record<string, unknown>
  metrics: Record<string, unknown>
  epsilon: number | null
  delta: number | null
  created_at: string
}

export const SETTLEMENT_COLUMNS = 'id, job_id, chain_id, status, merkle_root, payouts, total_wei, model_cid, tx_hash, block_number, last_error, created_at, confirmed_at'

export interface SettlementRow {
  id: number
  job_id: string
  chain_id: number
  status: 'pending' | 'submitted' | 'confirmed' | 'failed'
  merkle_root: string | null
  payouts: { address: string; amount_wei: string }[]
  total_wei: string
  model_cid: string | null
  tx_hash: string | null
  block_number: number | null
  last_error: string | null
  created_at: string
  confirmed_at: string | null
}

/** A job's name for people: the spec's, else `Job <first 8 of its id>`. */
export function jobName(job: Pick<JobRow, 'id' | 'spec'>): string {
  const name = (job.spec as { name?: unknown } | null)?.name
  return typeof name === 'string' && name !== '' ? name : `Job ${job.id.slice(0, 8)}`
}

/** Statuses after which nothing changes any more. */
export const FINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled', 'expired']
