import type { SupabaseClient } from '@supabase/supabase-js'
import { CliError, requestError } from './cli-error.ts'

/** What `job status` reads: the job, its tasks by status, and one line per round. */

export const TASK_STATUSES = ['queued', 'leased', 'completed', 'failed', 'cancelled'] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]
export type TaskCounts = Record<TaskStatus, number>

/** A job in one of these statuses will not change again. */
export const FINAL_JOB_STATUSES = ['completed', 'failed', 'cancelled', 'expired'] as const

export const JOB_COLUMNS =
  'id, status, status_reason, rounds, shards, current_round, privacy_epsilon_spent, privacy_delta, tasks_failed, reward_wei, chain_id, spec, created_at, started_at, finished_at'

export interface JobRow {
  id: string
  status: string
  status_reason: string | null
  rounds: number
  shards: number
  current_round: number
  privacy_epsilon_spent: number
  privacy_delta: number
  tasks_failed: number
  reward_wei: string
  /** The chain holding the job's escrow, once the coordinator has seen it funded there; null otherwise. */
  chain_id: number | null
  spec: { name?: string; [key: string]: unknown }
  created_at: string
  started_at: string | null
  finished_at: string | null
}

/** A row of `job_rounds`: what the coordinator records when it aggregates a round. */
export interface RoundRow {
  job_id: string
  round: number
  status: string
  test_accuracy: number | null
  test_loss: number | null
  epsilon_spent: number | null
  tasks_completed: number | null
  tasks_failed: number | null
  sample_count: number | null
}

export interface JobProgress {
  job: JobRow
  /** Tasks of the round being trained (all zero before the first round). */
  roundTasks: TaskCounts
  /** Tasks of every round so far. */
  allTasks: TaskCounts
  rounds: RoundRow[]
  /** False while the network has no `job_rounds` table (older schema): rounds are then unknown. */
  roundsKnown: boolean
}

export function isFinalStatus(status: string): boolean {
  return (FINAL_JOB_STATUSES as readonly string[]).includes(status)
}

export async function fetchJob(supabase: SupabaseClient, jobId: string): Promise<JobRow> {
  const { data, error } = await supabase.from('jobs').select(JOB_COLUMNS).eq('id', jobId).maybeSingle()
  if (error) throw requestError(`could not read job ${jobId}`, error)
  if (!data) {
    throw new CliError('CLI_NOT_FOUND', `job ${jobId} is not one of your jobs (or does not exist)`, {
      hint: 'job commands act as the identity stored in <home>/credentials/cli.json: use the same --home (and --url) as when you created the job',
    })
  }
  return data as unknown as JobRow
}

/**
 * Counts by status with `count=exact` and no rows: exact for any number of tasks (a read returns
 * at most 1,000 rows), one small request per status, run together.
 */
async function countTasks(supabase: SupabaseClient, jobId: string, round?: number): Promise<TaskCounts> {
  const counts = await Promise.all(
    TASK_STATUSES.map(async (status) => {
      let query = supabase.from('tasks').select('id', { count: 'exact', head: true }).eq('job_id', jobId).eq('status', status)
      if (round !== undefined) query = query.eq('round', round)
      const { count, error } = await query
      if (error) throw requestError(`could not count the tasks of job ${jobId}`, error)
      return [status, count ?? 0] as const
    }),
  )
  return Object.fromEntries(counts) as TaskCounts
}

export function noTasks(): TaskCounts {
  return { queued: 0, leased: 0, completed: 0, failed: 0, cancelled: 0 }
}

async function fetchRounds(supabase: SupabaseClient, jobId: string): Promise<{ rounds: RoundRow[]; known: boolean }> {
  const { data, error } = await supabase
    .from('job_rounds')
    .select('job_id, round, status, test_accuracy, test_loss, epsilon_spent, tasks_completed, tasks_failed, sample_count')
    .eq('job_id', jobId)
    .order('round')
  if (error) {
    // A network whose schema predates job_rounds: show the rest rather than fail.
    if (error.code === 'PGRST205' || error.code === '42P01') return { rounds: [], known: false }
    throw requestError(`could not read the rounds of job ${jobId}`, error)
  }
  return { rounds: (data ?? []) as RoundRow[], known: true }
}

export async function fetchJobProgress(supabase: SupabaseClient, jobId: string): Promise<JobProgress> {
  const job = await fetchJob(supabase, jobId)
  const [roundTasks, allTasks, rounds] = await Promise.all([
    job.current_round > 0 ? countTasks(supabase, jobId, job.current_round) : Promise.resolve(noTasks()),
    countTasks(supabase, jobId),
    fetchRounds(supabase, jobId),
  ])
  return { job, roundTasks, allTasks, rounds: rounds.rounds, roundsKnown: rounds.known }
}
