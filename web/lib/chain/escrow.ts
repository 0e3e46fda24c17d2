import { jobIdFromUuid } from '@oblivion/contracts/browser'
import { JOB_STATUS, specHash } from '@oblivion/node-client/chain'
import type { PublicChainConfig } from '@oblivion/visualizer/config'
import type { Eip1193Provider } from '../wallet/eip1193.ts'
import { readSettlement, sendLegacy, TransactionProblem, walletSettlement } from './settlement.ts'

/**
 * A job's escrow in the settlement contract, from the creator's page: read it, fund it, cancel it
 * before work begins. The same steps as `oblivion job fund` / `job cancel` (node-client
 * job-escrow.ts), signed by the person's wallet instead of a key file.
 */

export type EscrowStatus = 'none' | 'funded' | 'cancelled' | 'expired' | 'settled'
const STATUS_NAMES: EscrowStatus[] = ['none', 'funded', 'cancelled', 'expired', 'settled']

export interface Escrow {
  status: EscrowStatus
  creator: string
  /** The coordinator marked it started: the creator can no longer cancel. */
  started: boolean
  escrowWei: bigint
  /** Unix seconds; 0 without an escrow. */
  deadline: number
  settledAt: number
  unclaimedWei: bigint
  specHash: string
}

/** Reverts of createJob / cancelJob, in words a person can act on. */
const EXPLAIN: Record<string, string> = {
  JobExists: 'This job already has an escrow on chain: reload the page to see it.',
  BadDeadline: 'The deadline must be after the latest block: choose a later one.',
  ZeroAmount: 'The reward must be more than 0.',
  AmountTooLarge: 'The reward is larger than the contract accepts: choose a smaller one.',
  NotCreator: 'Only the wallet that funded the escrow can cancel it: switch to that account in your wallet.',
  AlreadyStarted: 'Work on the job has begun, so the escrow can no longer be cancelled: it is refunded minus what workers earn when the job is settled, or in full after its deadline.',
  WrongStatus: 'The escrow is no longer funded (cancelled, expired or settled): reload the page.',
  UnknownJob: 'The job has no escrow on chain.',
}

export async function readEscrow(chain: PublicChainConfig, jobId: string): Promise<Escrow> {
  const { contract, provider } = readSettlement(chain)
  try {
    const job = await contract.getJob(jobIdFromUuid(jobId))
    return {
      status: STATUS_NAMES[Number(job.status)] ?? 'none',
      creator: job.creator.toLowerCase(),
      started: job.started,
      escrowWei: job.escrow,
      deadline: Number(job.deadline),
      settledAt: Number(job.settledAt),
      unclaimedWei: job.unclaimed,
      specHash: job.specHash,
    }
  } finally {
    provider.destroy()
  }
}

/** The coins an address holds, read from the chain's RPC. */
export async function readBalance(chain: PublicChainConfig, address: string): Promise<bigint> {
  const { provider } = readSettlement(chain)
  try {
    return await provider.getBalance(address)
  } finally {
    provider.destroy()
  }
}

/**
 * Escrows a created job's reward: createJob(jobIdFromUuid(id), specHash(spec as the database
 * returned it), latest block time + deadlineHours) with value = reward, from the wallet.
 * Returns the transaction hash; throws a TransactionProblem (declined, refused, unpayable).
 */
export async function fundEscrow(
  chain: PublicChainConfig,
  wallet: Eip1193Provider,
  job: { id: string; spec: unknown; reward_wei: string },
  deadlineHours: number,
): Promise<string> {
  const { contract: reader, provider } = readSettlement(chain)
  let deadline: number
  try {
    const existing = await reader.getJob(jobIdFromUuid(job.id))
    if (Number(existing.status) !== JOB_STATUS.None) {
      throw new TransactionProblem('This job already has an escrow on chain.', 'Nothing to fund: reload the page to see it.', false)
    }
    const latest = await provider.getBlock('latest')
    if (!latest) throw new TransactionProblem('The chain gave no latest block.', 'Check that the chain is reachable, then try again.', false)
    deadline = latest.timestamp + Math.round(deadlineHours * 3600)
  } catch (error) {
    if (error instanceof TransactionProblem) throw error
    throw new TransactionProblem(`Could not read the chain at ${chain.rpcUrl}: ${(error as Error).message}`, 'Check that the chain is reachable, then try again.', false)
  } finally {
    provider.destroy()
  }
  const hash = await specHash(job.spec)
  const contract = await walletSettlement(chain, wallet)
  const receipt = await sendLegacy(contract, 'createJob', [jobIdFromUuid(job.id), hash, deadline], { value: BigInt(job.reward_wei), explain: EXPLAIN })
  return receipt.hash
}

/** cancelJob from the creator's wallet: the whole escrow back, while no work has started. */
export async function cancelEscrow(chain: PublicChainConfig, wallet: Eip1193Provider, jobId: string): Promise<string> {
  const contract = await walletSettlement(chain, wallet)
  const receipt = await sendLegacy(contract, 'cancelJob', [jobIdFromUuid(jobId)], { explain: EXPLAIN })
  return receipt.hash
}
