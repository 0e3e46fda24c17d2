import { contentId } from '@oblivion/model'
import type { SupabaseClient } from '@supabase/supabase-js'
import { buildPayoutTree } from '@oblivion/contracts'
import { computePayouts, metricsHash, settleJobOnChain, SettleJobError, type AcceptedWork } from '../../chain/index.ts'
import { globalModelPath } from '../../worker-core/artifact-paths.ts'
import { callRpc } from '../../worker-core/rpc.ts'
import type { ArtifactStore } from '../artifact-store.ts'
import type { CoordinatorEvent } from '../coordinator-events.ts'
import type { CoordinatorChain } from './coordinator-chain.ts'
import { RetryBackoff } from './retry-backoff.ts'

interface EndedJob {
  id: string
  status: 'completed' | 'failed'
  reward_wei: string
  rounds: number
  shards: number
}

interface AggregatedRound {
  round: number
  test_accuracy: number | null
  test_loss: number | null
  epsilon_spent: number | null
}

/**
 * Settles every chain-funded job that ended (jobs_awaiting_settlement), one `settle`
 * transaction each: accepted tasks are paid reward / (rounds × shards) each to their worker's
 * payout address, the rest (rounding, work not accepted, a failed job's unfinished rounds) is
 * credited back to the creator by the contract. The payout leaves are stored first (pending), so
 * workers can build their proofs whatever happens next; the row is confirmed once the
 * transaction is mined, or by the mirrored JobSettled event. RPC failures leave it pending and are
 * retried with backoff; a settlement the contract refuses is marked failed with the contract's error.
 */
export async function settleEndedJobs(
  supabase: SupabaseClient,
  store: ArtifactStore,
  chain: CoordinatorChain,
  emit: (event: CoordinatorEvent) => void,
  backoff = new RetryBackoff(),
): Promise<void> {
  const jobs = await callRpc<EndedJob[]>(supabase, 'jobs_awaiting_settlement', { p_limit: 20 })
  for (const job of jobs) {
    if (!backoff.ready(job.id)) continue
    try {
      await settleJob(supabase, store, chain, job, emit)
      backoff.succeeded(job.id)
    } catch (failure) {
      const wait = backoff.failed(job.id)
      emit({ type: 'warning', message: `job ${job.id}: settlement not sent yet (${(failure as Error).message}); retrying in ${Math.round(wait / 1000)} s` })
    }
  }
}

async function settleJob(supabase: SupabaseClient, store: ArtifactStore, chain: CoordinatorChain, job: EndedJob, emit: (event: CoordinatorEvent) => void): Promise<void> {
  const work = await callRpc<{ payout_address: string | null; task_count: number }[]>(supabase, 'job_accepted_work', { p_job_id: job.id })
  const accepted: AcceptedWork[] = work.map((w) => ({ payoutAddress: w.payout_address, taskCount: w.task_count }))
  const computation = computePayouts({ rewardWei: BigInt(job.reward_wei), rounds: job.rounds, shards: job.shards, accepted })
  const payouts = computation.payouts.map((p) => ({ address: p.address, amountWei: p.amountWei }))
  const modelCid = job.status === 'completed' ? await finalWeightsCid(store, job) : ''
  const metrics = await finalMetrics(supabase, job)
  const tree = buildPayoutTree(payouts)
  const record = {
    p_job_id: job.id,
    p_merkle_root: tree.root.toLowerCase(),
    p_payouts: payouts.map((p) => ({ address: p.address.toLowerCase(), amount_wei: p.amountWei.toString() })),
    p_total_wei: tree.total.toString(),
    p_model_cid: modelCid || null,
    p_metrics_hash: metricsHash(metrics),
  }
  await callRpc(supabase, 'record_settlement', { ...record, p_status: 'pending' })
  try {
    const result = await settleJobOnChain({ contract: chain.contract, jobId: job.id, payouts, modelCid, metrics, searchFromBlock: chain.fromBlock, maxAttempts: 2 })
    if (result.txHash) {
      await callRpc(supabase, 'record_settlement', { ...record, p_status: 'confirmed', p_tx_hash: result.txHash.toLowerCase(), p_block_number: result.blockNumber })
    }
    emit({
      type: 'job-settled',
      jobId: job.id,
      txHash: result.txHash,
      payouts: tree.count,
      totalWei: tree.total.toString(),
      remainderWei: computation.unassignedWei.toString(),
    })
  } catch (failure) {
    if (failure instanceof SettleJobError && (failure.code === 'REVERTED' || failure.code === 'SETTLED_WITH_OTHER_ROOT')) {
      // Not retried: the job is not Funded any more (cancelled or expired first) or was settled
      // differently. If it was in fact settled by this root, the mirrored JobSettled confirms the row.
      await callRpc(supabase, 'record_settlement', { ...record, p_status: 'failed', p_error: failure.message })
      emit({ type: 'warning', message: `job ${job.id}: the contract refused the settlement: ${failure.message}` })
      return
    }
    throw failure
  }
}

/** The CID of the final global weights (OBW1) that aggregation stored after the last round: the model settle commits to. */
async function finalWeightsCid(store: ArtifactStore, job: EndedJob): Promise<string> {
  return contentId(await store.download(globalModelPath(job.id, job.rounds + 1)))
}

/** What settle's metricsHash covers: the job's outcome and its last aggregated round's numbers. */
async function finalMetrics(supabase: SupabaseClient, job: EndedJob): Promise<Record<string, unknown>> {
  const { data, error } = await supabase
    .from('job_rounds')
    .select('round, test_accuracy, test_loss, epsilon_spent')
    .eq('job_id', job.id)
    .eq('status', 'aggregated')
    .order('round', { ascending: false })
    .limit(1)
  if (error) throw new Error(`Could not read the rounds of job ${job.id}: ${error.message}`)
  const last = (data as AggregatedRound[])[0]
  return {
    job_id: job.id,
    status: job.status,
    rounds_aggregated: last?.round ?? 0,
    test_accuracy: last?.test_accuracy ?? null,
    test_loss: last?.test_loss ?? null,
    epsilon: last?.epsilon_spent ?? null,
  }
}
