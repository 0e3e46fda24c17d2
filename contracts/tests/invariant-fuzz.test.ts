/**
 * Invariant fuzz of OblivionSettlement on anvil: a seeded random sequence of operations from
 * creators, workers, the validator, the owner and a stranger, each one checked against a model
 * of the contract written from its interface. After every operation:
 *   - the contract's balance equals accountedBalance(), and both equal the model's total;
 *   - every account's balance moved by exactly what the model says it was owed, minus its gas
 *     (gasUsed × gasPrice from the receipt); reverted operations move only the sender's gas;
 *   - the operation succeeded or reverted as the model predicted, with an error the model named;
 *   - credits, bonds, the touched job and claim flags read back as the model has them.
 *
 * FUZZ_SEED=<n> replays a run; FUZZ_OPS=<n> changes its length (default 1,000);
 * FUZZ_ARTIFACT=<file> runs it against another build of the contract (a deliberately broken copy
 * shows what the fuzz catches: each of six seeded bugs tried so far failed it within 550 operations).
 */
import { getAddress } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FuzzChain, type ClaimLeaf } from './support/fuzz-chain.ts'
import { describeOperation, FuzzStats, outcomeMismatches, stateMismatches, type Step } from './support/fuzz-invariants.ts'
import { JobStatus, SettlementModel } from './support/fuzz-model.ts'
import { OperationPlanner, type FuzzActors } from './support/fuzz-operations.ts'
import { FuzzRandom, fuzzSeed } from './support/fuzz-random.ts'

const SEED = fuzzSeed(process.env.FUZZ_SEED)
const OPERATIONS = operationCount(process.env.FUZZ_OPS)
const UNBONDING_DELAY = 100n
const CHALLENGE_WINDOW = 60n
/** Every job is read back at this period too, not only the one an operation touched. */
const FULL_CHECK_EVERY = 100

describe(`OblivionSettlement under ${OPERATIONS} random operations (seed ${SEED})`, () => {
  let chain: FuzzChain

  beforeAll(async () => {
    chain = await FuzzChain.start({ ownerIndex: 0, validatorIndex: 1, unbondingDelay: UNBONDING_DELAY, challengeWindow: CHALLENGE_WINDOW })
  }, 60_000)

  afterAll(async () => {
    await chain?.stop()
  })

  it('holds exactly what it owes and pays every account only what it is owed, after every operation', async () => {
    console.log(`invariant fuzz: seed ${SEED}, ${OPERATIONS} operations (replay with FUZZ_SEED=${SEED})`)
    const startedAt = performance.now()
    const addresses = [...chain.wallets.keys()]
    const actors: FuzzActors = {
      owner: addresses[0]!,
      validator: addresses[1]!,
      creators: addresses.slice(2, 4),
      workers: addresses.slice(4, 8),
      stranger: addresses[8]!,
      absentPayee: getAddress('0x000000000000000000000000000000000000dEaD'),
      everyone: addresses.slice(0, 9),
    }
    const watched = [...actors.everyone, actors.absentPayee]
    const model = new SettlementModel(actors.owner, actors.validator, UNBONDING_DELAY, CHALLENGE_WINDOW)
    const random = new FuzzRandom(SEED)
    const planner = new OperationPlanner(random, model, actors)
    const stats = new FuzzStats()
    const recent: string[] = []

    let before = await chain.snapshot(await chain.latestBlockNumber(), watched, [], [])
    expect(before.contractBalance).toBe(0n)
    for (let index = 0; index < OPERATIONS; index++) {
      const { op, intent, advanceTo } = planner.next(chain.lastTimestamp)
      const now = advanceTo ?? chain.lastTimestamp + 1n
      const prediction = model.predict(op, now)
      const sent = await chain.send(op, advanceTo)
      if (prediction.ok && sent.receipt.status === 1) prediction.apply()

      const jobIds = index % FULL_CHECK_EVERY === FULL_CHECK_EVERY - 1 ? [...model.jobs.keys()] : 'jobId' in op && model.jobs.has(op.jobId) ? [op.jobId] : []
      const claims = op.kind === 'claimPayout' ? leavesOf(model, op.jobId).filter((leaf) => leaf.worker === op.from) : []
      const after = await chain.snapshot(sent.receipt.blockNumber, watched, jobIds, claims)
      const step: Step = { index, intent, op, now, prediction, sent, before, after }
      stats.record(step)

      recent.push(`#${index} t=${now} ${intent} ${sent.receipt.status === 1 ? 'ok' : `reverted ${sent.revert}`}: ${describeOperation(op)}`)
      if (recent.length > 12) recent.shift()
      const problems = [...outcomeMismatches(step, model), ...stateMismatches(after, model)]
      if (problems.length > 0) {
        console.log(`invariant fuzz failed at operation #${index} (FUZZ_SEED=${SEED}). Last operations:\n${recent.join('\n')}`)
      }
      expect(problems, `operation #${index} ${intent}: ${describeOperation(op)} (replay: FUZZ_SEED=${SEED})`).toEqual([])
      before = after
    }

    const seconds = (performance.now() - startedAt) / 1000
    console.log(`invariant fuzz: ${OPERATIONS} operations in ${seconds.toFixed(1)} s, seed ${SEED}\n${stats.report()}`)
    const totals = stats.totals()
    expect(totals.sent).toBe(OPERATIONS)
    // Both sides of the model get exercised: many successes and many refusals.
    expect(totals.succeeded).toBeGreaterThan(OPERATIONS / 4)
    expect(totals.revertedAsExpected).toBeGreaterThan(OPERATIONS / 10)
    // The closing check: everything the model holds, job by job, reads back from the chain.
    const everyLeaf = [...model.jobs.keys()].flatMap((jobId) => leavesOf(model, jobId))
    const last = await chain.snapshot(await chain.latestBlockNumber(), watched, [...model.jobs.keys()], everyLeaf)
    expect(stateMismatches(last, model)).toEqual([])
  }, 600_000)
})

/** The payout leaves of a Settled job, as the model holds them (none for other states). */
function leavesOf(model: SettlementModel, jobId: string): ClaimLeaf[] {
  const job = model.jobs.get(jobId)
  if (job?.status !== JobStatus.Settled || job.payouts === undefined) return []
  return [...job.payouts.amounts].map(([worker, amount]) => ({ jobId, worker, amount, proof: job.payouts!.proofs.get(worker)! }))
}

function operationCount(env: string | undefined): number {
  if (env === undefined || env === '') return 1000
  const count = Number(env)
  if (!Number.isInteger(count) || count < 1) throw new Error(`FUZZ_OPS must be a positive whole number, got ${JSON.stringify(env)}`)
  return count
}
