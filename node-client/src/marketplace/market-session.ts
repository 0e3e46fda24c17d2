import { getAddress, isAddress, type JsonRpcProvider } from 'ethers'
import { connectInferenceMarket, type InferenceMarket, type LegacyWallet } from '@oblivion/contracts'
import { chainProvider, loadWallet, type ChainTarget, type WalletChoice } from '../cli/chain-connection.ts'
import { chainTarget, onChain, type RevertExplanation } from '../cli/chain-session.ts'
import { CliError, usageError } from '../cli/cli-error.ts'
import { sendContractCall } from '../chain/contract-call.ts'
import type { TransactionReceipt } from 'ethers'

/** Where the InferenceMarket is: chain.json's `market` on the local chain, OBLIVION_MARKET_ADDRESS elsewhere. */
export interface MarketTarget {
  chain: ChainTarget
  /** Checksummed. */
  address: string
}

export const MARKET_ADDRESS_ENV = 'OBLIVION_MARKET_ADDRESS'

export function marketTargetOf(chain: ChainTarget, env: NodeJS.ProcessEnv = process.env): MarketTarget {
  const explicit = env[MARKET_ADDRESS_ENV]?.trim()
  if (explicit) {
    if (!isAddress(explicit)) throw usageError(`${MARKET_ADDRESS_ENV} is not an address: ${JSON.stringify(explicit)}`)
    return { chain, address: getAddress(explicit) }
  }
  const local = chain.local?.market?.address
  if (local) return { chain, address: getAddress(local) }
  throw new CliError('CLI_NO_MARKET', `chain ${chain.chainId} (${chain.source}) has no InferenceMarket recorded`, {
    hint: chain.local
      ? 'restart `npm start`: it deploys the market next to the settlement contract and records it in chain.json'
      : `set ${MARKET_ADDRESS_ENV} to the market's address on this chain`,
  })
}

/** The market, the provider, and (for commands that sign) the wallet. */
export interface MarketSession {
  target: MarketTarget
  provider: JsonRpcProvider
  wallet: LegacyWallet
  /** Checksummed. */
  address: string
  market: InferenceMarket
  close(): void
}

export async function openMarketSession(home: string, choice: WalletChoice): Promise<MarketSession> {
  const chain = await chainTarget(home, true)
  const target = marketTargetOf(chain)
  const provider = chainProvider(chain)
  try {
    const wallet = await loadWallet(chain, provider, choice)
    return { target, provider, wallet, address: wallet.address, market: connectInferenceMarket(target.address, wallet), close: () => provider.destroy() }
  } catch (error) {
    provider.destroy()
    throw error
  }
}

/** Next steps for the market's errors (the code printed is the error's name). */
const MARKET_NEXT_STEPS: Record<string, string> = {
  InvalidVerificationKey: 'the verification key is not a 2-signal Groth16 BN254 key: rebuild the model with `oblivion model list`',
  UnknownModel: 'the model is not listed on this chain: `oblivion model list` lists it',
  NotModelOwner: "only the wallet that listed the model can do this: use the same --dev-account, --keystore or OBLIVION_PRIVATE_KEY as `model list`",
  ModelInactive: 'the owner has paused the model: it takes no new requests',
  WrongPayment: "the model's price changed: run the command again (it reads the price first)",
  CommitmentUsed: 'this input commitment was used before: run the command again (it draws a fresh salt)',
  RequestExpired: 'the request is past its deadline: the buyer may refund it (`oblivion infer refund <request>`)',
  NotExpired: 'the request is still open: wait for its deadline, then run the command again',
  NotBuyer: 'only the wallet that paid for the request can refund it',
  InvalidProof: 'the chain refused the proof: the model artifacts do not match the listed key',
}

/** Sends `method(...args)` on the market, errors as onChain makes them (the market's error names as codes). */
export function sendMarketCall(
  session: MarketSession,
  method: string,
  args: unknown[],
  options: { value?: bigint; what?: string; explain?: Record<string, RevertExplanation> } = {},
): Promise<TransactionReceipt> {
  const explain: Record<string, RevertExplanation> = { ...Object.fromEntries(Object.entries(MARKET_NEXT_STEPS).map(([k, hint]) => [k, () => ({ hint })])), ...options.explain }
  return onChain(
    { target: session.target.chain, contract: session.market as never, address: session.address },
    options.what ?? method,
    () => sendContractCall(session.market, method, args, options.value === undefined ? {} : { value: options.value }),
    explain,
  )
}

/** A read on the market, RPC failures as CLI_RPC_UNREACHABLE. */
export function readMarket<T>(session: Pick<MarketSession, 'target' | 'market'>, what: string, read: () => Promise<T>): Promise<T> {
  return onChain({ target: session.target.chain, contract: session.market as never }, what, read)
}

/** The market's request states (RequestStatus in InferenceMarket.sol). */
export const REQUEST_STATUS = { none: 0n, open: 1n, fulfilled: 2n, refunded: 3n } as const
