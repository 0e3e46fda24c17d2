import type { BaseContract, ContractTransactionResponse, Interface, TransactionReceipt } from 'ethers'
import { revertReason, type RevertReason } from './revert-reason.ts'

/** A contract call the contract refused: `reason.name` is its custom error. Not worth retrying as is. */
export class ContractRevertError extends Error {
  override name = 'ContractRevertError'
  constructor(
    readonly method: string,
    readonly reason: RevertReason,
    options?: { cause?: unknown },
  ) {
    super(`${method} reverted: ${reason.shown}`, options)
  }
}

type Callable = BaseContract & { interface: Interface }

/**
 * Tries to send a transaction when another one of the same wallet took its nonce first (another
 * process with the same key: `npm run demo`'s creator and the marketplace's sample-model owner
 * once funded at the same moment). 5 tries cover 4 competing sends in a row.
 */
const NONCE_TRIES = 5

/**
 * Sends `contract.method(...args)` from the contract's signer and waits for the receipt
 * (LegacyWallet signers send type 0, priced by eth_gasPrice). The estimate runs first, so a call
 * the contract would refuse throws ContractRevertError before anything is sent. A send the node
 * refuses because the nonce was used meanwhile is signed again with the next nonce: the node
 * never accepted it, so nothing is sent twice. Other RPC failures are thrown as they are, for the
 * caller to retry (after checking whether the call got mined).
 */
export async function sendContractCall(
  contract: Callable,
  method: string,
  args: unknown[],
  options: { value?: bigint; receiptTimeoutMs?: number } = {},
): Promise<TransactionReceipt> {
  const fn = contract.getFunction(method)
  let response: ContractTransactionResponse | undefined
  for (let attempt = 1; !response; attempt++) {
    try {
      response = await fn.send(...args, ...(options.value === undefined ? [] : [{ value: options.value }]))
    } catch (error) {
      const reason = revertReason(contract.interface, error)
      if (reason) throw new ContractRevertError(method, reason, { cause: error })
      if (!nonceTaken(error) || attempt >= NONCE_TRIES) throw error
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200))
    }
  }
  let receipt: TransactionReceipt | null
  try {
    receipt = await response.wait(1, options.receiptTimeoutMs ?? 180_000)
  } catch (error) {
    // Mined but reverted (state changed between the estimate and the block).
    const reason = revertReason(contract.interface, error)
    if (reason) throw new ContractRevertError(method, reason, { cause: error })
    throw error
  }
  if (!receipt) throw new Error(`no receipt for ${method} transaction ${response.hash}`)
  return receipt
}

/**
 * The node refused the transaction because its wallet's nonce was used by another transaction
 * ("already imported"/"already known": by a byte-identical one, the same call sent by another
 * process at the same nonce, which is that process's call, not this one's).
 */
function nonceTaken(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === 'NONCE_EXPIRED' || code === 'REPLACEMENT_UNDERPRICED' || /nonce too low|already been used|already imported|already known/i.test((error as Error).message ?? '')
}
