import { randomUUID } from 'node:crypto'
import { parseEther, sha256, toUtf8Bytes } from 'ethers'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { jobIdFromUuid } from '@oblivion/contracts'
import { canonicalJson } from '../../src/chain/canonical-json.ts'
import { computePayouts } from '../../src/chain/payouts.ts'
import { metricsHash, modelCidHash, settleJobOnChain, SettleJobError } from '../../src/chain/settle-job.ts'
import { readSettlementEvents } from '../../src/chain/settlement-events.ts'
import { deployTestSettlement, fundJob, mined, startTestChain, type TestChain } from './chain-fixture.ts'

let chain: TestChain
beforeAll(async () => {
  chain = await startTestChain()
})
afterAll(async () => {
  await chain?.stop()
})

const MODEL_CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
const METRICS = { loss: 0.125, accuracy: 0.97, perRound: [{ round: 1, loss: 0.5 }], name: 'mnist' }

describe('settlement hashes', () => {
  it('hashes the CID string and the canonical JSON of the metrics with sha-256', () => {
    expect(modelCidHash(MODEL_CID)).toBe(sha256(toUtf8Bytes(MODEL_CID)))
    expect(canonicalJson(METRICS)).toBe('{"accuracy":0.97,"loss":0.125,"name":"mnist","perRound":[{"loss":0.5,"round":1}]}')
    expect(metricsHash(METRICS)).toBe(sha256(toUtf8Bytes(canonicalJson(METRICS))))
    expect(metricsHash({ b: 1, a: [true, null, 'é'] })).toBe(metricsHash({ a: [true, null, 'é'], b: 1, c: undefined }))
    expect(() => canonicalJson({ loss: Number.NaN })).toThrow(/\$\.loss/)
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError)
  })
})

describe('settleJobOnChain', () => {
  it('settles with a legacy transaction; workers claim with the proofs; a second call sends nothing', async () => {
    const d = await deployTestSettlement(chain)
    const [workerA, workerB] = chain.workers as [typeof chain.owner, typeof chain.owner]
    const reward = parseEther('1')
    const job = await fundJob(chain, d, reward)
    const computed = computePayouts({
      rewardWei: reward,
      rounds: 2,
      shards: 3,
      accepted: [{ payoutAddress: workerA.address, taskCount: 3 }, { payoutAddress: workerB.address, taskCount: 2 }, { payoutAddress: null, taskCount: 1 }],
    })
    const contract = d.contract.connect(chain.validator)
    const result = await settleJobOnChain({ contract, jobId: job.uuid, payouts: computed.payouts, modelCid: MODEL_CID, metrics: METRICS })

    expect(result.alreadySettled).toBe(false)
    expect(result.totalWei).toBe(computed.totalWei)
    expect(result.count).toBe(2)
    const tx = await chain.provider.getTransaction(result.txHash!)
    expect(tx!.type).toBe(0)
    expect(tx!.gasPrice).toBe(BigInt(await chain.provider.send('eth_gasPrice', [])))
    const [settled] = (await readSettlementEvents(chain.provider, d.address, result.blockNumber!, result.blockNumber!)).filter((e) => e.name === 'JobSettled')
    expect(settled).toMatchObject({
      jobId: job.uuid,
      txHash: result.txHash,
      args: {
        payoutRoot: result.root,
        totalPayout: computed.totalWei.toString(),
        payoutCount: '2',
        remainder: computed.unassignedWei.toString(),
        modelCidHash: modelCidHash(MODEL_CID),
        metricsHash: metricsHash(METRICS),
      },
    })

    await chain.increaseTime(61)
    let claimed = 0n
    for (const worker of [workerA, workerB]) {
      const amount = result.amounts[worker.address]!
      const receipt = await mined(d.contract.connect(worker).claimPayout(job.jobId, amount, result.proofs[worker.address]!))
      expect(receipt.status).toBe(1)
      claimed += amount
    }
    expect(result.amounts[workerA.address]).toBe(computed.perTaskWei * 3n)
    expect(claimed).toBe(result.totalWei)
    expect((await d.contract.getJob(job.jobId)).unclaimed).toBe(0n)

    // Again (a restarted coordinator): detected from getJob, the same answer, no transaction.
    const nonce = await chain.provider.getTransactionCount(chain.validator.address)
    const again = await settleJobOnChain({ contract, jobId: job.uuid, payouts: computed.payouts, modelCid: MODEL_CID, metrics: METRICS })
    expect(again).toEqual({ ...result, alreadySettled: true })
    expect(await chain.provider.getTransactionCount(chain.validator.address)).toBe(nonce)

    // Other payouts for a settled job: an error, still nothing sent.
    const other = settleJobOnChain({ contract, jobId: job.uuid, payouts: [{ address: workerA.address, amountWei: 1n }], modelCid: MODEL_CID, metrics: METRICS })
    await expect(other).rejects.toMatchObject({ name: 'SettleJobError', code: 'SETTLED_WITH_OTHER_ROOT' })
    expect(await chain.provider.getTransactionCount(chain.validator.address)).toBe(nonce)
  })

  it('reports a revert by its custom error name and does not retry it', async () => {
    const d = await deployTestSettlement(chain)
    const job = await fundJob(chain, d)
    const onRetry = vi.fn()
    const params = { jobId: job.uuid, payouts: [{ address: chain.workers[0]!.address, amountWei: 10n }], modelCid: MODEL_CID, metrics: METRICS, onRetry }
    const error = await settleJobOnChain({ ...params, contract: d.contract.connect(chain.stranger) }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SettleJobError)
    expect(error).toMatchObject({ code: 'REVERTED', revertName: 'NotValidator' })
    expect((error as Error).message).toMatch(/NotValidator/)

    const tooMuch = await settleJobOnChain({ ...params, payouts: [{ address: chain.workers[0]!.address, amountWei: parseEther('2') }], contract: d.contract.connect(chain.validator) }).catch((e: unknown) => e)
    expect(tooMuch).toMatchObject({ code: 'REVERTED', revertName: 'PayoutExceedsEscrow' })

    const unknownJob = await settleJobOnChain({ ...params, jobId: randomUUID(), contract: d.contract.connect(chain.validator) }).catch((e: unknown) => e)
    expect(unknownJob).toMatchObject({ code: 'REVERTED', revertName: 'UnknownJob' })

    const cancelled = await fundJob(chain, d)
    await mined(d.contract.connect(chain.creator).cancelJob(cancelled.jobId))
    const wrongStatus = await settleJobOnChain({ ...params, jobId: cancelled.uuid, contract: d.contract.connect(chain.validator) }).catch((e: unknown) => e)
    expect(wrongStatus).toMatchObject({ code: 'REVERTED', revertName: 'WrongStatus', details: { revertArgs: [2n] } })
    expect((wrongStatus as Error).message).toBe('settle reverted: WrongStatus(2)')
    expect(onRetry).not.toHaveBeenCalled()
  })

  it('retries RPC failures, and follows a broadcast whose answer was lost instead of sending again', async () => {
    const d = await deployTestSettlement(chain)
    const job = await fundJob(chain, d)
    const contract = d.contract.connect(chain.validator)
    const provider = chain.provider
    const original = provider.broadcastTransaction.bind(provider)
    const broadcast = vi.spyOn(provider, 'broadcastTransaction').mockImplementationOnce(async (signed) => {
      await original(signed) // it reaches the chain…
      throw new Error('socket hang up') // …but the answer is lost
    })
    const getFeeData = vi.spyOn(provider, 'getFeeData').mockRejectedValueOnce(new Error('ETIMEDOUT'))
    const onRetry = vi.fn()
    const nonce = await provider.getTransactionCount(chain.validator.address)
    try {
      const result = await settleJobOnChain({
        contract,
        jobId: job.uuid,
        payouts: [{ address: chain.workers[0]!.address, amountWei: 10n }],
        modelCid: MODEL_CID,
        metrics: METRICS,
        backoff: { initialMs: 10 },
        onRetry,
      })
      expect(result.alreadySettled).toBe(false)
      expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/)
      expect(broadcast).toHaveBeenCalledTimes(1)
    } finally {
      broadcast.mockRestore()
      getFeeData.mockRestore()
    }
    expect(onRetry.mock.calls.map(([error, info]) => [(error as Error).message, info.attempt])).toEqual([
      ['ETIMEDOUT', 1],
      ['socket hang up', 2],
    ])
    expect(await provider.getTransactionCount(chain.validator.address)).toBe(nonce + 1)
    expect(Number((await d.contract.getJob(jobIdFromUuid(job.uuid))).status)).toBe(4)
  })

  it('gives up after maxAttempts RPC failures', async () => {
    const d = await deployTestSettlement(chain)
    const job = await fundJob(chain, d)
    const getFeeData = vi.spyOn(chain.provider, 'getFeeData').mockRejectedValue(new Error('ECONNREFUSED'))
    try {
      const error = await settleJobOnChain({
        contract: d.contract.connect(chain.validator),
        jobId: job.uuid,
        payouts: [],
        modelCid: MODEL_CID,
        metrics: METRICS,
        maxAttempts: 3,
        backoff: { initialMs: 5 },
      }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'RPC_FAILED' })
      expect(getFeeData).toHaveBeenCalledTimes(3)
    } finally {
      getFeeData.mockRestore()
    }
  })
})
