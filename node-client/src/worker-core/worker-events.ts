/**
 * What the worker core reports. The core never prints: the CLI renders these as progress bars
 * (TTY) or JSON lines (`--json`), the browser worker posts them to the page.
 */
export interface ClaimedTask {
  taskId: number
  jobId: string
  round: number
  shardIndex: number
  attempt: number
}

export type TaskPhase = 'download' | 'train' | 'upload' | 'complete'

export type WorkerEvent =
  | { type: 'signed-in'; userId: string }
  /** payoutAddress: where the worker is paid (lower case); null: local jobs only. */
  | { type: 'registered'; workerId: string; name: string; payoutAddress: string | null }
  | { type: 'claimed'; task: ClaimedTask }
  /** fraction in [0, 1] of the task's phase; for train, steps done / steps planned. */
  | { type: 'progress'; taskId: number; phase: TaskPhase; fraction: number; loss?: number }
  /**
   * seconds: the whole task; trainingSeconds: its local training alone, which processed
   * samplesPerSecond × trainingSeconds examples (steps × batch size, as bench:train counts).
   */
  | {
      type: 'completed'
      taskId: number
      sampleCount: number
      artifactCid: string
      epsilonSpent: number | null
      seconds: number
      trainingSeconds: number
      samplesPerSecond: number
    }
  | { type: 'failed'; taskId: number; reason: string; retryable: boolean }
  /** The lease was lost (revoked, expired, job cancelled): the task was dropped. */
  | { type: 'dropped'; taskId: number; reason: string }
  | { type: 'draining'; running: number }
  | { type: 'released'; taskIds: number[]; reason: string }
  | { type: 'stopped' }
  | { type: 'warning'; message: string }

export interface WorkerHandle {
  workerId: string
  /** Resolves when the worker has stopped (after drain or release). */
  done: Promise<void>
  /** Stop claiming; resolve when running tasks have finished and been delivered. */
  drain(): Promise<void>
  /** Abort running tasks, give them back with fail_task(reason), stop. */
  release(reason: string): Promise<void>
}
