// OblivionSettlement refuses what would move money it does not owe: double claims, forged proofs,
// settlements by anyone but the validator, replays, early withdrawals and claims, and reentrancy
// through a receiver contract. Every test ends with address(contract).balance == accountedBalance().
import { ContractFactory, Interface, ZeroHash, parseEther, type BaseContract } from 'ethers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { oblivionSettlementAbi } from '../bindings/OblivionSettlement.ts'
import { buildPayoutTree } from '../src/merkle/payout-tree.ts'
import {
  compileFixture,
  expectRevert,
  mined,
  randomBytes32,
  randomJobId,
  revertOf,
  startTestChain,
  type TestChain,
} from './support/chain.ts'
import { CHALLENGE_WINDOW, JobStatus, SettlementFixture, UNBONDING_DELAY, type Deployment } from './support/settlement-fixture.ts'

let chain: TestChain
let fixture: SettlementFixture

beforeAll(async () => {
  chain = await startTestChain()
  fixture = new SettlementFixture(chain)
})
afterEach(async () => fixture.expectAllAccounted())
afterAll(async () => chain?.stop())

/** A funded, started and settled job paying three workers 1, 2, 3 ETH (+ `extraWei`), with the challenge window over. */
async function claimableJob(d: Deployment, extraWei = 0n) {
  const funded = await fixture.fundJob(d, { value: parseEther('10') })
  await mined(d.as(d.validator).markStarted(funded.jobId))
  const workers = d.workers.slice(0, 3)
  const { tree } = await fixture.settle(
    d,
    funded.jobId,
    workers.map((w, i) => ({ address: w.address, amountWei: parseEther(String(i + 1)) + extraWei })),
  )
  await chain.increaseTime(CHALLENGE_WINDOW)
  return { ...funded, tree, workers }
}

describe('claims', () => {
  it('a worker claims once: the second claim of the same leaf is refused', async () => {
    const d = await fixture.deploy()
    const { jobId, tree, workers } = await claimableJob(d)
    await fixture.claim(d, jobId, tree, workers[0]!)
    await expectRevert(fixture.claim(d, jobId, tree, workers[0]!), 'AlreadyClaimed')
  })

  it('forged proofs are refused: a wrong amount, another worker’s leaf, another job’s tree, a padded proof', async () => {
    const d = await fixture.deploy()
    const { jobId, tree, workers } = await claimableJob(d)
    const [w0, w1] = workers as [(typeof workers)[0], (typeof workers)[0]]
    const amount0 = tree.amounts.get(w0.address)!
    const proof0 = tree.proofs.get(w0.address)!

    await expectRevert(d.as(w0).claimPayout(jobId, amount0 + 1n, proof0), 'InvalidProof')
    await expectRevert(d.as(w0).claimPayout(jobId, amount0 - 1n, proof0), 'InvalidProof')
    // w1 replays w0's amount and proof: the leaf is bound to msg.sender.
    await expectRevert(d.as(w1).claimPayout(jobId, amount0, proof0), 'InvalidProof')
    await expectRevert(d.as(w1).claimPayout(jobId, tree.amounts.get(w1.address)!, proof0), 'InvalidProof')
    await expectRevert(d.as(d.stranger).claimPayout(jobId, amount0, proof0), 'InvalidProof')
    await expectRevert(d.as(w0).claimPayout(jobId, amount0, [...proof0, randomBytes32()]), 'InvalidProof')
    await expectRevert(d.as(w0).claimPayout(jobId, amount0, proof0.slice(1)), 'InvalidProof')
    // With no proof the leaf itself would have to be the root.
    await expectRevert(d.as(w0).claimPayout(jobId, amount0, []), 'InvalidProof')

    // The same workers in another job with other amounts: w0's proof of this job is worthless there.
    const other = await claimableJob(d, 1n)
    await expectRevert(d.as(w0).claimPayout(other.jobId, amount0, proof0), 'InvalidProof')
    await expectRevert(d.as(w0).claimPayout(randomJobId(), amount0, proof0), 'UnknownJob')
    await expectRevert(d.as(w0).claimPayout(jobId, 0n, proof0), 'ZeroAmount')

    // None of it touched the job: every worker still claims its own leaf.
    for (const worker of workers) await fixture.claim(d, jobId, tree, worker)
  })

  it('nobody claims before the challenge window closes', async () => {
    const d = await fixture.deploy()
    const funded = await fixture.fundJob(d)
    const worker = d.workers[0]!
    const { tree } = await fixture.settle(d, funded.jobId, [{ address: worker.address, amountWei: parseEther('1') }])
    await expectRevert(fixture.claim(d, funded.jobId, tree, worker), 'ChallengeWindowOpen')
    await chain.increaseTime(CHALLENGE_WINDOW / 2n)
    await expectRevert(fixture.claim(d, funded.jobId, tree, worker), 'ChallengeWindowOpen')
    const open = await fixture.fundJob(d)
    await expectRevert(fixture.claim(d, open.jobId, tree, worker), 'WrongStatus', [JobStatus.Funded])
  })

  it('a root whose leaves add up to more than totalPayout cannot pay out other jobs’ escrow', async () => {
    const d = await fixture.deploy()
    const other = await fixture.fundJob(d, { value: parseEther('50') })
    const funded = await fixture.fundJob(d, { value: parseEther('10') })
    const [w0, w1] = d.workers as [Deployment['creator'], Deployment['creator']]
    // A faulty coordinator commits to 6 + 6 ETH but declares a total of 10.
    const tree = buildPayoutTree([
      { address: w0.address, amountWei: parseEther('6') },
      { address: w1.address, amountWei: parseEther('6') },
    ])
    await mined(d.as(d.validator).settle(funded.jobId, tree.root, parseEther('10'), 2, randomBytes32(), randomBytes32()))
    await chain.increaseTime(CHALLENGE_WINDOW)
    await fixture.claim(d, funded.jobId, tree, w0)
    await expectRevert(fixture.claim(d, funded.jobId, tree, w1), 'PayoutExceedsEscrow')
    expect((await d.contract.getJob(funded.jobId)).unclaimed).toBe(parseEther('4'))
    expect((await d.contract.getJob(other.jobId)).escrow).toBe(parseEther('50'))
  })
})

describe('settlements', () => {
  it('only the validator starts, settles and slashes', async () => {
    const d = await fixture.deploy()
    const { jobId } = await fixture.fundJob(d)
    await mined(d.as(d.workers[0]!).bond({ value: parseEther('1') }))
    const tree = buildPayoutTree([{ address: d.stranger.address, amountWei: parseEther('10') }])
    for (const impostor of [d.owner, d.creator, d.stranger]) {
      await expectRevert(d.as(impostor).markStarted(jobId), 'NotValidator')
      await expectRevert(d.as(impostor).settle(jobId, tree.root, tree.total, 1, randomBytes32(), randomBytes32()), 'NotValidator')
      await expectRevert(d.as(impostor).slash(d.workers[0]!.address, jobId, 1n, randomBytes32()), 'NotValidator')
    }
  })

  it('a settlement cannot be replayed, exceed the escrow, or commit to nothing', async () => {
    const d = await fixture.deploy()
    const { jobId } = await fixture.fundJob(d, { value: parseEther('10') })
    const tree = buildPayoutTree([{ address: d.workers[0]!.address, amountWei: parseEther('3') }])
    const args = [jobId, tree.root, tree.total, 1, randomBytes32(), randomBytes32()] as const

    await expectRevert(d.as(d.validator).settle(jobId, tree.root, parseEther('10') + 1n, 1, randomBytes32(), randomBytes32()), 'PayoutExceedsEscrow')
    await expectRevert(d.as(d.validator).settle(jobId, ZeroHash, tree.total, 1, randomBytes32(), randomBytes32()), 'EmptyPayoutRoot')
    await expectRevert(d.as(d.validator).settle(jobId, tree.root, tree.total, 0, randomBytes32(), randomBytes32()), 'EmptyPayoutRoot')
    await mined(d.as(d.validator).settle(...args))
    await expectRevert(d.as(d.validator).settle(...args), 'WrongStatus', [JobStatus.Settled])
    await expectRevert(d.as(d.validator).settle(randomJobId(), tree.root, tree.total, 1, randomBytes32(), randomBytes32()), 'UnknownJob')
    // The remainder was credited once.
    expect(await d.contract.credits(d.creator.address)).toBe(parseEther('7'))
  })

  it('jobs cannot be overwritten, funded with nothing, or given a past deadline; only the creator cancels', async () => {
    const d = await fixture.deploy()
    const funded = await fixture.fundJob(d, { value: parseEther('1') })
    const now = await chain.now()
    await expectRevert(d.as(d.stranger).createJob(funded.jobId, randomBytes32(), now + 1000n, { value: parseEther('99') }), 'JobExists')
    await expectRevert(d.as(d.stranger).createJob(randomJobId(), randomBytes32(), now + 1000n), 'ZeroAmount')
    await expectRevert(d.as(d.stranger).createJob(randomJobId(), randomBytes32(), now, { value: 1n }), 'BadDeadline')
    await expectRevert(d.as(d.stranger).cancelJob(funded.jobId), 'NotCreator')
    await expectRevert(d.as(d.stranger).cancelJob(randomJobId()), 'UnknownJob')
    expect((await d.contract.getJob(funded.jobId)).creator).toBe(d.creator.address)
  })
})

describe('bonds', () => {
  it('an unbonding stake is not withdrawn before its delay, and never twice', async () => {
    const d = await fixture.deploy()
    const worker = d.workers[0]!
    await mined(d.as(worker).bond({ value: parseEther('2') }))
    await expectRevert(d.as(worker).withdrawUnbonded(), 'ZeroAmount')
    const requested = await mined(d.as(worker).requestUnbond(parseEther('2')))
    const unlockAt = BigInt((await chain.provider.getBlock(requested.blockNumber))!.timestamp) + UNBONDING_DELAY
    await expectRevert(d.as(worker).withdrawUnbonded(), 'StillUnbonding', [unlockAt])
    await expectRevert(d.as(worker).requestUnbond(1n), 'InsufficientBond')
    await expectRevert(d.as(worker).requestUnbond(0n), 'ZeroAmount')
    await chain.increaseTime(UNBONDING_DELAY)
    await mined(d.as(worker).withdrawUnbonded())
    await expectRevert(d.as(worker).withdrawUnbonded(), 'ZeroAmount')
    await expectRevert(d.as(d.stranger).withdrawUnbonded(), 'ZeroAmount')
  })
})

describe('reentrancy through a receiver contract', () => {
  const reentrantArtifact = compileFixture('Reentrant.sol', 'Reentrant')
  const settlement = Interface.from(oblivionSettlementAbi)

  interface Attacker {
    contract: BaseContract & Record<string, (...args: unknown[]) => Promise<unknown>>
    address: string
    /** Calls the settlement contract as the attacker contract. */
    act(functionName: string, args?: unknown[], value?: bigint): Promise<unknown>
    arm(functionName: string, args: unknown[], bubble: boolean): Promise<unknown>
    /** Whether the armed reentry ran and how it ended. */
    outcome(): Promise<{ reentries: bigint; succeeded: boolean; revert: string | undefined }>
  }

  async function deployAttacker(d: Deployment): Promise<Attacker> {
    const factory = new ContractFactory(reentrantArtifact.abi, reentrantArtifact.bytecode, d.stranger)
    const contract = (await factory.deploy(d.address)) as Attacker['contract']
    await contract.waitForDeployment()
    const address = await contract.getAddress()
    return {
      contract,
      address,
      act: (name, args = [], value = 0n) =>
        mined(contract.act!(settlement.encodeFunctionData(name, args), { value }) as never),
      arm: (name, args, bubble) => mined(contract.arm!(settlement.encodeFunctionData(name, args), bubble) as never),
      async outcome() {
        const [reentries, succeeded, revertData] = (await Promise.all([
          contract.reentries!(),
          contract.reentrySucceeded!(),
          contract.reentryRevertData!(),
        ])) as [bigint, boolean, string]
        return { reentries, succeeded, revert: revertData === '0x' ? undefined : settlement.parseError(revertData)?.name }
      },
    }
  }

  /** Each way the contract pays its caller, set up with the attacker as the payee, and the calldata that triggers it. */
  const payments: Record<string, (d: Deployment, attacker: Attacker) => Promise<{ call: [string, unknown[]]; amount: bigint }>> = {
    claimPayout: async (d, attacker) => {
      const funded = await fixture.fundJob(d, { value: parseEther('5') })
      const { tree } = await fixture.settle(d, funded.jobId, [
        { address: attacker.address, amountWei: parseEther('2') },
        { address: d.workers[0]!.address, amountWei: parseEther('3') },
      ])
      await chain.increaseTime(CHALLENGE_WINDOW)
      return { call: ['claimPayout', [funded.jobId, parseEther('2'), tree.proofs.get(attacker.address)!]], amount: parseEther('2') }
    },
    withdrawUnbonded: async (_d, attacker) => {
      await attacker.act('bond', [], parseEther('3'))
      await attacker.act('requestUnbond', [parseEther('3')])
      await chain.increaseTime(UNBONDING_DELAY)
      return { call: ['withdrawUnbonded', []], amount: parseEther('3') }
    },
    withdrawCredits: async (d, attacker) => {
      const jobId = randomJobId()
      await attacker.act('createJob', [jobId, randomBytes32(), (await chain.now()) + 100n], parseEther('4'))
      await chain.increaseTime(101n)
      await mined(d.as(d.stranger).expireJob(jobId))
      return { call: ['withdrawCredits', []], amount: parseEther('4') }
    },
    cancelJob: async (_d, attacker) => {
      const jobId = randomJobId()
      await attacker.act('createJob', [jobId, randomBytes32(), (await chain.now()) + 10_000n], parseEther('1.5'))
      return { call: ['cancelJob', [jobId]], amount: parseEther('1.5') }
    },
  }

  for (const [payment, setUp] of Object.entries(payments)) {
    it(`${payment}: re-entering the same call from receive() reverts the whole payment`, async () => {
      const d = await fixture.deploy()
      const attacker = await deployAttacker(d)
      const { call } = await setUp(d, attacker)
      await attacker.arm(call[0], call[1], true)
      const before = await chain.provider.getBalance(d.address)
      const revert = await revertOf(attacker.act(call[0], call[1]))
      expect(revert.name).toBe('TransferFailed')
      expect(await chain.provider.getBalance(d.address)).toBe(before)
      expect(await chain.provider.getBalance(attacker.address)).toBe(0n)
    })

    it(`${payment}: a reentry whose failure the receiver swallows is refused and the payment made once`, async () => {
      const d = await fixture.deploy()
      const attacker = await deployAttacker(d)
      const { call, amount } = await setUp(d, attacker)
      await attacker.arm(call[0], call[1], false)
      const before = await chain.provider.getBalance(d.address)
      await attacker.act(call[0], call[1])
      expect(await attacker.outcome()).toEqual({ reentries: 1n, succeeded: false, revert: 'ReentrancyGuardReentrantCall' })
      expect(await chain.provider.getBalance(attacker.address)).toBe(amount)
      expect(await chain.provider.getBalance(d.address)).toBe(before - amount)
      // And the same call once more, outside any reentry, finds nothing left to take.
      const again = await revertOf(attacker.act(call[0], call[1]))
      expect(['AlreadyClaimed', 'ZeroAmount', 'WrongStatus']).toContain(again.name)
    })
  }

  it('a claim cannot re-enter another paying function either (credits, unbonded stake)', async () => {
    const d = await fixture.deploy()
    const attacker = await deployAttacker(d)
    // The attacker holds credits from an expired job and is owed a payout.
    const { call: withdrawCall, amount: credit } = await payments.withdrawCredits!(d, attacker)
    const { call: claimCall, amount: payout } = await payments.claimPayout!(d, attacker)
    await attacker.arm(withdrawCall[0], withdrawCall[1], false)
    await attacker.act(claimCall[0], claimCall[1])
    expect(await attacker.outcome()).toEqual({ reentries: 1n, succeeded: false, revert: 'ReentrancyGuardReentrantCall' })
    expect(await chain.provider.getBalance(attacker.address)).toBe(payout)
    expect(await d.contract.credits(attacker.address)).toBe(credit)
  })
})
