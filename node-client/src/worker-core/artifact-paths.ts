/**
 * Where a job's files live in the `artifacts` bucket. Storage policies in
 * supabase/migrations check these shapes: only the lease holder may write under
 * `updates/<task_id>/`, only the coordinator (service role) writes the rest, and the job's
 * owner and its workers may read.
 */
export const ARTIFACTS_BUCKET = 'artifacts'

/** The weights round `round` starts from (round 1: the initial weights). */
export function globalModelPath(jobId: string, round: number): string {
  return `jobs/${jobId}/rounds/${round}/global.obw`
}

/** A worker's update for one task, named by its content id so a retried upload is the same object. */
export function updatePath(jobId: string, taskId: number, cid: string): string {
  return `jobs/${jobId}/updates/${taskId}/${cid}.obw`
}

/** One file of the finished model in one format. */
export function modelFilePath(jobId: string, format: string, fileName: string): string {
  return `jobs/${jobId}/model/${format}/${fileName}`
}
