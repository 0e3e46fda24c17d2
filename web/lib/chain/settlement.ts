import { BrowserProvider, JsonRpcProvider, Network, type BaseContract, type ContractTransactionReceipt } from 'ethers'
import { connectOblivionSettlement, type OblivionSettlement } from '@oblivion/contracts/browser'
import { revertReason } from '@oblivion/node-client/chain'
import type { PublicChainConfig } from '@oblivion/visualizer/config'
import { isUserRejection, type Eip1193Provider } from '../wallet/eip1193.ts'

/** A read-only provider straight to the chain's RPC (no wallet needed); destroy it when done. */
export function chainReader(chain: PublicChainConfig): JsonRpcProvider {
  return new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: Network.from(chain.chainId), cacheTimeout: -1 })
}

/** The settlement contract for reading (no wallet needed): straight to the chain's RPC. */
export function readSettlement(chain: PublicChainConfig): { contract: OblivionSettlement; provider: JsonRpcProvider } {
  const provider = chainReader(chain)
  return { contract: connectOblivionSettlement(chain.settlement, provider), provider }
}

/** The settlement contract signing with the connected wallet. */
export async function walletSettlement(chain: PublicChainConfig, wallet: Eip1193Provider): Promise<OblivionSettlement> {
  const provider = new BrowserProvider(wallet, chain.chainId)
  return connectOblivionSettlement(chain.settlement, await provider.getSigner())
}

/** Why a transaction did not happen, in words a person can act on. */
export class TransactionProblem extends Error {
  constructor(
    message: string,
    readonly next: string,
    readonly rejected: boolean,
  ) {
    super(message)
    this.name = 'TransactionProblem'
  }
}

/**
 * Sends contract.method(...args) from the wallet as a legacy (type 0) transaction priced by
 * eth_gasPrice, as Shardeum (and the Istanbul anvil) require, and waits for its receipt.
 * A refusal in the wallet or by the contract becomes a TransactionProblem with its next step.
 * Any contract of ours (the settlement, the inference market).
 */
export async function sendLegacy(
  contract: BaseContract,
  method: string,
  args: unknown[],
  options: { value?: bigint; explain?: Record<string, string> } = {},
): Promise<ContractTransactionReceipt> {
  const runner = contract.runner as { provider?: { getFeeData(): Promise<{ gasPrice: bigint | null }> } } | null
  try {
    const fee = await runner?.provider?.getFeeData()
    const overrides = { type: 0, ...(fee?.gasPrice ? { gasPrice: fee.gasPrice } : {}), ...(options.value !== undefined ? { value: options.value } : {}) }
    const response = await contract.getFunction(method).send(...args, overrides)
    const receipt = (await response.wait()) as ContractTransactionReceipt | null
    if (!receipt) throw new Error('no receipt')
    return receipt
  } catch (error) {
    if (isUserRejection(error)) throw new TransactionProblem('You declined the transaction in your wallet.', 'Nothing was sent. Try again when ready.', true)
    const reason = revertReason(contract.interface, error)
    if (reason) {
      throw new TransactionProblem(`The contract refused ${method}: ${reason.name}.`, options.explain?.[reason.name] ?? 'Check the job and your wallet, then try again.', false)
    }
    const message = (error as { shortMessage?: string; message?: string }).shortMessage ?? (error as Error).message ?? String(error)
    if (/insufficient funds/i.test(message)) throw new TransactionProblem('Your wallet cannot pay for this (amount plus gas).', 'Fund the wallet, or use a smaller amount.', false)
    throw new TransactionProblem(`The transaction failed: ${message}`, 'Check that the chain is reachable and your wallet is on the right network.', false)
  }
}
