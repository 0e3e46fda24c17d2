import { Interface, Transaction, isError, sha256, toUtf8Bytes, type Provider, type Signer, type TransactionReceipt } from 'ethers'
import { buildPayoutTree, jobIdFromUuid, oblivionSettlementAbi, type OblivionSettlement, type Payout } from '@oblivion/contracts/browser'
import { canonicalJson } from './canonical-json.ts'
import { findLatestLog } from './find-log.ts'
import { revertReason } from './revert-reason.ts'

const settlementInterface = Interface.from(oblivionSettlementAbi)

/** getJob(jobId).status values. */
export const JOB_STATUS = { None: 0, Funded: 1, Cancelled: 2, Expired: 3, Settled: 4 } as const

export type SettleJobErrorCode =
  /** The contract refused the settlement (estimate or mined): `revertName` says why. Not retried. */
  | 'REVERTED'
  /** The job is already settled with another payout root. */
  | 'SETTLED_WITH_OTHER_ROOT'
  /** The validator cannot pay for the transaction. */
  | 'INSUFFICIENT_FUNDS'
  /** The contract is not connected with a signer that has a provider. */
  | 'NO_SIGNER'
  /** RPC failures on every attempt. */
  | 'RPC_FAILED'

export class SettleJobError extends Error {
  override name = 'SettleJobError'
  constructor(
    readonly code: SettleJobErrorCode,
    message: string,
    readonly details: { revertName?: string; revertArgs?: unknown[]; txHash?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
  }
  get revertName(): string | undefined {
    return this.details.revertName
  }
}

export interface SettleJobParams {
  /** The settlement contract connected with the validator's Wallet (which has a provider). */
  contract: OblivionSettlement
  /** The job's uuid (on chain: jobIdFromUuid). */
  jobId: string
  /** What each worker gets (computePayouts); merged per address by the tree. */
  payouts: Payout[]
  /** The trained model's CID: modelCidHash = sha256(UTF-8 bytes of this string). */
  modelCid: string
  /** The job's final metrics: metricsHash = sha256(UTF-8 bytes of canonicalJson(metrics)). */
  metrics: unknown
  /** Attempts in all, counting the first (default 5). Only RPC failures are retried. */
  maxAttempts?: number
  /** Backoff between attempts: initial delay (default 500 ms), doubling up to maxMs (default 15 s), with jitter. */
  backoff?: { initialMs?: number; maxMs?: number }
  /** How long one attempt waits for its receipt (default 3 min; Shardeum makes a block every ~6 s). */
  receiptTimeoutMs?: number
  /** Gas limit = estimate × this (default 1.2). */
  gasMargin?: number
  /** Where to start looking for the JobSettled log when the job turns out to be settled already (default 0). */
  searchFromBlock?: number
  onRetry?: (error: unknown, info: { attempt: number; retryInMs: number }) => void
}

export interface SettleJobResult {
  /** The settle transaction; null only when the job was settled earlier and its log was not found. */
  txHash: string | null
  blockNumber: number | null
  /** True when the job was already settled with this root (no transaction sent by this call). */
  alreadySettled: boolean
  root: string
  totalWei: bigint
  count: number
  modelCidHash: string
  metricsHash: string
  /** Per checksummed address: what claimPayout takes. */
  amounts: Record<string, bigint>
  proofs: Record<string, string[]>
}

/** sha256 of the CID string's UTF-8 bytes: settle's modelCidHash. */
export function modelCidHash(modelCid: string): string {
  return sha256(toUtf8Bytes(modelCid))
}

/** sha256 of the metrics' canonical JSON (sorted keys, no whitespace) in UTF-8: settle's metricsHash. */
export function metricsHash(metrics: unknown): string {
  return sha256(toUtf8Bytes(canonicalJson(metrics)))
}

function revertError(contract: OblivionSettlement, error: unknown, txHash?: string): SettleJobError {
  const reason = revertReason(contract.interface, error) ?? { name: 'unknown revert', args: [], shown: 'unknown revert' }
  return new SettleJobError('REVERTED', `settle reverted: ${reason.shown}`, {
    revertName: reason.name,
    revertArgs: reason.args,
    cause: error,
    ...(txHash ? { txHash } : {}),
  })
}

/** Errors that another attempt cannot fix. */
function finalError(contract: OblivionSettlement, error: unknown): SettleJobError | null {
  if (error instanceof SettleJobError) return error
  if (isError(error, 'CALL_EXCEPTION')) return revertError(contract, error)
  if (isError(error, 'INSUFFICIENT_FUNDS')) {
    return new SettleJobError('INSUFFICIENT_FUNDS', `the validator cannot pay for the settle transaction: fund it`, { cause: error })
  }
  return null
}

class ReceiptTimeout extends Error {
  override name = 'ReceiptTimeout'
}

/** Polls for a receipt: every 50 ms at first (anvil mines at once), backing off to 2 s. */
async function waitForReceipt(provider: Provider, hash: string, timeoutMs: number): Promise<TransactionReceipt> {
  const deadline = Date.now() + timeoutMs
  for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
    const receipt = await provider.getTransactionReceipt(hash)
    if (receipt) return receipt
    if (Date.now() > deadline) throw new ReceiptTimeout(`no receipt for ${hash} after ${Math.round(timeoutMs / 1000)} s`)
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}

/**
 * Settles a job on chain in one `settle` transaction: the payout tree's root, total and count, the
 * model CID's hash and the metrics' hash (see modelCidHash / metricsHash). Sends a legacy (type 0)
 * transaction priced by eth_gasPrice, as Shardeum requires, and waits for its receipt.
 *
 * Safe to call again: every attempt (and every call) first looks at what earlier attempts sent — a
 * mined one is the answer, a pending one is waited for — and then at getJob(jobId): a job Settled
 * with the same root is done (alreadySettled, nothing sent), with another root an error. Only then
 * is a transaction sent. RPC failures are retried with backoff up to maxAttempts; a revert is not,
 * and is reported with the contract's custom error name (SettleJobError.revertName).
 */
export async function settleJobOnChain(params: SettleJobParams): Promise<SettleJobResult> {
  const { contract } = params
  const signer = contract.runner as Signer | null
  const provider = signer?.provider
  if (!signer || typeof signer.signTransaction !== 'function' || !provider) {
    throw new SettleJobError('NO_SIGNER', 'settleJobOnChain needs the contract connected with the validator wallet (with a provider)')
  }
  const chainJobId = jobIdFromUuid(params.jobId)
  const tree = buildPayoutTree(params.payouts)
  const hashes = { modelCidHash: modelCidHash(params.modelCid), metricsHash: metricsHash(params.metrics) }
  const base = {
    root: tree.root,
    totalWei: tree.total,
    count: tree.count,
    ...hashes,
    amounts: Object.fromEntries(tree.amounts),
    proofs: Object.fromEntries(tree.proofs),
  }
  const to = await contract.getAddress()
  const data = contract.interface.encodeFunctionData('settle', [chainJobId, tree.root, tree.total, tree.count, hashes.modelCidHash, hashes.metricsHash])
  const receiptTimeoutMs = params.receiptTimeoutMs ?? 180_000
  const sent: string[] = []

  const settledNow = (receipt: TransactionReceipt): SettleJobResult => ({
    txHash: receipt.hash,
    blockNumber: receipt.blockNumber,
    alreadySettled: false,
    ...base,
  })

  /** The job's state decides: undefined means "not settled yet, go on". */
  const checkJob = async (): Promise<SettleJobResult | undefined> => {
    const job = await contract.getJob(chainJobId)
    if (Number(job.status) !== JOB_STATUS.Settled) return undefined
    if (job.payoutRoot.toLowerCase() !== tree.root.toLowerCase()) {
      throw new SettleJobError('SETTLED_WITH_OTHER_ROOT', `job ${params.jobId} is already settled with payout root ${job.payoutRoot}, not ${tree.root}`)
    }
    const log = await findSettlementLog(provider, to, chainJobId, tree.root, params.searchFromBlock ?? 0)
    return { txHash: log?.txHash ?? null, blockNumber: log?.blockNumber ?? null, alreadySettled: !log || !sent.includes(log.txHash), ...base }
  }

  /** A mined transaction of ours: success, or a revert (perhaps because another of ours won). */
  const finish = async (receipt: TransactionReceipt): Promise<SettleJobResult> => {
    if (receipt.status === 1) return settledNow(receipt)
    const settled = await checkJob()
    if (settled) return settled
    try {
      await provider.call({ to, data, from: await signer.getAddress(), blockTag: receipt.blockNumber - 1 })
    } catch (error) {
      if (isError(error, 'CALL_EXCEPTION')) throw revertError(contract, error, receipt.hash)
    }
    throw new SettleJobError('REVERTED', `settle transaction ${receipt.hash} reverted`, { txHash: receipt.hash, revertName: 'unknown revert' })
  }

  const attempt = async (): Promise<SettleJobResult> => {
    // 1. What earlier attempts sent: never send again once one of them has a receipt.
    for (const hash of sent) {
      const receipt = await provider.getTransactionReceipt(hash)
      if (receipt) return finish(receipt)
    }
    for (const hash of sent) {
      if (await provider.getTransaction(hash)) return finish(await waitForReceipt(provider, hash, receiptTimeoutMs))
    }
    // 2. The job itself (another call, or a transaction we could not follow, may have settled it).
    const settled = await checkJob()
    if (settled) return settled
    // 3. Send: the estimate reverts with the contract's error when the settle would fail.
    const from = await signer.getAddress()
    const [gasEstimate, feeData] = await Promise.all([provider.estimateGas({ from, to, data }), provider.getFeeData()])
    if (feeData.gasPrice === null) throw new Error('the RPC gave no gas price (eth_gasPrice)')
    const margin = BigInt(Math.round((params.gasMargin ?? 1.2) * 1000))
    const gasLimit = (gasEstimate * margin + 999n) / 1000n
    const request = await signer.populateTransaction({ type: 0, to, data, gasPrice: feeData.gasPrice, gasLimit })
    const signed = await signer.signTransaction(request)
    // Known before broadcasting, so a lost broadcast answer can still be followed.
    const hash = Transaction.from(signed).hash
    if (!hash) throw new Error('could not hash the signed settle transaction')
    sent.push(hash)
    await provider.broadcastTransaction(signed)
    return finish(await waitForReceipt(provider, hash, receiptTimeoutMs))
  }

  const maxAttempts = Math.max(1, params.maxAttempts ?? 5)
  for (let n = 1; ; n++) {
    try {
      return await attempt()
    } catch (error) {
      const final = finalError(contract, error)
      if (final) throw final
      if (n >= maxAttempts) {
        const message = error instanceof Error ? error.message : String(error)
        throw new SettleJobError('RPC_FAILED', `settling job ${params.jobId} failed after ${n} attempts: ${message}`, { cause: error })
      }
      const initial = params.backoff?.initialMs ?? 500
      const max = params.backoff?.maxMs ?? 15_000
      const retryInMs = Math.round(Math.min(max, initial * 2 ** (n - 1)) * (0.5 + Math.random() * 0.5))
      params.onRetry?.(error, { attempt: n, retryInMs })
      await new Promise((resolve) => setTimeout(resolve, retryInMs))
    }
  }
}

/** The latest JobSettled(jobId) log with this root. */
async function findSettlementLog(
  provider: Provider,
  address: string,
  chainJobId: string,
  root: string,
  fromBlock: number,
): Promise<{ txHash: string; blockNumber: number } | null> {
  const topic = settlementInterface.getEvent('JobSettled')!.topicHash
  // data = payoutRoot, totalPayout, payoutCount, remainder, modelCidHash, metricsHash
  const log = await findLatestLog(provider, address, [topic, chainJobId], fromBlock, (l) => l.data.slice(0, 66).toLowerCase() === root.toLowerCase())
  return log ? { txHash: log.transactionHash, blockNumber: log.blockNumber } : null
}
