import { contentId, decodeWeights, encodeWeights, planPrivacy, shardEpsilon, trainLocally } from '@oblivion/model'
import type { SupabaseClient } from '@supabase/supabase-js'
import { ARTIFACTS_BUCKET, globalModelPath, updatePath } from './artifact-paths.ts'
import type { JobDataCache } from './job-data-cache.ts'
import { callRpc } from './rpc.ts'
import type { TaskPhase } from './worker-events.ts'

/** A row of claim_task. */
export interface ClaimedTaskRow {
  task_id: number
  job_id: string
  round: number
  shard_index: number
  shard_count: number
  attempt: number
  lease_expires_at: string
  spec: unknown
}

export interface TaskOutcome {
  sampleCount: number
  artifactCid: string
  epsilonSpent: number | null
  /** Wall time of local training alone (not the downloads, the upload or complete_task). */
  trainingSeconds: number
  /** Local training throughput: steps × batch size / trainingSeconds. */
  samplesPerSecond: number
}

/** A failure that retrying on another worker cannot fix (bad spec, data set that does not load). */
export class PermanentTaskError extends Error {
  override name = 'PermanentTaskError'
}

export interface RunTaskContext {
  supabase: SupabaseClient
  workerId: string
  dataCache: JobDataCache
  signal: AbortSignal
  onProgress(phase: TaskPhase, fraction: number, loss?: number): void
}

/**
 * One task, start to finish: the round's global weights and the job's data, local training of
 * this shard (DP-SGD when the spec asks for privacy), the update uploaded under its content id,
 * and complete_task with what the coordinator needs to aggregate and account for it.
 */
export async function runTask(task: ClaimedTaskRow, context: RunTaskContext): Promise<TaskOutcome> {
  const { supabase, signal } = context
  context.onProgress('download', 0)
  let prepared
  try {
    prepared = context.dataCache.get(task.job_id, task.spec)
  } catch (error) {
    throw new PermanentTaskError(`The job's spec cannot be trained: ${(error as Error).message}`)
  }
  const { spec } = prepared
  const [data, globalBytes] = await Promise.all([
    prepared.data.catch((error: Error) => {
      throw new PermanentTaskError(`The job's data set cannot be prepared: ${error.message}`)
    }),
    download(supabase, globalModelPath(task.job_id, task.round)),
  ])
  signal.throwIfAborted()
  const { weights: global } = decodeWeights(globalBytes)
  const shard = data.shard(task.shard_index)
  const plan = planPrivacy(spec, data.shardSizes)
  context.onProgress('download', 1)

  const trainingStarted = performance.now()
  const result = await trainLocally({
    training: spec.training,
    global,
    shard,
    privacy: plan ? { noiseMultiplier: plan.noiseMultiplier, clipNorm: plan.clipNorm } : null,
    signal,
    onProgress: (progress) => context.onProgress('train', progress.step / progress.steps, progress.loss),
  })

  const trainingSeconds = (performance.now() - trainingStarted) / 1000
  context.onProgress('upload', 0)
  const bytes = encodeWeights(result.weights, { jobId: task.job_id, round: task.round, shard: task.shard_index, taskId: task.task_id })
  const cid = await contentId(bytes)
  const path = updatePath(task.job_id, task.task_id, cid)
  signal.throwIfAborted()
  const { error } = await supabase.storage.from(ARTIFACTS_BUCKET).upload(path, bytes, { contentType: 'application/octet-stream', upsert: false })
  // The path holds the content id: an object already there (a retried upload) has these bytes.
  if (error && !/exists|duplicate/i.test(error.message)) throw new Error(`Could not upload the update to ${path}: ${error.message}`)
  context.onProgress('upload', 1)

  // This shard has now been trained in rounds 1…round (one task per shard per round).
  const epsilonSpent = plan ? shardEpsilon(plan, spec, shard.count, task.round) : null
  context.onProgress('complete', 0)
  await callRpc(supabase, 'complete_task', {
    p_task_id: task.task_id,
    p_worker_id: context.workerId,
    p_result: {
      artifact_cid: cid,
      artifact_path: `${ARTIFACTS_BUCKET}/${path}`,
      sample_count: result.sampleCount,
      update_norm: result.updateNorm,
      metrics: { ...result.metrics, steps: result.steps, ...(plan ? { noise_multiplier: plan.noiseMultiplier } : {}) },
      ...(epsilonSpent !== null ? { epsilon_spent: epsilonSpent } : {}),
    },
  })
  context.onProgress('complete', 1)
  return {
    sampleCount: result.sampleCount,
    artifactCid: cid,
    epsilonSpent,
    trainingSeconds,
    samplesPerSecond: trainingSeconds > 0 ? (result.steps * spec.training.batchSize) / trainingSeconds : 0,
  }
}

async function download(supabase: SupabaseClient, path: string): Promise<Uint8Array> {
  const { data, error } = await supabase.storage.from(ARTIFACTS_BUCKET).download(path)
  if (error || !data) throw new Error(`Could not download ${ARTIFACTS_BUCKET}/${path}: ${error?.message ?? 'no data'}`)
  return new Uint8Array(await data.arrayBuffer())
}
