import { BrowserProvider } from 'ethers'
import { connectInferenceMarket, parseInferenceMarketLogs, type InferenceMarket } from '@oblivion/contracts/browser'
import type { PublicChainConfig } from '@oblivion/visualizer/config'
import type { Eip1193Provider } from '../wallet/eip1193.ts'
import { chainReader, sendLegacy, TransactionProblem } from './settlement.ts'

/**
 * The InferenceMarket from the marketplace pages: read a model and a request (no wallet), and the
 * wallet's four actions — requestInference (the buyer pays), refund (the buyer, after the
 * deadline), setPrice and setActive (the owner). The same calls as `oblivion infer` and
 * `oblivion model …`, signed by the person's wallet instead of a key file.
 */

/** InferenceMarket.RequestStatus, in its order. */
export const REQUEST_STATUSES = ['none', 'open', 'fulfilled', 'refunded'] as const
export type ChainRequestStatus = (typeof REQUEST_STATUSES)[number]

export interface ChainRequest {
  buyer: string
  modelId: bigint
  priceWei: bigint
  inputCommitment: bigint
  /** Unix seconds: the owner must fulfil before it; the buyer may refund after it. */
  deadline: number
  status: ChainRequestStatus
  output: bigint
}

export interface ChainModel {
  owner: string
  priceWei: bigint
  verificationKeyHash: string
  active: boolean
  fulfilled: bigint
}

/** Reverts of the market's calls, in words a person can act on. */
const EXPLAIN: Record<string, string> = {
  ModelInactive: 'The owner has paused this model: it takes no new requests. Nothing was paid; choose another model.',
  WrongPayment: 'The price changed since the page loaded: reload the page to see the new price, then buy again.',
  CommitmentOutOfField: 'The input commitment is not a field element (a bug): reload the page and try again.',
  CommitmentUsed: 'This exact commitment was already used: buy again, a fresh salt gives a new commitment.',
  UnknownModel: 'The market has no such model: the listing may point at another chain. Reload the page.',
  NotModelOwner: 'Only the wallet that listed the model can change it: switch to that account in your wallet.',
  AmountTooLarge: 'That price is larger than the market accepts (2^96 wei): choose a smaller one.',
  NotBuyer: 'Only the wallet that paid for the request can refund it: switch to that account in your wallet.',
  NotExpired: 'The owner still has time to answer: the refund opens after the request’s deadline.',
  WrongStatus: 'The request is no longer open (fulfilled or refunded already): reload the page to see it.',
  UnknownRequest: 'The market has no such request: reload the page.',
  TransferFailed: 'The market could not send the coins to your wallet: try again from a plain account.',
}

export class NoMarketError extends TransactionProblem {
  constructor(chain: PublicChainConfig | null) {
    super(
      chain ? `${chain.name} has no InferenceMarket in this network’s configuration.` : 'This network runs without a chain, so nothing can be bought.',
      'Start the network with a chain (`npm start`, which deploys the market), then reload the page.',
      false,
    )
  }
}

function marketAddress(chain: PublicChainConfig | null): string {
  if (!chain?.market) throw new NoMarketError(chain)
  return chain.market
}

/** Reads with the chain's RPC; the provider is closed afterwards. */
async function withMarket<T>(chain: PublicChainConfig, read: (market: InferenceMarket, provider: ReturnType<typeof chainReader>) => Promise<T>): Promise<T> {
  const provider = chainReader(chain)
  try {
    return await read(connectInferenceMarket(marketAddress(chain), provider), provider)
  } finally {
    provider.destroy()
  }
}

async function walletMarket(chain: PublicChainConfig, wallet: Eip1193Provider): Promise<InferenceMarket> {
  const provider = new BrowserProvider(wallet, chain.chainId)
  return connectInferenceMarket(marketAddress(chain), await provider.getSigner())
}

export function readChainModel(chain: PublicChainConfig, chainModelId: string): Promise<ChainModel> {
  return withMarket(chain, async (market) => {
    const m = await market.getModel(BigInt(chainModelId))
    return { owner: m.owner.toLowerCase(), priceWei: m.price, verificationKeyHash: m.verificationKeyHash.toLowerCase(), active: m.active, fulfilled: m.fulfilled }
  })
}

export function readChainRequest(chain: PublicChainConfig, chainRequestId: string): Promise<ChainRequest> {
  return withMarket(chain, async (market) => toChainRequest(await market.getRequest(BigInt(chainRequestId))))
}

function toChainRequest(r: Awaited<ReturnType<InferenceMarket['getRequest']>>): ChainRequest {
  return {
    buyer: r.buyer.toLowerCase(),
    modelId: r.modelId,
    priceWei: r.price,
    inputCommitment: r.inputCommitment,
    deadline: Number(r.deadline),
    status: REQUEST_STATUSES[Number(r.status)] ?? 'none',
    output: r.output,
  }
}

/** The chain's time: the latest block's, or the wall clock when that is later (the next block's time is at least now). */
export function readChainNow(chain: PublicChainConfig): Promise<number> {
  return withMarket(chain, async (_market, provider) => {
    const block = await provider.getBlock('latest')
    return Math.max(block?.timestamp ?? 0, Math.floor(Date.now() / 1000))
  })
}

/** A transaction's receipt status on chain: 'success', 'reverted', or 'missing' (not mined / unknown). */
export function readReceiptStatus(chain: PublicChainConfig, txHash: string): Promise<{ status: 'success' | 'reverted' | 'missing'; blockNumber: number | null }> {
  return withMarket(chain, async (_market, provider) => {
    const receipt = await provider.getTransactionReceipt(txHash)
    if (!receipt) return { status: 'missing', blockNumber: null }
    return { status: receipt.status === 1 ? 'success' : 'reverted', blockNumber: receipt.blockNumber }
  })
}

/**
 * Pays for one inference: requestInference(chainModelId, commitment) with value = the model's
 * price on chain (legacy transaction). Returns the request id from the InferenceRequested event.
 */
export async function payForInference(
  chain: PublicChainConfig,
  wallet: Eip1193Provider,
  chainModelId: string,
  commitment: bigint,
  priceWei: bigint,
): Promise<{ chainRequestId: string; txHash: string; deadline: number }> {
  const market = await walletMarket(chain, wallet)
  const receipt = await sendLegacy(market, 'requestInference', [BigInt(chainModelId), commitment], { value: priceWei, explain: EXPLAIN })
  const requested = parseInferenceMarketLogs(receipt.logs, marketAddress(chain)).find((e) => e.name === 'InferenceRequested')
  if (!requested || requested.name !== 'InferenceRequested') {
    throw new TransactionProblem(`The payment went through (tx ${receipt.hash}) but it logged no InferenceRequested event.`, 'Check the transaction in your wallet; reload the page.', false)
  }
  return { chainRequestId: requested.args.requestId.toString(), txHash: receipt.hash, deadline: Number(requested.args.deadline) }
}

/** refund(requestId) from the buyer's wallet: the price back, after the deadline of an unanswered request. */
export async function refundInference(chain: PublicChainConfig, wallet: Eip1193Provider, chainRequestId: string): Promise<string> {
  const market = await walletMarket(chain, wallet)
  const receipt = await sendLegacy(market, 'refund', [BigInt(chainRequestId)], { explain: EXPLAIN })
  return receipt.hash
}

export async function setModelPrice(chain: PublicChainConfig, wallet: Eip1193Provider, chainModelId: string, priceWei: bigint): Promise<string> {
  const market = await walletMarket(chain, wallet)
  return (await sendLegacy(market, 'setPrice', [BigInt(chainModelId), priceWei], { explain: EXPLAIN })).hash
}

export async function setModelActive(chain: PublicChainConfig, wallet: Eip1193Provider, chainModelId: string, active: boolean): Promise<string> {
  const market = await walletMarket(chain, wallet)
  return (await sendLegacy(market, 'setActive', [BigInt(chainModelId), active], { explain: EXPLAIN })).hash
}
