import { jobIdFromUuid } from '@oblivion/contracts'
import { JOB_STATUS, sendContractCall, specHash } from '../../chain/index.ts'
import type { CoordinatorChain } from './coordinator-chain.ts'

export type EscrowStart =
  /** Marked started (now or earlier): the creator can no longer cancel, work may begin. */
  | { kind: 'started'; txHash: string | null }
  /** The escrow does not fit the job: fail the job with this reason (settlement refunds the creator). */
  | { kind: 'refuse'; reason: string }
  /** The escrow is no longer Funded (cancelled or expired): the mirror ends the job; do nothing. */
  | { kind: 'ended'; status: number }

/**
 * Before round 1 of a chain-funded job: checks that the escrow is bound to this job's spec
 * (specHash), then marks it started (record_chain_events funded the job only if the escrow
 * covers the reward), so that the creator cannot
 * cancel it once workers spend effort. Reads the chain first each time, so a coordinator that
 * restarts after markStarted was mined does not send it again.
 */
export async function startEscrow(chain: CoordinatorChain, job: { id: string; spec: unknown }): Promise<EscrowStart> {
  const chainJobId = jobIdFromUuid(job.id)
  const escrow = await chain.contract.getJob(chainJobId)
  const status = Number(escrow.status)
  if (status !== JOB_STATUS.Funded) return { kind: 'ended', status }
  const expected = await specHash(job.spec)
  if (escrow.specHash.toLowerCase() !== expected.toLowerCase()) {
    return {
      kind: 'refuse',
      reason: `the escrow on chain ${chain.chainId} is bound to spec hash ${escrow.specHash}, not this job's ${expected}; its creator gets the escrow back at settlement`,
    }
  }
  if (escrow.started) return { kind: 'started', txHash: null }
  const receipt = await sendContractCall(chain.contract, 'markStarted', [chainJobId])
  return { kind: 'started', txHash: receipt.hash }
}
