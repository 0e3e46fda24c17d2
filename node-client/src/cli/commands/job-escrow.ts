import { jobIdFromUuid } from '@oblivion/contracts'
import { JOB_STATUS } from '../../chain/settle-job.ts'
import { specHash } from '../../chain/spec-hash.ts'
import { chainProvider, settlementContract, type ChainTarget } from '../chain-connection.ts'
import {
  chainNow,
  chainTarget,
  onChain,
  openChainSession,
  receiptEvent,
  sendOnChain,
  withChainSession,
  type ChainSession,
  type WalletCommandOptions,
} from '../chain-session.ts'
import { CliError, EXIT, requestError, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect, JOB_PROFILE } from '../connection.ts'
import { fetchJob, type JobRow } from '../job-progress.ts'
import { chainTime, coins } from '../render/format.ts'
import { followJobText } from '../render/job-renderer.ts'
import { isoTime, moneyOutput, type MoneyOutput } from '../render/money-renderer.ts'

/**
 * A job's escrow in the settlement contract, from the creator's side: funding it (`job create`,
 * `job fund`), cancelling it before work begins (`job cancel`), and getting back what the contract
 * credits the creator (`job refund`: an expired escrow, a settlement's remainder, slashed stakes).
 */

/** getJob's status in words. */
const STATUS_NAMES = ['none', 'funded', 'cancelled', 'expired', 'settled'] as const
const statusName = (status: bigint | number) => STATUS_NAMES[Number(status)] ?? `status ${status}`

export interface JobFundOptions extends WalletCommandOptions {
  /** The escrow's deadline, in hours after the latest block. */
  deadlineHours: number
}

/**
 * Escrows the job's reward: createJob(jobIdFromUuid(id), specHash(spec as the database returns
 * it), latest block time + deadlineHours) with value = reward. Refuses a job that already has an
 * escrow on chain, or that is not waiting for funding.
 */
export async function fundJobEscrow(
  session: ChainSession,
  job: Pick<JobRow, 'id' | 'status' | 'reward_wei' | 'spec'>,
  deadlineHours: number,
  out: MoneyOutput,
): Promise<void> {
  const chainJobId = jobIdFromUuid(job.id)
  const existing = await onChain(session, `reading job ${job.id}`, () => session.contract.getJob(chainJobId))
  if (Number(existing.status) !== JOB_STATUS.None) {
    throw new CliError('CLI_ALREADY_FUNDED', `job ${job.id} already has an escrow on chain ${session.target.chainId}: ${statusName(existing.status)}, ${coins(existing.escrow)}`, {
      hint: `nothing to fund; follow the job with \`oblivion job status ${job.id}\``,
    })
  }
  if (job.status !== 'created') {
    throw new CliError('CLI_JOB_STATE', `job ${job.id} is ${job.status}: only a created job waits for its escrow`, {
      hint: `nothing to fund; \`oblivion job status ${job.id}\` shows the job`,
    })
  }
  const hash = await specHash(job.spec)
  const amount = BigInt(job.reward_wei)
  const deadline = (await chainNow(session)) + Math.round(deadlineHours * 3600)
  const receipt = await sendOnChain(session, 'createJob', [chainJobId, hash, deadline], { value: amount, what: `funding the escrow of job ${job.id}` })
  out.emit(
    'job-funded',
    {
      id: job.id,
      chainId: session.target.chainId,
      settlement: session.target.settlement,
      creator: session.address,
      amountWei: String(amount),
      specHash: hash,
      deadline: isoTime(deadline),
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
    },
    [
      `  escrow of ${coins(amount)} funded on chain ${session.target.chainId} from ${session.address} (tx ${receipt.hash})`,
      `  deadline ${isoTime(deadline)}; the coordinator starts the job once it sees the escrow; follow it with:`,
      followJobText(job.id),
    ].join('\n'),
  )
}

/** `oblivion job fund <job-id>`: funds the escrow of a created job (what `job create` does unless --no-fund). */
export function runJobFundCommand(options: JobFundOptions & { jobId: string }): Promise<ExitCode> {
  return withChainSession(options, async (session, out) => {
    const { supabase } = await connectAsUser(options, { profile: JOB_PROFILE })
    try {
      await fundJobEscrow(session, await fetchJob(supabase, options.jobId), options.deadlineHours, out)
    } finally {
      await disconnect(supabase)
    }
  })
}

/** The job's escrow on the chain `target`, read without a wallet. */
async function readEscrow(target: ChainTarget, jobId: string) {
  const provider = chainProvider(target)
  try {
    const contract = settlementContract(target, provider)
    return await onChain({ target, contract }, `reading job ${jobId}`, () => contract.getJob(jobIdFromUuid(jobId)))
  } finally {
    provider.destroy()
  }
}

/**
 * `oblivion job cancel <job-id>`: a job with an escrow on chain that no work has started on is
 * cancelled there (cancelJob: the whole escrow back at once); a job without one (created, or
 * funded without escrow) is cancelled in the database (cancel_job). Once work has begun the
 * escrow cannot be cancelled (AlreadyStarted).
 */
export async function runJobCancelCommand(options: WalletCommandOptions & { jobId: string }): Promise<ExitCode> {
  const out = moneyOutput(options.json)
  const { supabase } = await connectAsUser(options, { profile: JOB_PROFILE })
  try {
    const job = await fetchJob(supabase, options.jobId)
    const target = await chainTarget(options.home, false)
    const escrow = target ? await readEscrow(target, job.id) : null
    if (!target && job.chain_id !== null) {
      throw new CliError('CLI_NO_CHAIN', `job ${job.id} has its escrow on chain ${job.chain_id}, and no chain is configured here`, {
        hint: 'set OBLIVION_RPC_URL (and OBLIVION_SETTLEMENT_ADDRESS) to that chain, or run on the machine whose `npm start` runs it',
      })
    }
    const status = escrow ? Number(escrow.status) : JOB_STATUS.None
    let refund: bigint | null = null
    let txHash: string | null = null
    if (status === JOB_STATUS.Funded) {
      if (escrow!.started) {
        throw new CliError('AlreadyStarted', `job ${job.id} cannot be cancelled: work has begun; the escrow is refunded minus what workers earn at settlement, or after the deadline via \`oblivion job refund ${job.id}\``, {
          hint: `the deadline is ${isoTime(escrow!.deadline)}`,
        })
      }
      const session = await openChainSession(options.home, options, target!)
      try {
        const receipt = await sendOnChain(session, 'cancelJob', [jobIdFromUuid(job.id)], { what: `cancelling the escrow of job ${job.id}` })
        refund = receiptEvent(session, receipt, 'JobCancelled')?.refund ?? escrow!.escrow
        txHash = receipt.hash
      } finally {
        session.close()
      }
    } else if (status === JOB_STATUS.Expired || status === JOB_STATUS.Settled) {
      throw new CliError('CLI_JOB_STATE', `job ${job.id} is ${statusName(status)} on chain: there is no escrow left to cancel`, {
        hint: `what the contract owes you is credited to the creator's wallet: withdraw it with \`oblivion job refund ${job.id}\``,
      })
    }
    // The database follows at once (the coordinator would mirror JobCancelled too): no new leases.
    const reason = txHash ? `escrow refunded on chain (tx ${txHash})` : status === JOB_STATUS.Cancelled ? 'escrow cancelled on chain' : null
    const { data, error } = await supabase.rpc('cancel_job', { p_job_id: job.id, p_reason: reason })
    if (error) throw requestError(`could not cancel job ${job.id}`, error)
    const cancelled = data as { status: string }
    out.emit(
      'job-cancelled',
      { id: job.id, status: cancelled.status, chainId: escrow ? target!.chainId : null, refundWei: refund === null ? null : String(refund), txHash },
      refund !== null
        ? `cancelled job ${job.id}: ${coins(refund)} refunded from its escrow on chain ${target!.chainId} (tx ${txHash})`
        : status === JOB_STATUS.Cancelled
          ? `job ${job.id} was cancelled on chain already (its escrow was refunded then); the job is ${cancelled.status}`
          : `cancelled job ${job.id} (it had no escrow on chain: nothing to refund)`,
    )
    return EXIT.ok
  } finally {
    await disconnect(supabase)
  }
}

/**
 * `oblivion job refund [job-id]`: with a job past its deadline whose escrow is still funded,
 * expires it first (the escrow becomes the creator's credit); then withdraws the wallet's credits
 * (expired escrows, settlement remainders, slashed stakes), if any.
 */
export function runJobRefundCommand(options: WalletCommandOptions & { jobId?: string | undefined }): Promise<ExitCode> {
  return withChainSession(options, async (session, out) => {
    if (options.jobId !== undefined) await expireIfDue(session, options.jobId, out)
    const credits = await onChain(session, 'reading your credits', () => session.contract.credits(session.address))
    if (credits === 0n) {
      out.emit('nothing-to-withdraw', { chainId: session.target.chainId, address: session.address }, `nothing to withdraw: no credits for ${session.address} on chain ${session.target.chainId}`)
      return
    }
    const receipt = await sendOnChain(session, 'withdrawCredits', [], { what: 'withdrawing your credits' })
    const amount = receiptEvent(session, receipt, 'CreditsWithdrawn')?.amount ?? credits
    out.emit(
      'credits-withdrawn',
      { chainId: session.target.chainId, address: session.address, amountWei: String(amount), txHash: receipt.hash },
      `withdrew ${coins(amount)} of credits to ${session.address} (tx ${receipt.hash})`,
    )
  })
}

async function expireIfDue(session: ChainSession, jobId: string, out: MoneyOutput): Promise<void> {
  const escrow = await onChain(session, `reading job ${jobId}`, () => session.contract.getJob(jobIdFromUuid(jobId)))
  const status = Number(escrow.status)
  if (status === JOB_STATUS.None) {
    throw new CliError('CLI_NOT_FOUND', `job ${jobId} has no escrow on chain ${session.target.chainId}`, {
      hint: 'check the job id, and that OBLIVION_RPC_URL (or <home>/chain.json) names the chain the job was funded on',
    })
  }
  if (status !== JOB_STATUS.Funded) return // cancelled, expired or settled: only credits may be left
  const now = await chainNow(session)
  const deadline = Number(escrow.deadline)
  if (now <= deadline) {
    throw new CliError('NotExpired', `job ${jobId} is funded until its deadline, ${chainTime(deadline, now)}: its escrow can be refunded after that`, {
      hint: escrow.started ? 'work has begun: the escrow is refunded minus what workers earn at settlement' : `no work has begun: \`oblivion job cancel ${jobId}\` refunds it now`,
    })
  }
  const receipt = await sendOnChain(session, 'expireJob', [jobIdFromUuid(jobId)], { what: `expiring job ${jobId}` })
  const refund = receiptEvent(session, receipt, 'JobExpired')?.refund ?? escrow.escrow
  const mine = escrow.creator.toLowerCase() === session.address.toLowerCase()
  out.emit(
    'job-expired',
    { id: jobId, chainId: session.target.chainId, creator: escrow.creator, refundWei: String(refund), txHash: receipt.hash },
    `expired job ${jobId}: its escrow of ${coins(refund)} is credited to ${mine ? 'you' : `its creator ${escrow.creator}`} (tx ${receipt.hash})`,
  )
}
