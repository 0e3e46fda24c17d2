import type { MlpWeights, TrainedModel } from '@oblivion/model'
import { exportAllFormats } from '@oblivion/model/export'
import type { SupabaseClient } from '@supabase/supabase-js'
import { modelFilePath } from '../worker-core/artifact-paths.ts'
import { callRpc } from '../worker-core/rpc.ts'
import type { ArtifactStore, StoredFile } from './artifact-store.ts'
import type { JobContext, JobRow } from './job-context.ts'

interface LastRound {
  test_accuracy: number | null
  test_loss: number | null
  epsilon_spent: number | null
}

/**
 * The last round is aggregated: export the final weights in every format, store each file under
 * its content id, and complete the job with a models row that lists them (complete_job).
 */
export async function finishJob(
  supabase: SupabaseClient,
  store: ArtifactStore,
  job: JobRow,
  context: JobContext,
  weights: MlpWeights,
): Promise<{ modelId: string; testAccuracy: number; epsilon: number | null }> {
  const { data: last, error } = await supabase
    .from('job_rounds')
    .select('test_accuracy, test_loss, epsilon_spent')
    .eq('job_id', job.id)
    .eq('round', job.rounds)
    .single()
  if (error || !last) throw new Error(`Could not read the last round of job ${job.id}: ${error?.message ?? 'not found'}`)
  const round = last as LastRound
  const metrics: Record<string, number> = {}
  if (round.test_accuracy !== null) metrics.test_accuracy = round.test_accuracy
  if (round.test_loss !== null) metrics.test_loss = round.test_loss
  const name = context.spec.name ?? `Job ${job.id.slice(0, 8)}`
  const model: TrainedModel = {
    name,
    weights,
    normalization: context.data.normalization,
    classNames: context.data.train.classNames,
    featureNames: context.data.train.featureNames,
    privacy: { epsilon: round.epsilon_spent, delta: context.privacy ? context.privacy.delta : null },
    metrics,
    jobId: job.id,
    rounds: job.rounds,
  }

  const artifacts: Record<string, { files: StoredFile[] }> = {}
  for (const artifact of await exportAllFormats(model)) {
    const files: StoredFile[] = []
    for (const file of artifact.files) {
      files.push(await store.upload(modelFilePath(job.id, artifact.format, file.name), file.bytes, file.contentType))
    }
    artifacts[artifact.format] = { files }
  }
  const row = await callRpc<{ id: string }>(supabase, 'complete_job', {
    p_job_id: job.id,
    p_model: { name, artifacts, metrics, epsilon: round.epsilon_spent, delta: model.privacy.delta },
  })
  return { modelId: row.id, testAccuracy: round.test_accuracy ?? Number.NaN, epsilon: round.epsilon_spent }
}
