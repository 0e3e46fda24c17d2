import type { Provider } from 'ethers'
import type { OblivionSettlement } from '@oblivion/contracts'

/** The settlement contract as the coordinator uses it: with the validator's key. */
export interface CoordinatorChain {
  chainId: number
  provider: Provider
  /** OblivionSettlement connected with the validator's LegacyWallet. */
  contract: OblivionSettlement
  /** Checksummed. */
  contractAddress: string
  /** The contract's deployment block: the first block the mirror reads and log searches go back to. */
  fromBlock: number
  /** The local anvil: no confirmations to wait for. */
  local: boolean
  /** Between chain polls once caught up (default 2 s; 1 s suits anvil). */
  pollIntervalMs?: number
}
