import { initialWeights, useBackend } from '@oblivion/model'
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js'
import type { ChainWatcher } from '../chain/index.ts'
import { callRpc } from '../worker-core/rpc.ts'
import { ArtifactStore } from './artifact-store.ts'
import { startChainMirror } from './chain/chain-mirror.ts'
import type { CoordinatorChain } from './chain/coordinator-chain.ts'
import { startEscrow } from './chain/escrow-start.ts'
import { settleEndedJobs } from './chain/settlement-pass.ts'
import { RetryBackoff } from './chain/retry-backoff.ts'
import { executePendingSlashes } from './chain/slash-pass.ts'
import type { CoordinatorEvent, CoordinatorHandle } from './coordinator-events.ts'
import { finishJob } from './finish-job.ts'
import { JobContexts, type JobRow } from './job-context.ts'
import { startNetworkPulse } from './network-pulse.ts'
import { aggregateRound } from './round-aggregation.ts'
import { startRound } from './start-round.ts'
import { contributeToZkSetups } from './zk-setup-pass.ts'

export interface CoordinatorOptions {
  /** A supabase-js client with the service_role key: the coordinator reads every job and task. */
  supabase: SupabaseClient
  /** Rounds are checked on every task change (Realtime) and at least this often. */
  pollIntervalMs: number
  /** Fund created jobs without an escrow: local networks and tests only (their workers are not paid). */
  fundWithoutEscrow: boolean
  /**
   * The settlement contract with the validator's key: its events are mirrored (escrows fund jobs,
   * bonds feed the stake rule), chain-funded jobs are marked started, settled when they end, and
   * refused updates are slashed. Without it only jobs funded without escrow can run.
   */
  chain?: CoordinatorChain
  onEvent(event: CoordinatorEvent): void
}

interface TaskCount {
  status: string
}

/**
 * The coordinator drives every job through its rounds:
 *   funded → round 1 (initial weights, one task per shard) → [all shards delivered] →
 *   aggregating (FedAvg, held-out evaluation, ε) → next round … → exported model, completed.
 * It holds no state that matters: each pass reads the jobs' status from the database and takes
 * the next step, so a coordinator restarted at any point carries on where the last one stopped.
 * Run one per network: the steps are guarded in SQL, but two would duplicate the work.
 */
export async function startCoordinator(options: CoordinatorOptions): Promise<CoordinatorHandle> {
  const { supabase, onEvent, chain } = options
  // Aggregation and evaluation run TF.js ops: pick the backend before the first one.
  await useBackend('wasm')
  const store = new ArtifactStore(supabase)
  const contexts = new JobContexts(supabase)
  /** Rounds whose failed shards were already requeued once: a second shortfall fails the job. */
  const requeued = new Set<string>()
  /** Settlements and slashes the chain refused to take (RPC down): tried again after a growing wait. */
  const chainRetries = new RetryBackoff()
  /** ZK setups whose contribution failed on our side (storage, RPC): tried again after a growing wait. */
  const zkSetupRetries = new RetryBackoff()
  let stopping = false
  let wake: (() => void) | null = null
  // Set by a change that arrives while a pass runs, so the next pass starts at once.
  let dirty = false
  const wakeUp = () => {
    dirty = true
    wake?.()
    wake = null
  }

  // The changes that wake the coordinator also tell the network views to re-read the topology.
  const pulse = startNetworkPulse(supabase)
  const channel: RealtimeChannel = supabase
    .channel('coordinator')
    .on('postgres_changes', { event: '*', schema: 'public', table: 'jobs' }, (change) => {
      pulse.note('jobs', rowOf(change))
      wakeUp()
    })
    .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'tasks' }, (change) => {
      pulse.note('tasks', rowOf(change))
      wakeUp()
    })
    .subscribe()
  // A channel of its own: a new setup wakes the loop, and a problem with this table's
  // subscription cannot cost the jobs' notifications.
  const zkSetups: RealtimeChannel = supabase
    .channel('coordinator-zk-setups')
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'zk_setups' }, () => wakeUp())
    .subscribe()

  async function pass(): Promise<void> {
    const { data, error } = await supabase
      .from('jobs')
      .select('id, owner_id, spec, status, rounds, shards, current_round, privacy_delta, chain_id')
      .eq('kind', 'training')
      .in('status', options.fundWithoutEscrow ? ['created', 'funded', 'running', 'aggregating'] : ['funded', 'running', 'aggregating'])
      .order('created_at')
    if (error) throw new Error(`Could not list jobs: ${error.message}`)
    for (const job of data as JobRow[]) {
      if (stopping) return
      try {
        await step(job)
      } catch (failure) {
        onEvent({ type: 'warning', message: `job ${job.id}: ${(failure as Error).message}` })
      }
    }
    if (chain && !stopping) {
      await executePendingSlashes(supabase, chain, onEvent, chainRetries)
      await settleEndedJobs(supabase, store, chain, onEvent, chainRetries)
    }
    // Marketplace setups: a few seconds each, between job steps (a pass is sequential anyway).
    if (!stopping) await contributeToZkSetups(supabase, chain, onEvent, zkSetupRetries)
  }

  async function step(job: JobRow): Promise<void> {
    switch (job.status) {
      case 'created':
        await callRpc(supabase, 'fund_job_without_escrow', { p_job_id: job.id })
        return step({ ...job, status: 'funded' })
      case 'funded':
        return startJob(job)
      case 'running':
        return closeRoundIfDone(job)
      case 'aggregating':
        return aggregate(job)
    }
  }

  async function startJob(job: JobRow): Promise<void> {
    let markStartedTx: string | null = null
    if (job.chain_id !== null) {
      if (!chain || chain.chainId !== job.chain_id) {
        onEvent({ type: 'warning', message: `job ${job.id} is funded on chain ${job.chain_id}, which this coordinator does not watch: not started` })
        return
      }
      const escrow = await startEscrow(chain, job)
      if (escrow.kind === 'ended') return // cancelled or expired on chain: the mirror ends the job
      if (escrow.kind === 'refuse') return failJob(job, escrow.reason)
      markStartedTx = escrow.txHash
    }
    let context
    try {
      context = await contexts.get(job)
    } catch (failure) {
      // A spec the data cannot satisfy (classes ≠ output units, missing CSV…) will never train.
      return failJob(job, `the job cannot start: ${(failure as Error).message}`)
    }
    const weights = initialWeights(context.spec.model, context.data.train.featureCount, job.id)
    onEvent({ type: 'job-started', jobId: job.id, rounds: job.rounds, shards: job.shards, noiseMultiplier: context.privacy?.noiseMultiplier ?? null, markStartedTx })
    const tasks = await startRound(supabase, store, job.id, 1, weights)
    onEvent({ type: 'round-started', jobId: job.id, round: 1, tasks })
  }

  async function closeRoundIfDone(job: JobRow): Promise<void> {
    const { data, error } = await supabase.from('tasks').select('status').eq('job_id', job.id).eq('round', job.current_round)
    if (error) throw new Error(`Could not read the tasks of round ${job.current_round}: ${error.message}`)
    const tasks = data as TaskCount[]
    if (tasks.some((t) => t.status === 'queued' || t.status === 'leased')) return
    const context = await contexts.get(job)
    const completed = tasks.filter((t) => t.status === 'completed').length
    const needed = Math.ceil((context.spec.training.minShardFraction ?? 1) * job.shards)
    if (completed < needed) {
      const key = `${job.id}/${job.current_round}`
      if (!requeued.has(key)) {
        requeued.add(key)
        const count = await callRpc<number>(supabase, 'requeue_failed_tasks', { p_job_id: job.id })
        onEvent({ type: 'warning', message: `job ${job.id} round ${job.current_round}: ${count} failed shard(s) requeued (${completed} of ${needed} needed delivered)` })
        return
      }
      return failJob(job, `round ${job.current_round} closed with ${completed} of ${job.shards} shards delivered, fewer than the ${needed} the spec needs (training.minShardFraction); see the tasks' last_error`)
    }
    await callRpc(supabase, 'begin_round_aggregation', { p_job_id: job.id })
    return aggregate({ ...job, status: 'aggregating' })
  }

  async function aggregate(job: JobRow): Promise<void> {
    const context = await contexts.get(job)
    const outcome = await aggregateRound(supabase, store, job, context, onEvent)
    if (outcome.kind === 'rejected' || !outcome.weights) return
    if (job.current_round < job.rounds) {
      const round = job.current_round + 1
      const tasks = await startRound(supabase, store, job.id, round, outcome.weights)
      onEvent({ type: 'round-started', jobId: job.id, round, tasks })
      return
    }
    const finished = await finishJob(supabase, store, job, context, outcome.weights)
    contexts.forget(job.id)
    onEvent({ type: 'job-completed', jobId: job.id, ...finished })
  }

  async function failJob(job: JobRow, reason: string): Promise<void> {
    await callRpc(supabase, 'fail_job', { p_job_id: job.id, p_reason: reason.slice(0, 500) })
    contexts.forget(job.id)
    onEvent({ type: 'job-failed', jobId: job.id, reason })
  }

  const mirror: ChainWatcher | null = chain ? startChainMirror(supabase, chain, onEvent, wakeUp) : null

  const done = (async () => {
    while (!stopping) {
      dirty = false
      try {
        await pass()
      } catch (failure) {
        onEvent({ type: 'warning', message: `${(failure as Error).message}; retrying in ${options.pollIntervalMs / 1000} s` })
      }
      if (stopping) break
      if (dirty) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollIntervalMs)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    await mirror?.stop()
    await Promise.all([supabase.removeChannel(channel), supabase.removeChannel(zkSetups), pulse.stop()])
  })()

  return {
    done,
    async stop() {
      stopping = true
      wakeUp()
      await done
    },
  }
}

/** The changed row (the old one for a DELETE). */
function rowOf(change: { new: unknown; old: unknown }): Record<string, unknown> | undefined {
  const row = change.new && Object.keys(change.new).length > 0 ? change.new : change.old
  return (row ?? undefined) as Record<string, unknown> | undefined
}
