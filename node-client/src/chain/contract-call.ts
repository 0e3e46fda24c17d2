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
 * Sends `contract.method(...args)` from the contract's signer and waits for the receipt
 * (LegacyWallet signers send type 0, priced by eth_gasPrice). The estimate runs first, so a call
 * the contract would refuse throws ContractRevertError before anything is sent; RPC failures are
 * thrown as they are, for the caller to retry (after checking whether the call got mined).
 */
export async function sendContractCall(
  contract: Callable,
  method: string,
  args: unknown[],
  options: { value?: bigint; receiptTimeoutMs?: number } = {},
): Promise<TransactionReceipt> {
  const fn = contract.getFunction(method)
  let response: ContractTransactionResponse
  try {
    response = await fn.send(...args, ...(options.value === undefined ? [] : [{ value: options.value }]))
  } catch (error) {
    const reason = revertReason(contract.interface, error)
    if (reason) throw new ContractRevertError(method, reason, { cause: error })
    throw error
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
