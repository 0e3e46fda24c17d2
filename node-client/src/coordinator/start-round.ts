import { encodeWeights, type MlpWeights } from '@oblivion/model'
import type { SupabaseClient } from '@supabase/supabase-js'
import { globalModelPath } from '../worker-core/artifact-paths.ts'
import { callRpc } from '../worker-core/rpc.ts'
import { WORK_AVAILABLE_EVENT, WORK_CHANNEL, type WorkAvailablePayload } from '../worker-core/work-channel.ts'
import type { ArtifactStore } from './artifact-store.ts'

/**
 * Publishes the weights round `round` starts from, queues one task per shard (start_round) and
 * tells idle workers. The weights go up first: a worker that claims a task must find them.
 */
export async function startRound(
  supabase: SupabaseClient,
  store: ArtifactStore,
  jobId: string,
  round: number,
  global: MlpWeights,
): Promise<number> {
  const file = await store.upload(globalModelPath(jobId, round), encodeWeights(global, { jobId, round }))
  const row = await callRpc<{ round: number }>(supabase, 'start_round', {
    p_job_id: jobId,
    p_global_model_cid: file.cid,
    p_global_model_path: file.path,
  })
  const tasks = await countRoundTasks(supabase, jobId, row.round)
  await announceWork(supabase, { jobId, round: row.round, tasks })
  return tasks
}

async function countRoundTasks(supabase: SupabaseClient, jobId: string, round: number): Promise<number> {
  const { count, error } = await supabase.from('tasks').select('id', { count: 'exact', head: true }).eq('job_id', jobId).eq('round', round)
  if (error) throw new Error(`Could not count the tasks of round ${round}: ${error.message}`)
  return count ?? 0
}

/** A latency hint only (workers poll as well), so a failed broadcast is not an error. */
export async function announceWork(supabase: SupabaseClient, payload: WorkAvailablePayload): Promise<void> {
  const channel = supabase.channel(WORK_CHANNEL)
  try {
    await channel.httpSend(WORK_AVAILABLE_EVENT, payload)
  } catch {
    // workers find the tasks at their next poll
  } finally {
    await supabase.removeChannel(channel)
  }
}
