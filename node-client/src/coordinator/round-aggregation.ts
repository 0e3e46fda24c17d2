import { aggregateUpdates, decodeWeights, encodeWeights, evaluate, modelEpsilon, type MlpWeights } from '@oblivion/model'
import type { SupabaseClient } from '@supabase/supabase-js'
import { globalModelPath } from '../worker-core/artifact-paths.ts'
import { callRpc } from '../worker-core/rpc.ts'
import { ContentMismatchError, type ArtifactStore } from './artifact-store.ts'
import type { CoordinatorEvent } from './coordinator-events.ts'
import type { JobContext, JobRow } from './job-context.ts'

interface RoundRow {
  round: number
  status: 'training' | 'aggregated'
  global_model_path: string
  global_model_cid: string
  test_accuracy: number | null
  epsilon_spent: number | null
}

interface ResultRow {
  task_id: number
  worker_id: string | null
  artifact_cid: string
  artifact_path: string | null
  sample_count: number
  metrics: Record<string, unknown>
}

export interface AggregationOutcome {
  /** 'rejected': some updates were refused and their shards requeued; the round trains on. */
  kind: 'rejected' | 'aggregated'
  /** The weights after this round (the next round's global model). */
  weights?: MlpWeights
}

/**
 * Aggregates the current round of an `aggregating` job: every delivered update is fetched by
 * its content id (bytes that do not hash to the reported CID are refused), decoded, checked
 * (shapes, finite values, the spec's update-norm bound) and combined with the spec's strategy.
 * Refused updates go back to their shard's queue (reject_task_result) and the round waits for
 * them; a bad update (not a failed download) also costs its worker's bond (record_slash). Otherwise the result is evaluated on the held-out test set, stored as the next round's
 * global model, and finish_round records accuracy and ε.
 * Idempotent: a coordinator restarted mid-way redoes the same deterministic steps.
 */
export async function aggregateRound(
  supabase: SupabaseClient,
  store: ArtifactStore,
  job: JobRow,
  context: JobContext,
  emit: (event: CoordinatorEvent) => void,
): Promise<AggregationOutcome> {
  const round = job.current_round
  const roundRow = await selectOne<RoundRow>(supabase.from('job_rounds').select('*').eq('job_id', job.id).eq('round', round), `round ${round} of job ${job.id}`)
  if (roundRow.status === 'aggregated') {
    // Restarted after finish_round: the next global model is already stored.
    const { weights } = decodeWeights(await store.download(globalModelPath(job.id, round + 1)))
    return { kind: 'aggregated', weights }
  }

  const global = decodeWeights(await store.download(roundRow.global_model_path, roundRow.global_model_cid)).weights
  const { data: results, error } = await supabase
    .from('task_results')
    .select('task_id, worker_id, artifact_cid, artifact_path, sample_count, metrics')
    .eq('job_id', job.id)
    .eq('round', round)
    .order('task_id')
  if (error) throw new Error(`Could not read the results of round ${round}: ${error.message}`)

  const updates = []
  /** slash: the update itself is bad (not our download failing), so its worker's bond pays for it. */
  const unreadable: { taskId: number; reason: string; slash: boolean }[] = []
  for (const result of results as ResultRow[]) {
    let bytes: Uint8Array
    try {
      bytes = await store.download(result.artifact_path ?? '', result.artifact_cid)
    } catch (failure) {
      unreadable.push({ taskId: result.task_id, reason: `the update could not be used: ${(failure as Error).message}`, slash: failure instanceof ContentMismatchError })
      continue
    }
    try {
      updates.push({ weights: decodeWeights(bytes).weights, sampleCount: result.sample_count, label: String(result.task_id) })
    } catch (failure) {
      unreadable.push({ taskId: result.task_id, reason: `the update could not be used: ${(failure as Error).message}`, slash: true })
    }
  }
  const aggregation = context.spec.aggregation ?? { strategy: 'fedavg' as const }
  const outcome = updates.length > 0 ? aggregateUpdates(global, updates, aggregation) : { weights: null, accepted: [], rejected: [] }
  const refused = [...unreadable, ...outcome.rejected.map((r) => ({ taskId: Number(r.label), reason: r.reason, slash: true }))]
  if (refused.length > 0 || !outcome.weights) {
    for (const { taskId, reason, slash } of refused) {
      // Recorded before the result row goes: a restart in between finds the slash already queued.
      // record_slash does nothing for local jobs and workers without a payout address.
      if (slash) await callRpc(supabase, 'record_slash', { p_task_id: taskId, p_reason: reason.slice(0, 1000) })
      await callRpc(supabase, 'reject_task_result', { p_task_id: taskId, p_reason: reason.slice(0, 1000) })
      emit({ type: 'result-rejected', jobId: job.id, taskId, reason })
    }
    return { kind: 'rejected' }
  }

  const weights = outcome.weights
  const test = await evaluate(weights, context.data.test)
  const epsilon = context.privacy ? modelEpsilon(context.privacy, context.spec, context.data.shardSizes, round) : null
  await store.upload(globalModelPath(job.id, round + 1), encodeWeights(weights, { jobId: job.id, round: round + 1 }))
  const trainLoss = mean((results as ResultRow[]).map((r) => Number(r.metrics.loss)))
  await callRpc(supabase, 'finish_round', {
    p_job_id: job.id,
    p_test_accuracy: finiteOrNull(test.accuracy),
    p_test_loss: finiteOrNull(test.loss),
    p_epsilon_spent: epsilon,
    p_metrics: {
      strategy: aggregation.strategy,
      shards_used: updates.length,
      train_loss: finiteOrNull(trainLoss),
      test_examples: test.count,
      ...(context.privacy ? { noise_multiplier: context.privacy.noiseMultiplier, clip_norm: context.privacy.clipNorm } : {}),
    },
  })
  emit({ type: 'round-aggregated', jobId: job.id, round, testAccuracy: test.accuracy, testLoss: test.loss, epsilon, shardsUsed: updates.length })
  return { kind: 'aggregated', weights }
}

async function selectOne<T>(query: PromiseLike<{ data: unknown; error: { message: string } | null }>, what: string): Promise<T> {
  const { data, error } = await query
  const row = Array.isArray(data) ? data[0] : data
  if (error || !row) throw new Error(`Could not read ${what}: ${error?.message ?? 'not found'}`)
  return row as T
}

function mean(values: number[]): number {
  const finite = values.filter(Number.isFinite)
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : Number.NaN
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null
}
