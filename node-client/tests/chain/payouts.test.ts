import { describe, expect, it } from 'vitest'
import { computePayouts, PayoutComputationError } from '../../src/chain/payouts.ts'

const A = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const B = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65'

describe('computePayouts', () => {
  it('pays a single worker who did every task the whole reward', () => {
    const r = computePayouts({ rewardWei: 600n, rounds: 2, shards: 3, accepted: [{ payoutAddress: A, taskCount: 6 }] })
    expect(r).toEqual({ payouts: [{ address: A, amountWei: 600n }], perTaskWei: 100n, totalWei: 600n, unassignedWei: 0n, noAddressWei: 0n, noAddressTasks: 0 })
  })

  it('leaves the rounding dust unassigned, and total + unassigned = reward exactly', () => {
    const reward = 10n ** 18n + 7n
    const r = computePayouts({ rewardWei: reward, rounds: 3, shards: 3, accepted: [{ payoutAddress: A, taskCount: 5 }, { payoutAddress: B, taskCount: 4 }] })
    const perTask = reward / 9n
    expect(r.perTaskWei).toBe(perTask)
    expect(r.payouts).toEqual([{ address: A, amountWei: perTask * 5n }, { address: B, amountWei: perTask * 4n }])
    expect(r.unassignedWei).toBe(reward - perTask * 9n)
    expect(r.unassignedWei).toBeGreaterThan(0n)
    expect(r.totalWei + r.unassignedWei).toBe(reward)
  })

  it('gives nothing to workers without a payout address and reports their share', () => {
    const r = computePayouts({ rewardWei: 1_000n, rounds: 2, shards: 5, accepted: [{ payoutAddress: A, taskCount: 3 }, { payoutAddress: null, taskCount: 4 }] })
    expect(r.payouts).toEqual([{ address: A, amountWei: 300n }])
    expect(r.noAddressTasks).toBe(4)
    expect(r.noAddressWei).toBe(400n)
    // 3 tasks were not accepted at all: 300 more stay with the creator.
    expect(r.unassignedWei).toBe(700n)
    expect(r.totalWei + r.unassignedWei).toBe(1_000n)
  })

  it('merges entries of one address (any case), checksums it, and drops zero amounts', () => {
    const r = computePayouts({
      rewardWei: 60n,
      rounds: 2,
      shards: 3,
      accepted: [{ payoutAddress: A.toLowerCase(), taskCount: 1 }, { payoutAddress: A, taskCount: 2 }, { payoutAddress: B, taskCount: 0 }],
    })
    expect(r.payouts).toEqual([{ address: A, amountWei: 30n }])
    expect(computePayouts({ rewardWei: 5n, rounds: 2, shards: 3, accepted: [{ payoutAddress: A, taskCount: 6 }] })).toMatchObject({ payouts: [], totalWei: 0n, unassignedWei: 5n })
  })

  it('refuses impossible inputs', () => {
    expect(() => computePayouts({ rewardWei: 1n, rounds: 0, shards: 1, accepted: [] })).toThrow(PayoutComputationError)
    expect(() => computePayouts({ rewardWei: -1n, rounds: 1, shards: 1, accepted: [] })).toThrow(PayoutComputationError)
    expect(() => computePayouts({ rewardWei: 10n, rounds: 1, shards: 2, accepted: [{ payoutAddress: A, taskCount: 3 }] })).toThrow(/only 2/)
    expect(() => computePayouts({ rewardWei: 10n, rounds: 1, shards: 2, accepted: [{ payoutAddress: A, taskCount: 1.5 }] })).toThrow(PayoutComputationError)
    expect(() => computePayouts({ rewardWei: 10n, rounds: 1, shards: 2, accepted: [{ payoutAddress: '0x1234', taskCount: 1 }] })).toThrow(/not an address/)
  })
})
