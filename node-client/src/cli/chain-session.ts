import { isError, type JsonRpcProvider, type TransactionReceipt } from 'ethers'
import { ChainError, LegacyWallet, parseOblivionSettlementLogs, type OblivionSettlement, type OblivionSettlementEvents } from '@oblivion/contracts'
import { ContractRevertError, sendContractCall } from '../chain/contract-call.ts'
import { revertReason, type RevertReason } from '../chain/revert-reason.ts'
import { pendingBlockTime } from '../chain/worker-payouts.ts'
import { chainProvider, loadWallet, requireChainTarget, resolveChainTarget, settlementContract, type ChainTarget, type WalletChoice } from './chain-connection.ts'
import { CliError, EXIT, type ExitCode } from './cli-error.ts'
import type { GlobalOptions } from './global-options.ts'
import { moneyOutput, type MoneyOutput } from './render/money-renderer.ts'

/**
 * What the money commands (worker bond/unbond/withdraw/claim/stake, job fund/cancel/refund) share:
 * the chain and wallet they act with, and one way of turning what the chain answers into errors a
 * person can act on: a refused call names the contract's error (its code is the error's name,
 * e.g. `InsufficientBond`), an RPC that does not answer names its URL.
 */

export interface ChainSession {
  target: ChainTarget
  provider: JsonRpcProvider
  wallet: LegacyWallet
  /** The wallet's address, checksummed. */
  address: string
  /** The settlement contract, connected with the wallet. */
  contract: OblivionSettlement
  close(): void
}

/** What every money command takes: the network, the output mode, the wallet. */
export interface WalletCommandOptions extends GlobalOptions, WalletChoice {}

/** Opens the session, runs `work`, closes the session: the frame of each money command. */
export async function withChainSession(
  options: WalletCommandOptions,
  work: (session: ChainSession, out: MoneyOutput) => Promise<ExitCode | void>,
): Promise<ExitCode> {
  const session = await openChainSession(options.home, options)
  try {
    return (await work(session, moneyOutput(options.json))) ?? EXIT.ok
  } finally {
    session.close()
  }
}

/** The RPC of `target` (or at `rpcUrl`) did not answer. */
export function rpcUnreachable(rpcUrl: string, local: boolean, cause: unknown): CliError {
  const why = (cause as { code?: unknown }).code ?? (cause as Error).message
  return new CliError('CLI_RPC_UNREACHABLE', `could not reach the chain's RPC at ${rpcUrl} (${String(why)})`, {
    hint: local
      ? 'is `npm start` running? It runs the local chain and writes <home>/chain.json'
      : 'check OBLIVION_RPC_URL and your connection, then run the command again',
    cause,
  })
}

/** resolveChainTarget / requireChainTarget, with an RPC that does not answer reported as CLI_RPC_UNREACHABLE. */
export async function chainTarget(home: string, required: true): Promise<ChainTarget>
export async function chainTarget(home: string, required: boolean): Promise<ChainTarget | null>
export async function chainTarget(home: string, required: boolean): Promise<ChainTarget | null> {
  try {
    return required ? await requireChainTarget(home) : await resolveChainTarget(home)
  } catch (error) {
    if (error instanceof ChainError && error.code === 'DEPLOY_RPC_UNREACHABLE') {
      throw rpcUnreachable(process.env.OBLIVION_RPC_URL?.trim() ?? '', false, error.cause ?? error)
    }
    throw error
  }
}

/** The chain (required), a provider and the wallet the options name (required). */
export async function openChainSession(home: string, choice: WalletChoice, target?: ChainTarget): Promise<ChainSession> {
  const resolved = target ?? (await chainTarget(home, true))
  const provider = chainProvider(resolved)
  try {
    const wallet = await loadWallet(resolved, provider, choice)
    return {
      target: resolved,
      provider,
      wallet,
      address: wallet.address,
      contract: settlementContract(resolved, wallet),
      close: () => provider.destroy(),
    }
  } catch (error) {
    provider.destroy()
    throw error
  }
}

/** How a command explains one of the contract's errors: the sentence and the next step. */
export type RevertExplanation = (reason: RevertReason) => { message?: string; hint?: string } | Promise<{ message?: string; hint?: string }>

/** Next steps for the contract's errors, whatever the command; a command's own explanations come first. */
const NEXT_STEPS: Record<string, string> = {
  AlreadyClaimed: 'nothing to do: this payout was claimed already',
  AlreadyStarted: 'work has begun; the escrow is refunded minus what workers earn at settlement, or after the deadline via `oblivion job refund <id>`',
  AmountTooLarge: 'amounts are limited to 2^96 - 1 wei (about 79 billion coins): use a smaller amount',
  BadDeadline: 'the deadline must lie after the latest block: use a larger --deadline-hours',
  ChallengeWindowOpen: 'the settlement can still be disputed: claim again when the challenge window has closed (`oblivion worker stake --name <worker>` shows when)',
  InsufficientBond: 'you cannot unbond more than is bonded: `oblivion worker stake` shows your bond',
  InvalidProof: "the payout list does not match the job's settlement on chain: ask the network's operator",
  JobExists: 'the job is funded on chain already: follow it with `oblivion job status <id>`',
  NotCreator: 'only the wallet that funded the job can do this: use the same --dev-account, --keystore or OBLIVION_PRIVATE_KEY as `job create`',
  NotExpired: 'the job has not reached its deadline yet',
  PayoutExceedsEscrow: "the settlement pays more than the job's escrow: ask the network's operator",
  StillUnbonding: 'wait until the unbonding delay has passed, then run the command again',
  TransferFailed: 'the contract could not send the coins to your address (a contract that refuses payments?)',
  UnknownJob: 'the job has no escrow on chain: fund it with `oblivion job fund <id>`',
  WrongStatus: "the job's escrow is not in a state that allows this: `oblivion job status <id>` shows the job",
  ZeroAmount: 'there is nothing to move: the amount is zero',
}

/** Whether an error means that the RPC could not be reached (rather than that it answered "no"). */
function isRpcFailure(error: unknown): boolean {
  if (isError(error, 'NETWORK_ERROR') || isError(error, 'SERVER_ERROR') || isError(error, 'TIMEOUT')) return true
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) // ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ECONNRESET, …
}

/**
 * Runs the chain calls of one step of a command (`what`: "bond", "claimPayout for job …"), turning
 * what goes wrong into CliErrors: a refused call is named by the contract's error, with the
 * command's explanation or a general next step; a wallet that cannot pay says how much it holds;
 * an RPC that does not answer names its URL.
 */
export async function onChain<T>(
  session: Pick<ChainSession, 'target' | 'contract'> & { address?: string },
  what: string,
  run: () => Promise<T>,
  explain: Record<string, RevertExplanation> = {},
): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof CliError) throw error
    const reason = error instanceof ContractRevertError ? error.reason : isError(error, 'CALL_EXCEPTION') ? revertReason(session.contract.interface, error) : null
    if (reason) {
      const known = reason.name.startsWith('unknown revert') ? undefined : reason.name
      const explained: { message?: string; hint?: string } = (await explain[reason.name]?.(reason)) ?? {}
      const hint = explained.hint ?? (known ? NEXT_STEPS[known] : undefined)
      throw new CliError(known ?? 'CLI_REVERTED', explained.message ?? `${what} was refused by the contract: ${reason.shown}`, {
        ...(hint ? { hint } : {}),
        cause: error,
      })
    }
    if (isError(error, 'INSUFFICIENT_FUNDS')) {
      throw new CliError('CLI_INSUFFICIENT_FUNDS', `${what}: the wallet${session.address ? ` ${session.address}` : ''} cannot pay for it (amount plus gas)`, {
        hint: 'fund the wallet, or use a smaller amount',
        cause: error,
      })
    }
    if (isRpcFailure(error)) throw rpcUnreachable(session.target.rpcUrl, session.target.local !== null, error)
    throw error
  }
}

/** Sends `method(...args)` from the session's wallet and waits for its receipt, errors as onChain makes them. */
export function sendOnChain(
  session: ChainSession,
  method: string,
  args: unknown[],
  options: { value?: bigint; what?: string; explain?: Record<string, RevertExplanation> } = {},
): Promise<TransactionReceipt> {
  return onChain(
    session,
    options.what ?? method,
    () => sendContractCall(session.contract, method, args, options.value === undefined ? {} : { value: options.value }),
    options.explain,
  )
}

/** The chain's "now" (unix seconds) as the contract will see it (pendingBlockTime), else the latest block's. */
export async function chainNow(session: Pick<ChainSession, 'provider' | 'target' | 'contract'>): Promise<number> {
  const pending = await pendingBlockTime(session.provider)
  if (pending !== null) return pending
  const block = await onChain(session, 'reading the latest block', () => session.provider.getBlock('latest'))
  if (!block) throw new CliError('CLI_RPC_UNREACHABLE', `the RPC at ${session.target.rpcUrl} returned no latest block`)
  return block.timestamp
}

/** Gas paid by a receipt, in wei. */
export function gasCost(receipt: TransactionReceipt): bigint {
  return receipt.gasUsed * receipt.gasPrice
}

/** The first event `name` of the settlement contract in a receipt (undefined when there is none). */
export function receiptEvent<N extends keyof OblivionSettlementEvents>(
  session: Pick<ChainSession, 'target'>,
  receipt: TransactionReceipt,
  name: N,
): OblivionSettlementEvents[N] | undefined {
  const event = parseOblivionSettlementLogs(receipt.logs, session.target.settlement).find((e) => e.name === name)
  return event?.args as OblivionSettlementEvents[N] | undefined
}
