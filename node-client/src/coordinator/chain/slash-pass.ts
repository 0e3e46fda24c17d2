import type { SupabaseClient } from '@supabase/supabase-js'
import { zeroPadValue, type Log } from 'ethers'
import { jobIdFromUuid } from '@oblivion/contracts'
import { ContractRevertError, findLatestLog, modelCidHash, sendContractCall } from '../../chain/index.ts'
import { callRpc } from '../../worker-core/rpc.ts'
import type { CoordinatorEvent } from '../coordinator-events.ts'
import type { CoordinatorChain } from './coordinator-chain.ts'
import { RetryBackoff } from './retry-backoff.ts'

interface PendingSlash {
  id: number
  job_id: string
  address: string
  amount_wei: string
  evidence_cid: string
}

/**
 * Sends the slashes record_slash queued for refused updates: slash(worker, job, one task's value,
 * sha-256 of the rejected update's CID); the contract takes what the bond holds (bonded first,
 * then unbonding) and credits it to the job's creator. Before sending, the chain is searched for
 * a Slashed event with the same evidence, so a coordinator that restarts after broadcasting does
 * not slash twice. RPC failures leave the slash pending, retried with backoff.
 */
export async function executePendingSlashes(
  supabase: SupabaseClient,
  chain: CoordinatorChain,
  emit: (event: CoordinatorEvent) => void,
  backoff = new RetryBackoff(),
): Promise<void> {
  const { data, error } = await supabase
    .from('slashes')
    .select('id, job_id, address, amount_wei, evidence_cid')
    .eq('status', 'pending')
    .eq('chain_id', chain.chainId)
    .order('id')
    .limit(50)
  if (error) throw new Error(`Could not read pending slashes: ${error.message}`)
  for (const slash of data as PendingSlash[]) {
    const key = `slash ${slash.id}`
    if (!backoff.ready(key)) continue
    try {
      await executeSlash(supabase, chain, slash, emit)
      backoff.succeeded(key)
    } catch (failure) {
      const wait = backoff.failed(key)
      emit({ type: 'warning', message: `slash ${slash.id} of ${slash.address}: not sent yet (${(failure as Error).message}); retrying in ${Math.round(wait / 1000)} s` })
    }
  }
}

async function executeSlash(supabase: SupabaseClient, chain: CoordinatorChain, slash: PendingSlash, emit: (event: CoordinatorEvent) => void): Promise<void> {
  const { contract } = chain
  const chainJobId = jobIdFromUuid(slash.job_id)
  // The same digest settle uses for the model CID: sha-256 of the CID string.
  const evidenceHash = modelCidHash(slash.evidence_cid)
  const slashed = contract.interface.getEvent('Slashed')!
  const parse = (log: Log) => contract.interface.parseLog(log)
  const ours = (log: Log) => (parse(log)?.args.evidenceHash as string | undefined)?.toLowerCase() === evidenceHash.toLowerCase()

  let log = await findLatestLog(chain.provider, chain.contractAddress, [slashed.topicHash, zeroPadValue(slash.address, 32), chainJobId], chain.fromBlock, ours)
  if (!log) {
    try {
      const receipt = await sendContractCall(contract, 'slash', [slash.address, chainJobId, BigInt(slash.amount_wei), evidenceHash])
      log = receipt.logs.find((l) => l.topics[0] === slashed.topicHash && ours(l)) ?? null
      if (!log) throw new Error(`slash transaction ${receipt.hash} has no Slashed event`)
    } catch (failure) {
      if (!(failure instanceof ContractRevertError)) throw failure
      const reason = failure.reason.name === 'InsufficientBond' ? 'the worker has no bond left to slash' : failure.message
      await callRpc(supabase, 'record_slash_result', { p_slash_id: slash.id, p_status: 'failed', p_error: reason })
      emit({ type: 'warning', message: `slash of ${slash.address} for job ${slash.job_id} not possible: ${reason}` })
      return
    }
  }
  const taken = (parse(log)!.args.amount as bigint).toString()
  await callRpc(supabase, 'record_slash_result', {
    p_slash_id: slash.id,
    p_status: 'confirmed',
    p_taken_wei: taken,
    p_tx_hash: log.transactionHash.toLowerCase(),
    p_block_number: log.blockNumber,
  })
  emit({ type: 'worker-slashed', jobId: slash.job_id, address: slash.address, amountWei: taken, txHash: log.transactionHash })
}
