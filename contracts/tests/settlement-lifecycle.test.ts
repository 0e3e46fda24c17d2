// OblivionSettlement on anvil (chain 8119, Istanbul rules): the life of a job, a bond and a credit,
// with exact balances and events. Every test ends with address(contract).balance == accountedBalance().
import { ZeroAddress, ZeroHash, parseEther } from 'ethers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildPayoutTree } from '../src/merkle/payout-tree.ts'
import { expectRevert, mined, randomBytes32, startTestChain, type TestChain } from './support/chain.ts'
import {
  CHALLENGE_WINDOW,
  JobStatus,
  SettlementFixture,
  UNBONDING_DELAY,
  eventsOf,
  expectBalanceDelta,
} from './support/settlement-fixture.ts'

let chain: TestChain
let fixture: SettlementFixture

beforeAll(async () => {
  chain = await startTestChain()
  fixture = new SettlementFixture(chain)
})
afterEach(async () => fixture.expectAllAccounted())
afterAll(async () => chain?.stop())

describe('roles', () => {
  it('the deployer owns the contract; the owner alone changes the validator and hands over ownership', async () => {
    const d = await fixture.deploy()
    const deployReceipt = (await d.contract.deploymentTransaction()!.wait())!
    expect(eventsOf(d, deployReceipt)).toEqual([
      { name: 'OwnershipTransferred', args: { previousOwner: ZeroAddress, newOwner: d.owner.address } },
      { name: 'ValidatorChanged', args: { previousValidator: ZeroAddress, newValidator: d.validator.address } },
    ])
    expect(await d.contract.owner()).toBe(d.owner.address)
    expect(await d.contract.validator()).toBe(d.validator.address)
    expect(await d.contract.unbondingDelay()).toBe(UNBONDING_DELAY)
    expect(await d.contract.challengeWindow()).toBe(CHALLENGE_WINDOW)

    await expectRevert(d.as(d.stranger).setValidator(d.stranger.address), 'NotOwner')
    await expectRevert(d.as(d.owner).setValidator(ZeroAddress), 'ZeroAddress')
    const rotated = await mined(d.as(d.owner).setValidator(d.stranger.address))
    expect(eventsOf(d, rotated)).toEqual([
      { name: 'ValidatorChanged', args: { previousValidator: d.validator.address, newValidator: d.stranger.address } },
    ])
    expect(await d.contract.validator()).toBe(d.stranger.address)

    await expectRevert(d.as(d.stranger).transferOwnership(d.stranger.address), 'NotOwner')
    await mined(d.as(d.owner).transferOwnership(d.creator.address))
    expect(await d.contract.owner()).toBe(d.creator.address)
    await expectRevert(d.as(d.owner).setValidator(d.owner.address), 'NotOwner')
  })
})

describe('a job from funding to payouts', () => {
  it('is funded, started, settled with a payout tree, and after the challenge window each worker claims exactly its leaf', async () => {
    const d = await fixture.deploy()
    const workers = d.workers.slice(0, 5)
    const escrow = parseEther('10')

    const funded = await fixture.fundJob(d, { value: escrow })
    expect(eventsOf(d, funded.receipt)).toEqual([
      {
        name: 'JobFunded',
        args: { jobId: funded.jobId, creator: d.creator.address, amount: escrow, specHash: funded.specHash, deadline: funded.deadline },
      },
    ])
    expect(await chain.provider.getBalance(d.address)).toBe(escrow)

    const started = await mined(d.as(d.validator).markStarted(funded.jobId))
    expect(eventsOf(d, started)).toEqual([{ name: 'JobStarted', args: { jobId: funded.jobId } }])

    // 1 + 1.25 + 1.5 + 1.75 + 2 = 7.5 ETH to five workers; 2.5 ETH go back to the creator.
    const payouts = workers.map((w, i) => ({ address: w.address, amountWei: parseEther('1') + parseEther('0.25') * BigInt(i) }))
    const modelCidHash = randomBytes32()
    const metricsHash = randomBytes32()
    const tree = buildPayoutTree(payouts)
    expect(tree.total).toBe(parseEther('7.5'))
    const settled = await mined(
      d.as(d.validator).settle(funded.jobId, tree.root, tree.total, tree.count, modelCidHash, metricsHash),
    )
    expect(eventsOf(d, settled)).toEqual([
      {
        name: 'JobSettled',
        args: {
          jobId: funded.jobId,
          payoutRoot: tree.root,
          totalPayout: parseEther('7.5'),
          payoutCount: 5n,
          remainder: parseEther('2.5'),
          modelCidHash,
          metricsHash,
        },
      },
    ])
    const settledAt = BigInt((await chain.provider.getBlock(settled.blockNumber))!.timestamp)
    const job = await d.contract.getJob(funded.jobId)
    expect(job.toObject()).toEqual({
      creator: d.creator.address,
      status: JobStatus.Settled,
      started: true,
      escrow,
      deadline: funded.deadline,
      specHash: funded.specHash,
      payoutRoot: tree.root,
      settledAt,
      unclaimed: parseEther('7.5'),
    })
    expect(await d.contract.credits(d.creator.address)).toBe(parseEther('2.5'))

    // Inside the window nobody can claim, its last second included; claims open when it closes.
    await expectRevert(fixture.claim(d, funded.jobId, tree, workers[0]!), 'ChallengeWindowOpen')
    await chain.setNextTimestamp(settledAt + CHALLENGE_WINDOW - 1n)
    await expectRevert(fixture.claim(d, funded.jobId, tree, workers[0]!), 'ChallengeWindowOpen')
    await chain.setNextTimestamp(settledAt + CHALLENGE_WINDOW)

    for (const worker of workers) {
      const amount = tree.amounts.get(worker.address)!
      const proof = tree.proofs.get(worker.address)!
      expect(await d.contract.isClaimed(funded.jobId, worker.address, amount, proof)).toBe(false)
      const receipt = await expectBalanceDelta(chain, worker, amount, () => fixture.claim(d, funded.jobId, tree, worker))
      expect(eventsOf(d, receipt)).toEqual([{ name: 'PayoutClaimed', args: { jobId: funded.jobId, worker: worker.address, amount } }])
      expect(await d.contract.isClaimed(funded.jobId, worker.address, amount, proof)).toBe(true)
    }
    expect((await d.contract.getJob(funded.jobId)).unclaimed).toBe(0n)

    const withdrawn = await expectBalanceDelta(chain, d.creator, parseEther('2.5'), () =>
      mined(d.as(d.creator).withdrawCredits()),
    )
    expect(eventsOf(d, withdrawn)).toEqual([
      { name: 'CreditsWithdrawn', args: { account: d.creator.address, amount: parseEther('2.5') } },
    ])
    expect(await d.contract.credits(d.creator.address)).toBe(0n)
    expect(await chain.provider.getBalance(d.address)).toBe(0n)
    expect((await d.contract.totals()).toObject()).toEqual({ escrow: 0n, unclaimed: 0n, bonded: 0n, unbonding: 0n, credited: 0n })
  })

  it('settles a job that paid nobody: the whole escrow is credited back', async () => {
    const d = await fixture.deploy()
    const funded = await fixture.fundJob(d, { value: parseEther('3') })
    const { tree, receipt } = await fixture.settle(d, funded.jobId, [])
    expect(tree.root).toBe(ZeroHash)
    expect(eventsOf(d, receipt)[0]?.args).toMatchObject({ totalPayout: 0n, payoutCount: 0n, remainder: parseEther('3') })
    expect(await d.contract.credits(d.creator.address)).toBe(parseEther('3'))
    expect((await d.contract.getJob(funded.jobId)).unclaimed).toBe(0n)
  })

  it('the creator cancels a job nobody started and gets the whole escrow back; once started it cannot', async () => {
    const d = await fixture.deploy()
    const open = await fixture.fundJob(d, { value: parseEther('4') })
    const cancelled = await expectBalanceDelta(chain, d.creator, parseEther('4'), () =>
      mined(d.as(d.creator).cancelJob(open.jobId)),
    )
    expect(eventsOf(d, cancelled)).toEqual([{ name: 'JobCancelled', args: { jobId: open.jobId, refund: parseEther('4') } }])
    expect((await d.contract.getJob(open.jobId)).status).toBe(JobStatus.Cancelled)
    await expectRevert(d.as(d.creator).cancelJob(open.jobId), 'WrongStatus', [JobStatus.Cancelled])

    const running = await fixture.fundJob(d, { value: parseEther('4') })
    await mined(d.as(d.validator).markStarted(running.jobId))
    await expectRevert(d.as(d.creator).cancelJob(running.jobId), 'AlreadyStarted')
    await expectRevert(d.as(d.validator).markStarted(running.jobId), 'AlreadyStarted')
    expect(await chain.provider.getBalance(d.address)).toBe(parseEther('4'))
  })

  it('anyone expires a job past its deadline, crediting the creator; not a second earlier', async () => {
    const d = await fixture.deploy()
    const funded = await fixture.fundJob(d, { value: parseEther('2'), deadlineIn: 1_000n })
    await mined(d.as(d.validator).markStarted(funded.jobId))

    await expectRevert(d.as(d.stranger).expireJob(funded.jobId), 'NotExpired')
    // At the deadline itself the job is still live; a second later it can be expired.
    await chain.setNextTimestamp(funded.deadline)
    await expectRevert(d.as(d.stranger).expireJob(funded.jobId), 'NotExpired')
    await chain.setNextTimestamp(funded.deadline + 1n)

    const expired = await mined(d.as(d.stranger).expireJob(funded.jobId))
    expect(eventsOf(d, expired)).toEqual([{ name: 'JobExpired', args: { jobId: funded.jobId, refund: parseEther('2') } }])
    expect((await d.contract.getJob(funded.jobId)).status).toBe(JobStatus.Expired)
    expect(await d.contract.credits(d.creator.address)).toBe(parseEther('2'))
    await expectRevert(d.as(d.stranger).expireJob(funded.jobId), 'WrongStatus', [JobStatus.Expired])
    await expectRevert(fixture.settle(d, funded.jobId, []), 'WrongStatus', [JobStatus.Expired])

    await expectBalanceDelta(chain, d.creator, parseEther('2'), () => mined(d.as(d.creator).withdrawCredits()))
    await expectRevert(d.as(d.creator).withdrawCredits(), 'ZeroAmount')
  })
})

describe('bonds', () => {
  it('a worker bonds, requests an unbond, and withdraws only once the delay has passed', async () => {
    const d = await fixture.deploy()
    const worker = d.workers[0]!
    const first = await mined(d.as(worker).bond({ value: parseEther('5') }))
    expect(eventsOf(d, first)).toEqual([{ name: 'Bonded', args: { worker: worker.address, amount: parseEther('5'), total: parseEther('5') } }])
    const second = await mined(d.as(worker).bond({ value: parseEther('1') }))
    expect(eventsOf(d, second)[0]?.args).toEqual({ worker: worker.address, amount: parseEther('1'), total: parseEther('6') })

    await expectRevert(d.as(worker).requestUnbond(parseEther('7')), 'InsufficientBond')
    const requested = await mined(d.as(worker).requestUnbond(parseEther('2')))
    const requestedAt = BigInt((await chain.provider.getBlock(requested.blockNumber))!.timestamp)
    expect(eventsOf(d, requested)).toEqual([
      { name: 'UnbondRequested', args: { worker: worker.address, amount: parseEther('2'), unlockAt: requestedAt + UNBONDING_DELAY } },
    ])
    expect((await d.contract.bondOf(worker.address)).toObject()).toEqual({
      bonded: parseEther('4'),
      unbonding: parseEther('2'),
      unlockAt: requestedAt + UNBONDING_DELAY,
    })

    await chain.increaseTime(UNBONDING_DELAY / 2n)
    // A second request adds to the pending amount and restarts the timer for all of it.
    const again = await mined(d.as(worker).requestUnbond(parseEther('1')))
    const unlockAt = BigInt((await chain.provider.getBlock(again.blockNumber))!.timestamp) + UNBONDING_DELAY
    expect((await d.contract.bondOf(worker.address)).toObject()).toEqual({ bonded: parseEther('3'), unbonding: parseEther('3'), unlockAt })

    await chain.setNextTimestamp(unlockAt - 1n)
    await expectRevert(d.as(worker).withdrawUnbonded(), 'StillUnbonding', [unlockAt])
    await chain.setNextTimestamp(unlockAt)
    const withdrawn = await expectBalanceDelta(chain, worker, parseEther('3'), () => mined(d.as(worker).withdrawUnbonded()))
    expect(eventsOf(d, withdrawn)).toEqual([{ name: 'Withdrawn', args: { worker: worker.address, amount: parseEther('3') } }])
    expect((await d.contract.bondOf(worker.address)).toObject()).toEqual({ bonded: parseEther('3'), unbonding: 0n, unlockAt: 0n })
    await expectRevert(d.as(worker).withdrawUnbonded(), 'ZeroAmount')
  })

  it('a slash takes the bonded stake first, then the unbonding one, and credits the job creator', async () => {
    const d = await fixture.deploy()
    const worker = d.workers[0]!
    const funded = await fixture.fundJob(d)
    await mined(d.as(worker).bond({ value: parseEther('3') }))
    await mined(d.as(worker).requestUnbond(parseEther('2')))
    const evidenceHash = randomBytes32()

    const partial = await mined(d.as(d.validator).slash(worker.address, funded.jobId, parseEther('0.5'), evidenceHash))
    expect(eventsOf(d, partial)).toEqual([
      { name: 'Slashed', args: { worker: worker.address, jobId: funded.jobId, amount: parseEther('0.5'), evidenceHash } },
    ])
    expect((await d.contract.bondOf(worker.address)).toObject()).toMatchObject({ bonded: parseEther('0.5'), unbonding: parseEther('2') })

    // Asks for more than the worker has: takes the 0.5 bonded and the 2 unbonding, no more.
    const all = await mined(d.as(d.validator).slash(worker.address, funded.jobId, parseEther('10'), evidenceHash))
    expect(eventsOf(d, all)[0]?.args).toMatchObject({ amount: parseEther('2.5') })
    expect((await d.contract.bondOf(worker.address)).toObject()).toMatchObject({ bonded: 0n, unbonding: 0n })
    expect(await d.contract.credits(d.creator.address)).toBe(parseEther('3'))

    await expectRevert(d.as(d.validator).slash(worker.address, funded.jobId, 1n, evidenceHash), 'InsufficientBond')
    await expectRevert(d.as(d.validator).slash(worker.address, randomBytes32(), 1n, evidenceHash), 'UnknownJob')
    await expectRevert(d.as(d.validator).slash(worker.address, funded.jobId, 0n, evidenceHash), 'ZeroAmount')
    // What was unbonding is gone: nothing left to withdraw.
    await expectRevert(d.as(worker).withdrawUnbonded(), 'ZeroAmount')
  })
})

describe('disputes', () => {
  it('the owner disputes a settlement inside the window; the job is Funded again and the validator settles it anew', async () => {
    const d = await fixture.deploy()
    const [w1, w2] = d.workers as [typeof d.creator, typeof d.creator]
    const funded = await fixture.fundJob(d, { value: parseEther('10') })
    const first = await fixture.settle(d, funded.jobId, [{ address: w1.address, amountWei: parseEther('9') }])
    expect(await d.contract.credits(d.creator.address)).toBe(parseEther('1'))

    await expectRevert(d.as(d.validator).disputeSettlement(funded.jobId), 'NotOwner')
    const disputed = await mined(d.as(d.owner).disputeSettlement(funded.jobId))
    expect(eventsOf(d, disputed)).toEqual([{ name: 'SettlementDisputed', args: { jobId: funded.jobId } }])
    expect((await d.contract.getJob(funded.jobId)).toObject()).toMatchObject({
      status: JobStatus.Funded,
      payoutRoot: ZeroHash,
      settledAt: 0n,
      unclaimed: 0n,
      escrow: parseEther('10'),
    })
    expect(await d.contract.credits(d.creator.address)).toBe(0n)
    expect((await d.contract.totals()).toObject()).toMatchObject({ escrow: parseEther('10'), unclaimed: 0n, credited: 0n })

    // The disputed tree is dead: after the window its leaf still cannot be claimed.
    const second = await fixture.settle(d, funded.jobId, [
      { address: w1.address, amountWei: parseEther('4') },
      { address: w2.address, amountWei: parseEther('4') },
    ])
    await chain.increaseTime(CHALLENGE_WINDOW)
    await expectRevert(fixture.claim(d, funded.jobId, first.tree, w1), 'InvalidProof')
    await expectRevert(d.as(d.owner).disputeSettlement(funded.jobId), 'ChallengeWindowClosed')
    await expectBalanceDelta(chain, w1, parseEther('4'), () => fixture.claim(d, funded.jobId, second.tree, w1))
    await expectBalanceDelta(chain, w2, parseEther('4'), () => fixture.claim(d, funded.jobId, second.tree, w2))
    expect(await d.contract.credits(d.creator.address)).toBe(parseEther('2'))
  })

  it('a dispute cannot take back a remainder the creator already withdrew', async () => {
    const d = await fixture.deploy()
    const funded = await fixture.fundJob(d, { value: parseEther('10') })
    await fixture.settle(d, funded.jobId, [{ address: d.workers[0]!.address, amountWei: parseEther('6') }])
    await mined(d.as(d.creator).withdrawCredits())
    await expectRevert(d.as(d.owner).disputeSettlement(funded.jobId), 'RemainderWithdrawn')
    await expectRevert(d.as(d.owner).disputeSettlement(randomBytes32()), 'UnknownJob')
  })
})
