/**
 * The answers of the public network RPCs (supabase/migrations: network_topology, network_stats,
 * network_job_curves, network_leaderboard) as the views use them. Pseudonymous ids and numbers
 * only: these functions never return owners, names, specs or rewards.
 */
export type WorkerKind = 'cli' | 'browser'

export interface TopologyWorker {
  id: string
  kind: WorkerKind
  leases_held: number
  tasks_completed: number
  reputation: number
}

export interface TopologyJob {
  id: string
  kind: string
  status: string
  current_round: number
  rounds: number
  shards: number
}

export interface TopologyLease {
  worker_id: string
  job_id: string
  tasks: number
}

/** network_topology(): workers seen in the last 45 s, active jobs, current leases. */
export interface TopologyAnswer {
  generated_at: string
  workers: TopologyWorker[]
  jobs: TopologyJob[]
  leases: TopologyLease[]
}

/** network_stats(): network-wide counts; tasks.claims is every lease granted so far. */
export interface StatsAnswer {
  generated_at: string
  workers: { registered: number; online: number; online_browser: number; online_cli: number }
  tasks: { queued: number; leased: number; completed: number; failed: number; claims: number }
  jobs: { active: number; running: number; completed: number; total: number }
}

export interface CurvePoint {
  round: number
  /** Held-out accuracy of the aggregated model, 0 to 1; null without a test split. */
  accuracy: number | null
  /** ε spent up to this round; null when the job trains without differential privacy. */
  epsilon: number | null
}

/** One job of network_job_curves(): active jobs first, then those that ended in the last hour. */
export interface JobCurve {
  job_id: string
  status: string
  rounds: number
  current_round: number
  points: CurvePoint[]
}

/** One row of network_leaderboard(): workers by completed tasks. */
export interface LeaderboardEntry {
  worker_id: string
  kind: WorkerKind
  tasks_completed: number
  tasks_failed: number
  reputation: number
  online: boolean
}

/** An answer that is not the shape we read: the database is older (or newer) than this app. */
export class AnswerShapeError extends Error {
  override name = 'AnswerShapeError'
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function expectArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new AnswerShapeError(`${what} is not a list: is the database migrated? (npm start applies the migrations)`)
  return value
}

export function readTopology(value: unknown): TopologyAnswer {
  if (!isRecord(value)) throw new AnswerShapeError('network_topology answered no object: is the database migrated? (npm start applies the migrations)')
  return {
    generated_at: String(value.generated_at ?? ''),
    workers: expectArray(value.workers, 'network_topology.workers') as TopologyWorker[],
    jobs: expectArray(value.jobs, 'network_topology.jobs') as TopologyJob[],
    leases: expectArray(value.leases, 'network_topology.leases') as TopologyLease[],
  }
}

export function readStats(value: unknown): StatsAnswer {
  if (!isRecord(value) || !isRecord(value.workers) || !isRecord(value.tasks) || !isRecord(value.jobs)) {
    throw new AnswerShapeError('network_stats answered an unexpected shape: is the database migrated? (npm start applies the migrations)')
  }
  const tasks = value.tasks as StatsAnswer['tasks']
  if (typeof tasks.claims !== 'number') {
    throw new AnswerShapeError('network_stats has no tasks.claims: the database lacks migration 20261122001330 (npm start applies it)')
  }
  return value as unknown as StatsAnswer
}

export function readJobCurves(value: unknown): JobCurve[] {
  return expectArray(value, 'network_job_curves') as JobCurve[]
}

export function readLeaderboard(value: unknown): LeaderboardEntry[] {
  return expectArray(value, 'network_leaderboard') as LeaderboardEntry[]
}
