import { Wallet, type TransactionRequest } from 'ethers'

/**
 * A Wallet that signs legacy (type 0) transactions unless a request names another type, priced
 * by eth_gasPrice when it names no gasPrice: Shardeum has no EIP-1559 fee market and anvil under Istanbul rules
 * refuses typed transactions, so every signer of ours goes through this class.
 */
export class LegacyWallet extends Wallet {
  override populateTransaction(tx: TransactionRequest) {
    return super.populateTransaction({ ...tx, type: tx.type ?? 0 })
  }
}
