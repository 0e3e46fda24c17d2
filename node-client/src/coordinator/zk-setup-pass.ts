import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { applyBeacon, contribute } from '@oblivion/model/zk/node'
import type { SupabaseClient } from '@supabase/supabase-js'
import { ARTIFACTS_BUCKET } from '../worker-core/artifact-paths.ts'
import { callRpc } from '../worker-core/rpc.ts'
import type { CoordinatorChain } from './chain/coordinator-chain.ts'
import { RetryBackoff } from './chain/retry-backoff.ts'
import type { CoordinatorEvent } from './coordinator-events.ts'

/** The name recorded in every zkey the network contributes to (the owner checks it is not its own). */
export const COORDINATOR_CONTRIBUTION_NAME = 'oblivion coordinator'
/** An owner that requested a setup and never uploaded its initial zkey: failed after this long. */
export const ZK_UPLOAD_GRACE_MS = 10 * 60_000
/** The project's 2^14 powers of tau make zkeys of ≤ ~18 MB; anything far larger is not ours to hash. */
export const MAX_ZKEY_BYTES = 64 * 1024 * 1024

interface PendingSetup {
  id: string
  model_id: string
  created_at: string
}

/** The transcript record_zk_contribution stores (and the owner checks against the final zkey). */
export interface ZkContributionTranscript {
  contribution: { name: string; contributionHash: string }
  beacon: { chainId: number; blockNumber: number; blockHash: string }
}

export const setupPaths = (setupId: string) => ({
  initial: `zk-setups/${setupId}/initial.zkey`,
  final: `zk-setups/${setupId}/final.zkey`,
})

/**
 * Phase 2 of a marketplace model's trusted setup, the network's half (the owner made the initial
 * zkey; shared/notes/zk.md pitfall 7): for each setup awaiting a contribution, download
 * `initial.zkey` (without the sections that hold the circuit: model/src/zk/zkey-redaction.node.ts;
 * the coordinator never sees the weights), contribute with fresh entropy from the CSPRNG (never stored), THEN read the
 * chain's latest block and apply its hash as the public beacon, upload `final.zkey` and record
 * the transcript (status 'ready'). The owner verifies the result against its own r1cs before
 * listing. Soundness against the owner (the only prover) rests on the coordinator's entropy,
 * which the owner never sees; the beacon adds public chain data anyone can check. On a live
 * chain the latest block is usually newer than the contribution; on a quiet local anvil (a block
 * per transaction) it may be the block before it.
 *
 * Without a chain there is no public beacon: setups are failed with that reason. A zkey snarkjs
 * cannot read fails its setup; storage or RPC errors are retried with backoff.
 * 196-16-10 MNIST (1.8k constraints, 2^14 ptau): contribute ≈ 0.5 s, beacon (2^10 iterations) ≈ 0.5 s.
 */
export async function contributeToZkSetups(
  supabase: SupabaseClient,
  chain: CoordinatorChain | undefined,
  emit: (event: CoordinatorEvent) => void,
  backoff = new RetryBackoff(),
): Promise<void> {
  const { data, error } = await supabase
    .from('zk_setups')
    .select('id, model_id, created_at')
    .eq('status', 'awaiting_contribution')
    .order('created_at')
    .limit(10)
  if (error) throw new Error(`Could not read the ZK setups awaiting a contribution: ${error.message}`)
  for (const setup of data as PendingSetup[]) {
    if (!chain) {
      await failSetup(supabase, setup, 'this network’s coordinator runs without a chain, so it has no public beacon (a block hash) to finish the setup with; list the model on a network with a chain', emit)
      continue
    }
    const key = `zk-setup ${setup.id}`
    if (!backoff.ready(key)) continue
    try {
      await contributeToSetup(supabase, chain, setup, emit)
      backoff.succeeded(key)
    } catch (failure) {
      const wait = backoff.failed(key)
      emit({ type: 'warning', message: `ZK setup ${setup.id}: not contributed yet (${(failure as Error).message}); retrying in ${Math.round(wait / 1000)} s` })
    }
  }
}

async function contributeToSetup(supabase: SupabaseClient, chain: CoordinatorChain, setup: PendingSetup, emit: (event: CoordinatorEvent) => void): Promise<void> {
  const paths = setupPaths(setup.id)
  const storage = supabase.storage.from(ARTIFACTS_BUCKET)
  const { data: blob, error } = await storage.download(paths.initial)
  if (error || !blob) {
    // The owner requests the setup, then uploads: give it time, then give up on it.
    if (Date.now() - Date.parse(setup.created_at) > ZK_UPLOAD_GRACE_MS) {
      await failSetup(supabase, setup, `the owner did not upload ${paths.initial} within ${ZK_UPLOAD_GRACE_MS / 60_000} minutes; request a new setup`, emit)
    }
    return
  }
  if (blob.size > MAX_ZKEY_BYTES) {
    return failSetup(supabase, setup, `${paths.initial} is ${blob.size} bytes, over the ${MAX_ZKEY_BYTES}-byte limit of the network's powers of tau`, emit)
  }
  const started = performance.now()
  const dir = await mkdtemp(path.join(tmpdir(), 'oblivion-zk-setup-'))
  try {
    const initial = path.join(dir, 'initial.zkey')
    const contributed = path.join(dir, 'contributed.zkey')
    const final = path.join(dir, 'final.zkey')
    await writeFile(initial, new Uint8Array(await blob.arrayBuffer()))
    let contribution: { name: string; contributionHash: string }
    try {
      contribution = await contribute(initial, contributed, { name: COORDINATOR_CONTRIBUTION_NAME })
    } catch (failure) {
      return failSetup(supabase, setup, `${paths.initial} is not a zkey snarkjs can contribute to: ${(failure as Error).message}`, emit)
    }
    // Read after contributing, so a live chain's beacon postdates the secret contribution.
    const block = await chain.provider.getBlock('latest')
    if (!block?.hash) throw new Error('the chain returned no latest block')
    await applyBeacon(contributed, final, { hash: block.hash, name: `block ${block.number} of chain ${chain.chainId}` })
    const upload = await storage.upload(paths.final, await readFile(final), { contentType: 'application/octet-stream', upsert: true })
    if (upload.error) throw new Error(`could not upload ${paths.final}: ${upload.error.message}`)
    const transcript: ZkContributionTranscript = {
      contribution: { name: contribution.name, contributionHash: contribution.contributionHash },
      beacon: { chainId: chain.chainId, blockNumber: block.number, blockHash: block.hash.toLowerCase() },
    }
    await callRpc(supabase, 'record_zk_contribution', { p_setup_id: setup.id, p_transcript: transcript })
    emit({
      type: 'zk-setup-contributed',
      setupId: setup.id,
      modelId: setup.model_id,
      contributionHash: contribution.contributionHash,
      beaconBlock: block.number,
      ms: Math.round(performance.now() - started),
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function failSetup(supabase: SupabaseClient, setup: PendingSetup, reason: string, emit: (event: CoordinatorEvent) => void): Promise<void> {
  await callRpc(supabase, 'fail_zk_setup', { p_setup_id: setup.id, p_error: reason.slice(0, 500) })
  emit({ type: 'zk-setup-failed', setupId: setup.id, modelId: setup.model_id, reason })
}
