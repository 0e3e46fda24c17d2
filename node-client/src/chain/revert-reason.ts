import { isError, type Interface } from 'ethers'

export interface RevertReason {
  /** The contract's custom error ("InsufficientBond"), or "unknown revert …" when it cannot be decoded. */
  name: string
  args: unknown[]
  /** name(arg, …) for messages. */
  shown: string
}

/** The revert data an ethers error carries, wherever this error kind keeps it. */
function revertData(error: unknown): string | undefined {
  const e = error as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } }
  for (const candidate of [e.data, e.info?.error?.data, e.error?.data]) {
    if (typeof candidate === 'string' && candidate.startsWith('0x')) return candidate
  }
  return undefined
}

/**
 * Why a call or an estimate reverted, decoded with the contract's ABI (its custom errors); null
 * when `error` is not a revert (an RPC failure, a timeout), which callers may retry.
 */
export function revertReason(contractInterface: Interface, error: unknown): RevertReason | null {
  const data = revertData(error)
  if (data === undefined && !isError(error, 'CALL_EXCEPTION')) return null
  const parsed = data && data !== '0x' ? contractInterface.parseError(data) : null
  if (!parsed) {
    const name = data && data !== '0x' ? `unknown revert ${data}` : 'unknown revert'
    return { name, args: [], shown: name }
  }
  const args = [...parsed.args]
  return { name: parsed.name, args, shown: `${parsed.name}(${args.map(String).join(', ')})` }
}
