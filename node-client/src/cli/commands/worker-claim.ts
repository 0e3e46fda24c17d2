import { access } from 'node:fs/promises'
import type { SupabaseClient } from '@supabase/supabase-js'
import { buildPayoutTree, jobIdFromUuid } from '@oblivion/contracts'
import { JOB_STATUS } from '../../chain/settle-job.ts'
import { chainNow, onChain, sendOnChain, withChainSession, type ChainSession, type WalletCommandOptions } from '../chain-session.ts'
import { CliError, EXIT, requestError, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect } from '../connection.ts'
import { credentialsFile } from '../credential-store.ts'
import type { GlobalOptions } from '../global-options.ts'
import { chainTime, coins, shortId } from '../render/format.ts'
import { isoTime } from '../render/money-renderer.ts'

/**
 * What a worker's wallet is owed: the confirmed settlements (table settlements, readable by the
 * workers that worked on the job) whose payout list names the wallet, each checked against the
 * chain, and `oblivion worker claim`, which claims those whose challenge window has closed.
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

interface SettlementRow {
  id: number
  job_id: string
  merkle_root: string | null
  payouts: Array<{ address: string; amount_wei: string }>
  tx_hash: string | null
}

/**
 * Signs in as the identity of worker `name` (its stored session; a worker's payouts are visible to
 * the identity that ran it only, so a new anonymous identity would see none).
 */
export async function signInAsWorker(options: GlobalOptions, name: string): Promise<{ supabase: SupabaseClient; close: () => Promise<void> }> {
  const file = credentialsFile(options.home, name)
  try {
    await access(file)
  } catch {
    throw new CliError('CLI_NO_IDENTITY', `worker ${name} has no stored identity (${file})`, {
      hint: 'a payout is visible to the identity of the worker that earned it: give the --name (and --home) that `oblivion worker` ran with',
    })
  }
  const { supabase } = await connectAsUser(options, { profile: name })
  return { supabase, close: () => disconnect(supabase) }
}

/** The confirmed settlements of this chain that pay the session's wallet, newest row per job, each with its state on chain. */
export async function listWorkerPayouts(session: ChainSession, supabase: SupabaseClient, jobId?: string): Promise<WorkerPayout[]> {
  const address = session.address.toLowerCase()
  let query = supabase
    .from('settlements')
    .select('id, job_id, merkle_root, payouts, tx_hash')
    .eq('status', 'confirmed')
    .eq('chain_id', session.target.chainId)
    // jsonb containment (cs) of a one-element array: supabase-js's contains() would send an array literal.
    .filter('payouts', 'cs', JSON.stringify([{ address }]))
    .order('id', { ascending: false })
  if (jobId !== undefined) query = query.eq('job_id', jobId)
  const { data, error } = await query
  if (error) throw requestError('could not read the settlements', error)
  const latest = new Map<string, SettlementRow>()
  for (const row of (data ?? []) as SettlementRow[]) if (!latest.has(row.job_id)) latest.set(row.job_id, row)
  if (latest.size === 0) return []

  const [now, window] = await Promise.all([chainNow(session), onChain(session, 'reading the challenge window', () => session.contract.challengeWindow())])
  const payouts: WorkerPayout[] = []
  for (const row of latest.values()) payouts.push(await payoutOf(session, row, now, Number(window)))
  return payouts
}

async function payoutOf(session: ChainSession, row: SettlementRow, now: number, challengeWindow: number): Promise<WorkerPayout> {
  const root = (row.merkle_root ?? '').toLowerCase()
  const base = { jobId: row.job_id, root, settlementTx: row.tx_hash, claimableAt: null }
  let tree: ReturnType<typeof buildPayoutTree>
  try {
    tree = buildPayoutTree(row.payouts.map((p) => ({ address: p.address, amountWei: BigInt(p.amount_wei) })))
  } catch {
    return { ...base, amountWei: 0n, proof: [], state: 'invalid' }
  }
  const amountWei = tree.amounts.get(session.address) ?? 0n
  const proof = tree.proofs.get(session.address) ?? []
  if (tree.root.toLowerCase() !== root || amountWei === 0n) return { ...base, amountWei, proof, state: 'invalid' }

  const chainJobId = jobIdFromUuid(row.job_id)
  const job = await onChain(session, `reading job ${row.job_id}`, () => session.contract.getJob(chainJobId))
  if (Number(job.status) !== JOB_STATUS.Settled || job.payoutRoot.toLowerCase() !== root) return { ...base, amountWei, proof, state: 'not-on-chain' }
  const claimableAt = Number(job.settledAt) + challengeWindow
  const claimed = await onChain(session, `reading the claim of job ${row.job_id}`, () => session.contract.isClaimed(chainJobId, session.address, amountWei, proof))
  const state: PayoutState = claimed ? 'claimed' : now >= claimableAt ? 'claimable' : 'waiting'
  return { ...base, amountWei, proof, claimableAt, state }
}

/** A payout as a JSON line's fields. */
export function payoutRecord(payout: WorkerPayout) {
  return {
    jobId: payout.jobId,
    amountWei: String(payout.amountWei),
    state: payout.state,
    claimableAt: payout.claimableAt === null ? null : isoTime(payout.claimableAt),
    settlementTx: payout.settlementTx,
  }
}

/** A payout in words, e.g. `job 1a2b3c4d: 0.5 SHM, claimable from 2026-… (in 4 min 2 s), when the challenge window closes`. */
export function describePayout(payout: WorkerPayout, now: number): string {
  const head = `job ${shortId(payout.jobId)}: ${coins(payout.amountWei)}`
  switch (payout.state) {
    case 'claimable':
      return `${head}, claimable now`
    case 'claimed':
      return `${head}, claimed`
    case 'waiting':
      return `${head}, claimable from ${chainTime(payout.claimableAt!, now)}, when the challenge window closes`
    case 'not-on-chain':
      return `${head}, not settled on chain with this payout list (disputed?): nothing to claim yet`
    case 'invalid':
      return `${head}, the settlement's payout list does not reproduce its Merkle root: it cannot be claimed`
  }
}

export interface WorkerClaimOptions extends WalletCommandOptions {
  name: string
  jobId?: string | undefined
}

/**
 * `oblivion worker claim [--job <id>] [--name <worker>]`: claims every payout of the wallet whose
 * challenge window has closed, reports those still waiting (with when), skips those claimed.
 */
export function runWorkerClaimCommand(options: WorkerClaimOptions): Promise<ExitCode> {
  return withChainSession(options, async (session, out) => {
    const { supabase, close } = await signInAsWorker(options, options.name)
    let payouts: WorkerPayout[]
    try {
      payouts = await listWorkerPayouts(session, supabase, options.jobId)
    } finally {
      await close()
    }
    if (options.jobId !== undefined && payouts.length === 0) {
      throw new CliError('CLI_NOT_FOUND', `no confirmed settlement of job ${options.jobId} pays ${session.address} on chain ${session.target.chainId}`, {
        hint: `the job may not be settled yet, or worker ${options.name} did not work on it: \`oblivion worker stake --name ${options.name}\` lists your payouts`,
      })
    }
    const now = payouts.length > 0 ? await chainNow(session) : 0
    let claimedWei = 0n
    let claimed = 0
    const failures: string[] = []
    for (const payout of payouts) {
      if (payout.state !== 'claimable') {
        out.emit(payout.state === 'waiting' ? 'not-claimable' : 'payout', payoutRecord(payout), describePayout(payout, now))
        continue
      }
      try {
        const receipt = await sendOnChain(session, 'claimPayout', [jobIdFromUuid(payout.jobId), payout.amountWei, payout.proof], {
          what: `claiming the payout of job ${payout.jobId}`,
        })
        claimedWei += payout.amountWei
        claimed += 1
        out.emit(
          'claimed',
          { ...payoutRecord(payout), state: 'claimed', txHash: receipt.hash, blockNumber: receipt.blockNumber },
          `job ${shortId(payout.jobId)}: claimed ${coins(payout.amountWei)} (tx ${receipt.hash})`,
        )
      } catch (error) {
        if (!(error instanceof CliError)) throw error
        failures.push(`job ${payout.jobId}: ${error.message}`)
        out.emit('claim-failed', { ...payoutRecord(payout), code: error.code, message: error.message }, `job ${shortId(payout.jobId)}: claim failed: ${error.message}`)
      }
    }
    const count = (state: PayoutState) => payouts.filter((p) => p.state === state).length
    const summary = {
      chainId: session.target.chainId,
      address: session.address,
      worker: options.name,
      claimed,
      claimedWei: String(claimedWei),
      waiting: count('waiting'),
      claimedBefore: count('claimed'),
      failed: failures.length,
    }
    const parts = [
      claimed > 0 ? `claimed ${coins(claimedWei)} from ${claimed} job(s)` : 'nothing claimed',
      ...(summary.waiting ? [`${summary.waiting} waiting for the challenge window`] : []),
      ...(summary.claimedBefore ? [`${summary.claimedBefore} claimed before`] : []),
      ...(payouts.length === 0 ? [`no confirmed settlement pays ${session.address} yet`] : []),
    ]
    out.emit('claim-summary', summary, parts.join('; '))
    if (failures.length > 0) {
      throw new CliError('CLI_CLAIM_FAILED', `${failures.length} claim(s) failed`, { details: failures, hint: 'the lines above say why; run the command again to retry' })
    }
    return EXIT.ok
  })
}
