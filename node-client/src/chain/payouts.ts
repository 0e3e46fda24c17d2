import { getAddress } from 'ethers'

export interface AcceptedWork {
  /** The worker's payout address, or null when it has none (its share stays with the job's creator). */
  payoutAddress: string | null
  /** Tasks (round × shard results) of this worker the coordinator accepted. */
  taskCount: number
}

export interface PayoutComputationInput {
  /** The job's reward (its on-chain escrow), in wei. */
  rewardWei: bigint
  rounds: number
  shards: number
  accepted: AcceptedWork[]
}

export interface ComputedPayout {
  /** Checksummed address. */
  address: string
  amountWei: bigint
}

export interface PayoutComputation {
  /** One entry per distinct address with a positive amount, in first-seen order. */
  payouts: ComputedPayout[]
  /** floor(reward / (rounds × shards)). */
  perTaskWei: bigint
  /** Sum of payouts: settle's totalPayout. */
  totalWei: bigint
  /** reward − total: credited back to the creator by settle (rounding dust, tasks not accepted, no address). */
  unassignedWei: bigint
  /** Part of unassignedWei earned by workers without a payout address. */
  noAddressWei: bigint
  /** Accepted tasks of workers without a payout address. */
  noAddressTasks: number
}

export class PayoutComputationError extends Error {
  override name = 'PayoutComputationError'
}

function positiveInteger(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value) || value <= 0) throw new PayoutComputationError(`${what} must be a positive integer, got ${value}`)
  return BigInt(value)
}

/**
 * What each worker is owed for a job: every accepted task earns floor(reward / (rounds × shards)),
 * a worker gets per-task × its accepted tasks. Workers without a payout address get nothing: their
 * share stays in the escrow and goes back to the creator with the rounding dust and the tasks that
 * were not accepted. Always totalWei + unassignedWei == rewardWei. Several entries with the same
 * address (any case) are merged. Pure.
 */
export function computePayouts({ rewardWei, rounds, shards, accepted }: PayoutComputationInput): PayoutComputation {
  if (rewardWei < 0n) throw new PayoutComputationError(`rewardWei must not be negative, got ${rewardWei}`)
  const tasks = positiveInteger(rounds, 'rounds') * positiveInteger(shards, 'shards')
  const perTaskWei = rewardWei / tasks

  let acceptedTasks = 0n
  let noAddressTasks = 0
  const byAddress = new Map<string, bigint>()
  for (const work of accepted) {
    if (!Number.isSafeInteger(work.taskCount) || work.taskCount < 0) {
      throw new PayoutComputationError(`taskCount must be a non-negative integer, got ${work.taskCount}`)
    }
    acceptedTasks += BigInt(work.taskCount)
    if (work.payoutAddress === null) {
      noAddressTasks += work.taskCount
      continue
    }
    let address: string
    try {
      address = getAddress(work.payoutAddress)
    } catch {
      throw new PayoutComputationError(`not an address: ${JSON.stringify(work.payoutAddress)}`)
    }
    byAddress.set(address, (byAddress.get(address) ?? 0n) + perTaskWei * BigInt(work.taskCount))
  }
  if (acceptedTasks > tasks) {
    throw new PayoutComputationError(`${acceptedTasks} accepted tasks but the job has only ${tasks} (${rounds} rounds × ${shards} shards)`)
  }

  const payouts = [...byAddress].filter(([, amountWei]) => amountWei > 0n).map(([address, amountWei]) => ({ address, amountWei }))
  const totalWei = payouts.reduce((sum, p) => sum + p.amountWei, 0n)
  return {
    payouts,
    perTaskWei,
    totalWei,
    unassignedWei: rewardWei - totalWei,
    noAddressWei: perTaskWei * BigInt(noAddressTasks),
    noAddressTasks,
  }
}
