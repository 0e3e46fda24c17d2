// Gas of the settlement contract on anvil with Istanbul rules (what Shardeum charges by), from
// receipts. The budget: settle + claims <= 60k gas per paid worker for a job paying 64 workers.
import { Wallet, parseEther } from 'ethers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { LegacyWallet, mined, randomBytes32, startTestChain, type TestChain } from './support/chain.ts'
import { CHALLENGE_WINDOW, SettlementFixture } from './support/settlement-fixture.ts'

let chain: TestChain
let fixture: SettlementFixture

beforeAll(async () => {
  chain = await startTestChain()
  fixture = new SettlementFixture(chain)
})
afterEach(async () => fixture.expectAllAccounted())
afterAll(async () => chain?.stop())

const PAYOUTS = 64
const BUDGET_PER_PAID_WORKER = 60_000n

describe('gas', () => {
  it(`settle + claim costs at most ${BUDGET_PER_PAID_WORKER} gas per paid worker at ${PAYOUTS} payouts`, async () => {
    const d = await fixture.deploy()
    // Fresh accounts, so every claim pays the first-touch costs a real worker pays.
    const workers = Array.from({ length: PAYOUTS }, () => new LegacyWallet(Wallet.createRandom().privateKey, chain.provider))
    for (const worker of workers) await mined(d.creator.sendTransaction({ to: worker.address, value: parseEther('0.01') }))

    const funded = await fixture.fundJob(d, { value: parseEther('100') })
    await mined(d.as(d.validator).markStarted(funded.jobId))
    // Amounts like a real split: about 1.5 ETH each with wei-level digits.
    const { tree, receipt: settled } = await fixture.settle(
      d,
      funded.jobId,
      workers.map((w, i) => ({ address: w.address, amountWei: parseEther('1.5') + 987_654_321n * BigInt(i + 1) })),
    )
    await chain.increaseTime(CHALLENGE_WINDOW)
    const claims: bigint[] = []
    for (const worker of workers) claims.push((await fixture.claim(d, funded.jobId, tree, worker)).gasUsed)

    const bonded = await mined(d.as(workers[0]!).bond({ value: parseEther('0.005') }))
    const slashed = await mined(d.as(d.validator).slash(workers[0]!.address, funded.jobId, parseEther('0.001'), randomBytes32()))

    const claimTotal = claims.reduce((a, b) => a + b, 0n)
    const perPaidWorker = (settled.gasUsed + claimTotal) / BigInt(PAYOUTS)
    const report = {
      createJob: funded.receipt.gasUsed,
      settle: settled.gasUsed,
      claimPayoutMean: claimTotal / BigInt(PAYOUTS),
      claimPayoutMin: claims.reduce((a, b) => (a < b ? a : b)),
      claimPayoutMax: claims.reduce((a, b) => (a > b ? a : b)),
      perPaidWorker,
      bond: bonded.gasUsed,
      slash: slashed.gasUsed,
    }
    console.log(`gas (anvil, istanbul, ${PAYOUTS} payouts):`, report)
    expect(perPaidWorker).toBeLessThanOrEqual(BUDGET_PER_PAID_WORKER)
  })
})
