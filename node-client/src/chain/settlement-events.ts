import { Interface, type Log, type Provider } from 'ethers'
import { connectOblivionSettlement, oblivionSettlementAbi, uuidFromJobId } from '@oblivion/contracts/browser'

/** The most blocks one eth_getLogs call asks for (public RPCs, Shardeum's included, cap ranges). */
export const MAX_LOG_RANGE = 2_000

/** Events after which a worker's bond changed: readSettlementEvents attaches a `bond` snapshot to them. */
export const BOND_EVENTS: ReadonlySet<string> = new Set(['Bonded', 'UnbondRequested', 'Withdrawn', 'Slashed'])

export type SettlementEventArg = string | number | boolean

/** A worker's bond as `bondOf(worker)` returned it at the event's block. */
export interface BondSnapshot {
  /** Lower-case address. */
  address: string
  /** Wei, decimal. */
  bonded: string
  /** Wei, decimal. */
  unbonding: string
  /** Unix seconds when the unbonding amount can be withdrawn; null when nothing is unbonding. */
  unlockAt: number | null
}

/**
 * One contract event, normalized for the database mirror: JSON-safe values only.
 * `args`: uint → decimal string, address → lower-case hex, bytes32 → lower-case hex, bool → boolean.
 */
export interface SettlementEvent {
  name: string
  txHash: string
  logIndex: number
  blockNumber: number
  blockHash: string
  /** The job's uuid, when the event has a jobId that is a uuid right-aligned in bytes32. */
  jobId?: string
  args: Record<string, SettlementEventArg>
  /** For Bonded / UnbondRequested / Withdrawn / Slashed: the worker's bond at the end of that block. */
  bond?: BondSnapshot
}

const settlementInterface = Interface.from(oblivionSettlementAbi)

function normalizeArg(value: unknown): SettlementEventArg {
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string') return value.toLowerCase()
  if (typeof value === 'boolean' || typeof value === 'number') return value
  throw new TypeError(`unexpected event argument ${String(value)}`)
}

function jobUuid(jobId: SettlementEventArg | undefined): string | undefined {
  if (typeof jobId !== 'string') return undefined
  try {
    return uuidFromJobId(jobId)
  } catch {
    return undefined // a job id some other client made: kept as hex in args.jobId
  }
}

/** Decodes one log of the settlement contract; null for topics the ABI does not know. */
export function normalizeSettlementLog(log: Log): SettlementEvent | null {
  const parsed = settlementInterface.parseLog({ topics: [...log.topics], data: log.data })
  if (!parsed) return null
  const args: Record<string, SettlementEventArg> = {}
  parsed.fragment.inputs.forEach((input, i) => {
    args[input.name] = normalizeArg(parsed.args[i])
  })
  const event: SettlementEvent = {
    name: parsed.name,
    txHash: log.transactionHash,
    logIndex: log.index,
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    args,
  }
  const jobId = jobUuid(args.jobId)
  if (jobId !== undefined) event.jobId = jobId
  return event
}

/**
 * The settlement contract's events in [fromBlock, toBlock] (inclusive), in chain order, read with
 * eth_getLogs in ranges of at most MAX_LOG_RANGE blocks.
 *
 * Bond events get `bond`: `bondOf(worker)` read at the event's block (`blockTag`), i.e. the bond at
 * the END of that block — when one block holds several bond events of one worker, they all carry the
 * same final snapshot. Reading at a past block needs the RPC to keep that state (anvil does; a
 * pruned node answers an error, which the caller sees like any other RPC failure).
 */
export async function readSettlementEvents(
  provider: Provider,
  contractAddress: string,
  fromBlock: number,
  toBlock: number,
): Promise<SettlementEvent[]> {
  const events: SettlementEvent[] = []
  for (let start = fromBlock; start <= toBlock; start += MAX_LOG_RANGE) {
    const end = Math.min(toBlock, start + MAX_LOG_RANGE - 1)
    const logs = await provider.getLogs({ address: contractAddress, fromBlock: start, toBlock: end })
    for (const log of logs) {
      if (log.removed) continue
      const event = normalizeSettlementLog(log)
      if (event) events.push(event)
    }
  }
  events.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex)
  await attachBondSnapshots(provider, contractAddress, events)
  return events
}

async function attachBondSnapshots(provider: Provider, contractAddress: string, events: SettlementEvent[]): Promise<void> {
  const contract = connectOblivionSettlement(contractAddress, provider)
  const snapshots = new Map<string, Promise<BondSnapshot>>()
  const snapshot = (worker: string, blockNumber: number) => {
    const key = `${worker}@${blockNumber}`
    let pending = snapshots.get(key)
    if (!pending) {
      pending = contract.bondOf(worker, { blockTag: blockNumber }).then(([bonded, unbonding, unlockAt]) => ({
        address: worker,
        bonded: bonded.toString(),
        unbonding: unbonding.toString(),
        unlockAt: unlockAt === 0n ? null : Number(unlockAt),
      }))
      snapshots.set(key, pending)
    }
    return pending
  }
  for (const event of events) {
    const worker = event.args.worker
    if (BOND_EVENTS.has(event.name) && typeof worker === 'string') event.bond = { ...(await snapshot(worker, event.blockNumber)) }
  }
}
