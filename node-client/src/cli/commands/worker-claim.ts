import { access } from 'node:fs/promises'
import type { SupabaseClient } from '@supabase/supabase-js'
import { jobIdFromUuid } from '@oblivion/contracts'
import { payoutOf, readWorkerSettlements, type ChainRead, type PayoutState, type WorkerPayout } from '../../chain/worker-payouts.ts'
import { chainNow, onChain, sendOnChain, withChainSession, type ChainSession, type WalletCommandOptions } from '../chain-session.ts'
import { CliError, EXIT, requestError, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect } from '../connection.ts'
import { credentialsFile } from '../credential-store.ts'
import type { GlobalOptions } from '../global-options.ts'
import { chainTime, coins, shortId } from '../render/format.ts'
import { isoTime } from '../render/money-renderer.ts'

/**
 * `oblivion worker claim`: claims the wallet's payouts whose challenge window has closed. What a
 * payout is and where it stands (chain/worker-payouts.ts) is shared with the web app's worker page.
 */

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
  const { rows, error } = await readWorkerSettlements(supabase, { chainId: session.target.chainId, address: session.address, jobId })
  if (error) throw requestError('could not read the settlements', error)
  if (rows.length === 0) return []

  const [now, window] = await Promise.all([chainNow(session), onChain(session, 'reading the challenge window', () => session.contract.challengeWindow())])
  const read: ChainRead = (what, run) => onChain(session, what, run)
  const payouts: WorkerPayout[] = []
  for (const row of rows) payouts.push(await payoutOf(session.contract, session.address, row, now, Number(window), read))
  return payouts
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
