/**
 * What the invariant fuzz asserts after every operation, as lists of human-readable mismatches
 * (empty = the chain agrees with the model), and the run's statistics.
 */
import type { ChainSnapshot, JobView, SentOperation } from './fuzz-chain.ts'
import { JobStatus, type ModelJob, type Operation, type Prediction, type SettlementModel } from './fuzz-model.ts'

export interface Step {
  index: number
  intent: string
  op: Operation
  /** the block timestamp the model evaluated the operation at */
  now: bigint
  prediction: Prediction
  sent: SentOperation
  before: ChainSnapshot
  after: ChainSnapshot
}

/** The operation's msg.value: what leaves the sender on success besides gas. */
function valueOf(op: Operation): bigint {
  return op.kind === 'createJob' || op.kind === 'bond' ? op.value : 0n
}

/**
 * The outcome and the money: the chain succeeded exactly when the model said so (and reverted
 * with one of the errors the model named), the contract holds what accountedBalance() says, and
 * every account's balance moved by what it was owed, minus the gas it paid, and nothing else.
 */
export function outcomeMismatches(step: Step, model: SettlementModel): string[] {
  const { op, prediction, sent, before, after } = step
  const problems: string[] = []
  const succeeded = sent.receipt.status === 1
  if (prediction.ok && !succeeded) problems.push(`the model expected success, the contract reverted with ${sent.revert}`)
  if (!prediction.ok && succeeded) problems.push(`the model expected a revert (${prediction.errors.join(' or ')}), the contract accepted it`)
  if (!prediction.ok && !succeeded) {
    const name = (sent.revert ?? '').replace(/\(.*$/, '')
    if (!prediction.errors.includes(name)) problems.push(`reverted with ${sent.revert}, expected ${prediction.errors.join(' or ')}`)
  }
  if (after.blockTimestamp !== step.now) problems.push(`block timestamp ${after.blockTimestamp}, the model assumed ${step.now}`)

  if (after.contractBalance !== after.accountedBalance) {
    problems.push(`contract balance ${after.contractBalance} != accountedBalance() ${after.accountedBalance} (off by ${after.contractBalance - after.accountedBalance})`)
  }
  const modelAccounted = model.accountedBalance()
  if (after.accountedBalance !== modelAccounted) {
    problems.push(`accountedBalance() ${after.accountedBalance}, the model accounts ${modelAccounted} (off by ${after.accountedBalance - modelAccounted})`)
  }

  const pushed = prediction.ok && succeeded ? prediction.pushedToSender : 0n
  const value = succeeded ? valueOf(op) : 0n
  const contractDelta = after.contractBalance - before.contractBalance
  if (contractDelta !== value - pushed) problems.push(`contract balance moved by ${contractDelta}, expected ${value - pushed}`)
  for (const [account, balance] of after.balances) {
    const delta = balance - before.balances.get(account)!
    const owed = account === op.from ? pushed - value - sent.gasCost : 0n
    if (delta !== owed) {
      const who = account === op.from ? 'the sender' : 'a bystander'
      problems.push(`${who} ${account} moved by ${delta} wei, it was owed ${owed} (gas ${account === op.from ? sent.gasCost : 0n})`)
    }
  }
  return problems
}

/** Every credit, bond, touched job and claim flag the snapshot read, against the model. */
export function stateMismatches(after: ChainSnapshot, model: SettlementModel): string[] {
  const problems: string[] = []
  for (const [account, credit] of after.credits) {
    if (credit !== model.creditOf(account)) problems.push(`credits(${account}) = ${credit}, the model says ${model.creditOf(account)}`)
  }
  for (const [account, bond] of after.bonds) {
    const expected = model.bondOf(account)
    if (bond.bonded !== expected.bonded || bond.unbonding !== expected.unbonding || (expected.unbonding > 0n && bond.unlockAt !== expected.unlockAt)) {
      problems.push(`bondOf(${account}) = ${show(bond)}, the model says ${show(expected)}`)
    }
  }
  for (const [jobId, view] of after.jobs) {
    const job = model.jobs.get(jobId)
    if (!job) continue
    for (const problem of jobMismatches(job, view)) problems.push(`getJob(${jobId}).${problem}`)
  }
  for (const [key, claimed] of after.claimed) {
    const [jobId, worker] = key.split(':') as [string, string]
    const expected = model.jobs.get(jobId)?.claimed.has(worker) ?? false
    if (claimed !== expected) problems.push(`isClaimed(${jobId}, ${worker}) = ${claimed}, the model says ${expected}`)
  }
  return problems
}

function jobMismatches(job: ModelJob, view: JobView): string[] {
  const problems: string[] = []
  const expect = (field: string, actual: unknown, expected: unknown) => {
    if (String(actual).toLowerCase() !== String(expected).toLowerCase()) problems.push(`${field} = ${actual}, the model says ${expected}`)
  }
  expect('creator', view.creator, job.creator)
  expect('status', view.status, job.status)
  expect('started', view.started, job.started)
  expect('deadline', view.deadline, job.deadline)
  expect('specHash', view.specHash, job.specHash)
  // Escrow, root and settledAt only mean something in some states; the contract may keep or zero
  // them elsewhere. unclaimed always counts in accountedBalance(), so it is checked everywhere.
  if (job.status === JobStatus.Funded) expect('escrow', view.escrow, job.escrow)
  if (job.status === JobStatus.Settled) {
    expect('payoutRoot', view.payoutRoot, job.payouts?.root)
    expect('settledAt', view.settledAt, job.settledAt)
  }
  expect('unclaimed', view.unclaimed, job.status === JobStatus.Settled ? job.unclaimed : 0n)
  return problems
}

function show(value: object): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
}

/** An operation as one line of JSON (bigints as strings, payout trees as their root and size). */
export function describeOperation(op: Operation): string {
  const printable = op.kind === 'settle' ? { ...op, payouts: { root: op.payouts.root, payees: Object.fromEntries(op.payouts.amounts) } } : op
  return show(printable)
}

interface Tally {
  sent: number
  succeeded: number
  reverted: number
  /** reverted, as the model predicted, with an error it named */
  revertedAsExpected: number
}

/** Counts per operation kind, per intent and per revert reason. */
export class FuzzStats {
  readonly byKind = new Map<string, Tally>()
  readonly byIntent = new Map<string, Tally>()
  readonly reverts = new Map<string, number>()

  record(step: Step): void {
    const succeeded = step.sent.receipt.status === 1
    const expectedRevert = !succeeded && !step.prediction.ok
    for (const [map, key] of [
      [this.byKind, step.op.kind],
      [this.byIntent, step.intent],
    ] as const) {
      const tally = map.get(key) ?? { sent: 0, succeeded: 0, reverted: 0, revertedAsExpected: 0 }
      tally.sent++
      if (succeeded) tally.succeeded++
      else tally.reverted++
      if (expectedRevert) tally.revertedAsExpected++
      map.set(key, tally)
    }
    if (!succeeded) this.reverts.set(step.sent.revert ?? '?', (this.reverts.get(step.sent.revert ?? '?') ?? 0) + 1)
  }

  totals(): Tally {
    const total = { sent: 0, succeeded: 0, reverted: 0, revertedAsExpected: 0 }
    for (const tally of this.byKind.values()) {
      total.sent += tally.sent
      total.succeeded += tally.succeeded
      total.reverted += tally.reverted
      total.revertedAsExpected += tally.revertedAsExpected
    }
    return total
  }

  /** A plain-text table for the test log. */
  report(): string {
    const rows = [...this.byKind.entries()].sort(([a], [b]) => a.localeCompare(b))
    const width = Math.max(...rows.map(([kind]) => kind.length), 5)
    const line = (name: string, t: Tally) =>
      `${name.padEnd(width)}  ${String(t.sent).padStart(5)}  ${String(t.succeeded).padStart(5)}  ${String(t.reverted).padStart(5)}  ${String(t.revertedAsExpected).padStart(5)}`
    return [
      `${'kind'.padEnd(width)}   sent     ok  revert  as-expected`,
      ...rows.map(([kind, tally]) => line(kind, tally)),
      line('total', this.totals()),
      `by intent (sent/ok): ${[...this.byIntent.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([intent, t]) => `${intent} ${t.sent}/${t.succeeded}`)
        .join(', ')}`,
      `reverts by reason: ${[...this.reverts.entries()].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${n}`).join(', ')}`,
    ].join('\n')
  }
}
