import { getAddress } from 'ethers'
import type { PostgrestError, SupabaseClient } from '@supabase/supabase-js'
import { buildPayoutTree, jobIdFromUuid, type OblivionSettlement } from '@oblivion/contracts/browser'
import { JOB_STATUS } from './settle-job.ts'

/**
 * What a worker's wallet is owed: the confirmed settlements (table settlements, readable by the
 * users whose workers worked on the job) whose payout list names the wallet, each checked against
 * the chain. Shared by `oblivion worker claim` / `worker stake` and the web app's worker page;
 * supabase-js and ethers only, so it runs in a browser.
 */

/** Where a payout stands. */
export type PayoutState =
  /** The challenge window has closed and it was not claimed: claimPayout pays it. */
  | 'claimable'
  /** Claimed already (isClaimed). */
  | 'claimed'
  /** Settled, but the settlement can still be disputed until claimableAt. */
  | 'waiting'
  /** The chain does not hold this settlement (disputed, or not mined on this chain). */
  | 'not-on-chain'
  /** The row's payout list does not reproduce its Merkle root: nothing can be proved from it. */
  | 'invalid'

export interface WorkerPayout {
  jobId: string
  amountWei: bigint
  proof: string[]
  state: PayoutState
  /** When the challenge window closes (unix seconds); null when unknown (not on chain, invalid). */
  claimableAt: number | null
  root: string
  settlementTx: string | null
}

/** The columns of a settlements row that a payout is computed from. */
export interface SettlementPayoutRow {
  id: number
  job_id: string
  merkle_root: string | null
  payouts: Array<{ address: string; amount_wei: string }>
  tx_hash: string | null
}

/**
 * Runs one chain read. Shells wrap it to report failures their way (the CLI: a CliError naming
 * `what`); the default lets errors through.
 */
export type ChainRead = <T>(what: string, run: () => Promise<T>) => Promise<T>

const passThrough: ChainRead = (_what, run) => run()

/**
 * The confirmed settlements on chain `chainId` whose payout list names `address`, the newest row
 * per job (a job settled again after a dispute has a newer row). `error` is supabase-js's.
 */
export async function readWorkerSettlements(
  supabase: SupabaseClient,
  filter: { chainId: number; address: string; jobId?: string | undefined },
): Promise<{ rows: SettlementPayoutRow[]; error: PostgrestError | null }> {
  let query = supabase
    .from('settlements')
    .select('id, job_id, merkle_root, payouts, tx_hash')
    .eq('status', 'confirmed')
    .eq('chain_id', filter.chainId)
    // jsonb containment (cs) of a one-element array: supabase-js's contains() would send an array literal.
    .filter('payouts', 'cs', JSON.stringify([{ address: filter.address.toLowerCase() }]))
    .order('id', { ascending: false })
  if (filter.jobId !== undefined) query = query.eq('job_id', filter.jobId)
  const { data, error } = await query
  if (error) return { rows: [], error }
  const latest = new Map<string, SettlementPayoutRow>()
  for (const row of (data ?? []) as SettlementPayoutRow[]) if (!latest.has(row.job_id)) latest.set(row.job_id, row)
  return { rows: [...latest.values()], error: null }
}

/**
 * One settlement's payout to `address`: the amount and Merkle proof rebuilt from the row's payout
 * list (checked against its merkle_root), then the job's state on chain: settled with that root?
 * claimed? challenge window closed at `now` (the chain's time, unix seconds)?
 */
export async function payoutOf(
  contract: OblivionSettlement,
  address: string,
  row: SettlementPayoutRow,
  now: number,
  challengeWindow: number,
  read: ChainRead = passThrough,
): Promise<WorkerPayout> {
  const wallet = getAddress(address.toLowerCase())
  const root = (row.merkle_root ?? '').toLowerCase()
  const base = { jobId: row.job_id, root, settlementTx: row.tx_hash, claimableAt: null }
  let tree: ReturnType<typeof buildPayoutTree>
  try {
    tree = buildPayoutTree(row.payouts.map((p) => ({ address: p.address, amountWei: BigInt(p.amount_wei) })))
  } catch {
    return { ...base, amountWei: 0n, proof: [], state: 'invalid' }
  }
  const amountWei = tree.amounts.get(wallet) ?? 0n
  const proof = tree.proofs.get(wallet) ?? []
  if (tree.root.toLowerCase() !== root || amountWei === 0n) return { ...base, amountWei, proof, state: 'invalid' }

  const chainJobId = jobIdFromUuid(row.job_id)
  const job = await read(`reading job ${row.job_id}`, () => contract.getJob(chainJobId))
  if (Number(job.status) !== JOB_STATUS.Settled || job.payoutRoot.toLowerCase() !== root) return { ...base, amountWei, proof, state: 'not-on-chain' }
  const claimableAt = Number(job.settledAt) + challengeWindow
  const claimed = await read(`reading the claim of job ${row.job_id}`, () => contract.isClaimed(chainJobId, wallet, amountWei, proof))
  const state: PayoutState = claimed ? 'claimed' : now >= claimableAt ? 'claimable' : 'waiting'
  return { ...base, amountWei, proof, claimableAt, state }
}

/**
 * The chain's "now" (unix seconds) as the contract will see it: the timestamp of the pending
 * block, which is what the next transaction gets (on an idle anvil the latest block can be
 * minutes old, and evm_increaseTime moves the pending one at once); null when the RPC has no
 * pending block (then use the latest block's).
 */
export async function pendingBlockTime(provider: { getBlock(tag: 'pending'): Promise<{ timestamp: number } | null> }): Promise<number | null> {
  const pending = await provider.getBlock('pending').catch(() => null)
  return pending && pending.timestamp > 0 ? pending.timestamp : null
}
