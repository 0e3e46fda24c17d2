/**
 * Workers cannot see queued tasks (RLS shows a worker only the tasks it holds), so the
 * coordinator announces new work on this public broadcast channel. It is only a latency hint:
 * workers also poll claim_task, so a missed broadcast delays work by one poll interval at most.
 */
export const WORK_CHANNEL = 'work'
export const WORK_AVAILABLE_EVENT = 'available'

export interface WorkAvailablePayload {
  jobId: string
  round: number
  tasks: number
}
