import { parseEther, type Filter } from 'ethers'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildPayoutTree } from '@oblivion/contracts'
import { MAX_LOG_RANGE, readSettlementEvents } from '../../src/chain/settlement-events.ts'
import { deployTestSettlement, fundJob, mined, randomBytes32, startTestChain, type TestChain } from './chain-fixture.ts'

let chain: TestChain
beforeAll(async () => {
  chain = await startTestChain()
})
afterAll(async () => {
  await chain?.stop()
})

describe('readSettlementEvents', () => {
  it('normalizes a scripted sequence in chain order with the bond at each bond event', async () => {
    const d = await deployTestSettlement(chain)
    const [workerA, workerB] = chain.workers as [typeof chain.owner, typeof chain.owner]
    const asValidator = d.contract.connect(chain.validator)
    const job = await fundJob(chain, d, parseEther('3'))
    await mined(asValidator.markStarted(job.jobId))
    await mined(d.contract.connect(workerA).bond({ value: parseEther('2') }))
    const unbond = await mined(d.contract.connect(workerA).requestUnbond(parseEther('0.5')))
    const evidence = randomBytes32()
    await mined(asValidator.slash(workerA.address, job.jobId, parseEther('1'), evidence))
    const tree = buildPayoutTree([{ address: workerB.address, amountWei: parseEther('1.25') }])
    const modelCidHash = randomBytes32()
    const metricsHash = randomBytes32()
    await mined(asValidator.settle(job.jobId, tree.root, tree.total, tree.count, modelCidHash, metricsHash))
    await chain.increaseTime(61)
    await mined(d.contract.connect(workerB).claimPayout(job.jobId, tree.total, tree.proofs.get(workerB.address)!))
    await mined(d.contract.connect(workerA).withdrawUnbonded())
    const head = await chain.provider.getBlockNumber()

    const events = await readSettlementEvents(chain.provider, d.address, d.deployBlock, head)
    expect(events.map((e) => e.name)).toEqual([
      'OwnershipTransferred',
      'ValidatorChanged',
      'JobFunded',
      'JobStarted',
      'Bonded',
      'UnbondRequested',
      'Slashed',
      'JobSettled',
      'PayoutClaimed',
      'Withdrawn',
    ])
    for (let i = 1; i < events.length; i++) {
      const [a, b] = [events[i - 1]!, events[i]!]
      expect(a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && a.logIndex < b.logIndex)).toBe(true)
    }
    const byName = Object.fromEntries(events.map((e) => [e.name, e]))
    const a = workerA.address.toLowerCase()

    expect(byName.JobFunded).toMatchObject({
      jobId: job.uuid,
      txHash: job.receipt.hash,
      blockNumber: job.receipt.blockNumber,
      blockHash: job.receipt.blockHash,
      args: { jobId: job.jobId, creator: chain.creator.address.toLowerCase(), amount: parseEther('3').toString() },
    })
    expect(byName.JobFunded!.bond).toBeUndefined()
    expect(typeof byName.JobFunded!.args.deadline).toBe('string')
    expect(byName.JobStarted).toMatchObject({ jobId: job.uuid, args: { jobId: job.jobId } })

    const unlockAt = Number((await chain.provider.getBlock(unbond.blockNumber))!.timestamp) + 60
    expect(byName.Bonded).toMatchObject({ args: { worker: a, amount: '2000000000000000000', total: '2000000000000000000' } })
    expect(byName.Bonded!.bond).toEqual({ address: a, bonded: '2000000000000000000', unbonding: '0', unlockAt: null })
    expect(byName.UnbondRequested!.args).toEqual({ worker: a, amount: '500000000000000000', unlockAt: String(unlockAt) })
    expect(byName.UnbondRequested!.bond).toEqual({ address: a, bonded: '1500000000000000000', unbonding: '500000000000000000', unlockAt })
    expect(byName.Slashed).toMatchObject({ jobId: job.uuid, args: { worker: a, jobId: job.jobId, amount: '1000000000000000000', evidenceHash: evidence } })
    expect(byName.Slashed!.bond).toEqual({ address: a, bonded: '500000000000000000', unbonding: '500000000000000000', unlockAt })
    expect(byName.JobSettled).toMatchObject({
      jobId: job.uuid,
      args: { payoutRoot: tree.root, totalPayout: '1250000000000000000', payoutCount: '1', remainder: '1750000000000000000', modelCidHash, metricsHash },
    })
    expect(byName.PayoutClaimed).toMatchObject({ jobId: job.uuid, args: { worker: workerB.address.toLowerCase(), amount: '1250000000000000000' } })
    expect(byName.PayoutClaimed!.bond).toBeUndefined()
    expect(byName.Withdrawn!.bond).toEqual({ address: a, bonded: '500000000000000000', unbonding: '0', unlockAt: null })
    // JSON-safe: what the database mirror stores survives a round trip.
    expect(JSON.parse(JSON.stringify(events))).toEqual(events)
  })

  it('reads long ranges in getLogs calls of at most 2,000 blocks', async () => {
    const d = await deployTestSettlement(chain)
    await fundJob(chain, d)
    await chain.provider.send('anvil_mine', ['0x1194']) // 4,500 empty blocks
    await fundJob(chain, d)
    const head = await chain.provider.getBlockNumber()
    const getLogs = vi.spyOn(chain.provider, 'getLogs')
    try {
      const events = await readSettlementEvents(chain.provider, d.address, d.deployBlock, head)
      expect(events.filter((e) => e.name === 'JobFunded')).toHaveLength(2)
      const ranges = getLogs.mock.calls.map(([filter]) => {
        const { fromBlock, toBlock } = filter as Filter
        return [Number(fromBlock), Number(toBlock)] as const
      })
      expect(ranges.length).toBe(Math.ceil((head - d.deployBlock + 1) / MAX_LOG_RANGE))
      expect(ranges[0]![0]).toBe(d.deployBlock)
      expect(ranges.at(-1)![1]).toBe(head)
      for (const [i, [from, to]] of ranges.entries()) {
        expect(to - from + 1).toBeLessThanOrEqual(MAX_LOG_RANGE)
        if (i > 0) expect(from).toBe(ranges[i - 1]![1] + 1)
      }
    } finally {
      getLogs.mockRestore()
    }
  })
})
