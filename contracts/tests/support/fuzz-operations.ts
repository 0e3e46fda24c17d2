/**
 * The fuzz's operation planner: from the model's state, draws the next operation, mostly ones that
 * should succeed, the rest aimed at one check each (wrong role, wrong status, too early, forged
 * proof, too much). Every operation carries an `intent` label for the run's statistics.
 */
import { buildPayoutTree } from '../../src/merkle/payout-tree.ts'
import type { FuzzRandom } from './fuzz-random.ts'
import { JobStatus, TIME_RULES, type ModelJob, type Operation, type SettledPayouts, type SettlementModel } from './fuzz-model.ts'

export interface FuzzActors {
  owner: string
  validator: string
  creators: string[]
  workers: string[]
  /** holds no role, no job, no bond: every privileged call from it must revert */
  stranger: string
  /** a payee nobody holds the key of: its payout stays in the contract, accounted as unclaimed */
  absentPayee: string
  /** everyone above whose key the fuzz holds */
  everyone: string[]
}

export interface PlannedOperation {
  op: Operation
  /** e.g. "claimPayout:stolen-proof": what the draw aimed at */
  intent: string
  /** set when the operation's block gets this timestamp (evm_setNextBlockTimestamp) */
  advanceTo?: bigint
}

const ETHER = 10n ** 18n
const ZERO_HASH = `0x${'0'.repeat(64)}`

/** Operation kinds, weighted: fund-moving ones often, the role probes now and then. */
const KIND_WEIGHTS = {
  createJob: 13,
  markStarted: 6,
  cancelJob: 5,
  expireJob: 5,
  settle: 11,
  claimPayout: 15,
  disputeSettlement: 4,
  bond: 8,
  requestUnbond: 6,
  withdrawUnbonded: 5,
  slash: 5,
  withdrawCredits: 6,
  admin: 2,
} as const

export class OperationPlanner {
  constructor(
    private readonly random: FuzzRandom,
    private readonly model: SettlementModel,
    private readonly actors: FuzzActors,
  ) {}

  /**
   * The next operation, for a block whose timestamp is `lastTimestamp + 1` unless the plan jumps:
   * 10% of draws move the clock forward by a random stretch, 6% land exactly on a boundary second
   * (a deadline, the end of a challenge window, an unlock time, or one second either side) and
   * aim at the check that boundary decides.
   */
  next(lastTimestamp: bigint): PlannedOperation {
    const r = this.random
    if (r.chance(0.06)) {
      const probe = this.boundaryProbe(lastTimestamp)
      if (probe) return probe
    }
    let advanceTo: bigint | undefined
    if (r.chance(0.1)) advanceTo = lastTimestamp + BigInt(r.pick([r.int(2, 20), r.int(20, 120), r.int(120, 400)]))
    const now = advanceTo ?? lastTimestamp + 1n
    const planned = this.draw(now)
    return advanceTo === undefined ? planned : { ...planned, advanceTo }
  }

  private draw(now: bigint): PlannedOperation {
    switch (this.random.weighted(KIND_WEIGHTS)) {
      case 'createJob':
        return this.createJob(now)
      case 'markStarted':
        return this.markStarted()
      case 'cancelJob':
        return this.cancelJob()
      case 'expireJob':
        return this.expireJob(now)
      case 'settle':
        return this.settle()
      case 'claimPayout':
        return this.claimPayout(now)
      case 'disputeSettlement':
        return this.disputeSettlement(now)
      case 'bond':
        return this.bond()
      case 'requestUnbond':
        return this.requestUnbond()
      case 'withdrawUnbonded':
        return this.withdrawUnbonded()
      case 'slash':
        return this.slash()
      case 'withdrawCredits':
        return this.withdrawCredits()
      case 'admin':
        return this.admin()
    }
  }

  // ---- jobs ----

  private createJob(now: bigint): PlannedOperation {
    const r = this.random
    const from = r.chance(0.85) ? r.pick(this.actors.creators) : r.pick(this.actors.everyone)
    let intent = 'createJob:ok'
    let jobId = this.freshJobId()
    let value = this.amount(ETHER / 100n, 3n * ETHER)
    let deadline = now + BigInt(r.int(30, 600))
    const roll = r.next()
    if (roll < 0.04 && this.model.jobs.size > 0) {
      intent = 'createJob:id-taken'
      jobId = r.pick([...this.model.jobs.keys()])
    } else if (roll < 0.08) {
      intent = 'createJob:zero-value'
      value = 0n
    } else if (roll < 0.12) {
      intent = 'createJob:deadline-not-future'
      deadline = now - BigInt(r.int(0, 50))
    }
    return { intent, op: { kind: 'createJob', from, jobId, specHash: r.hex(32), deadline, value } }
  }

  private markStarted(): PlannedOperation {
    const fresh = this.jobsWhere((job) => job.status === JobStatus.Funded && !job.started)
    const { from, role } = this.privileged(this.model.validator, 0.1)
    const { jobId, which } = this.pickJob(fresh, 0.75)
    return { intent: `markStarted:${role ?? which}`, op: { kind: 'markStarted', from, jobId } }
  }

  private cancelJob(): PlannedOperation {
    const r = this.random
    const cancellable = this.jobsWhere((job) => job.status === JobStatus.Funded && !job.started)
    const { jobId, which } = this.pickJob(cancellable, 0.7)
    const job = this.model.jobs.get(jobId)
    if (job && r.chance(0.12)) {
      const from = r.pick(this.actors.everyone.filter((a) => a !== job.creator))
      return { intent: 'cancelJob:not-creator', op: { kind: 'cancelJob', from, jobId } }
    }
    return { intent: `cancelJob:${which}`, op: { kind: 'cancelJob', from: job?.creator ?? r.pick(this.actors.creators), jobId } }
  }

  private expireJob(now: bigint): PlannedOperation {
    const r = this.random
    const expirable = this.jobsWhere((job) => job.status === JobStatus.Funded && job.deadline < now)
    const { jobId, which } = this.pickJob(expirable, 0.65)
    return { intent: `expireJob:${which}`, op: { kind: 'expireJob', from: r.pick(this.actors.everyone), jobId } }
  }

  private settle(): PlannedOperation {
    const r = this.random
    const funded = this.jobsWhere((job) => job.status === JobStatus.Funded)
    const settled = this.jobsWhere((job) => job.status === JobStatus.Settled)
    const { from, role } = this.privileged(this.model.validator, 0.08)
    let jobId: string
    let which: string
    if (settled.length > 0 && r.chance(0.1)) {
      jobId = r.pick(settled).id
      which = 'replay'
    } else {
      ;({ jobId, which } = this.pickJob(funded, 0.85))
    }
    const escrow = this.model.jobs.get(jobId)?.escrow ?? ETHER
    // The payout total, against the escrow: within it, all of it, nothing, over it, a positive
    // total with no tree, or a declared total that disagrees with the tree (a validator bug the
    // contract must contain to this one job).
    const shape = r.weighted({ within: 64, exact: 10, nothing: 4, over: 12, 'no-root': 3, inconsistent: 7 })
    let totalPayout: bigint
    let tree: { settled: SettledPayouts; total: bigint; count: number }
    if (shape === 'nothing' || shape === 'no-root') {
      tree = { settled: { root: ZERO_HASH, amounts: new Map(), proofs: new Map() }, total: 0n, count: 0 }
      totalPayout = shape === 'nothing' ? 0n : r.bigint(1n, escrow)
    } else {
      const treeTotal = shape === 'exact' ? escrow : shape === 'over' ? escrow + r.bigint(1n, ETHER / 10n) : r.bigint(1n, escrow)
      tree = this.payoutTree(treeTotal)
      totalPayout = tree.total
      if (shape === 'inconsistent') {
        totalPayout = r.chance(0.5) ? r.bigint(0n, tree.total - 1n) : tree.total + r.bigint(1n, escrow)
        if (totalPayout > escrow) totalPayout = escrow
      }
    }
    return {
      intent: `settle:${role ?? (which === 'ok' ? shape : which)}`,
      op: {
        kind: 'settle',
        from,
        jobId,
        payouts: tree.settled,
        totalPayout,
        payoutCount: tree.count,
        modelCidHash: r.hex(32),
        metricsHash: r.hex(32),
      },
    }
  }

  /** A tree paying `total` wei in all to 1–5 payees: workers, sometimes the creator or an absent payee. */
  private payoutTree(total: bigint): { settled: SettledPayouts; total: bigint; count: number } {
    const r = this.random
    const payees = r.sample(this.actors.workers, r.int(1, this.actors.workers.length))
    if (r.chance(0.1)) payees.push(r.pick(this.actors.creators))
    if (r.chance(0.1)) payees.push(this.actors.absentPayee)
    const unique = [...new Set(payees)].slice(0, Number(total < 5n ? total : 5n))
    // Cut [0, total] at distinct random points: every payee gets at least 1 wei.
    const cuts = new Set<bigint>()
    while (cuts.size < unique.length - 1) cuts.add(r.bigint(1n, total - 1n))
    const bounds = [0n, ...[...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), total]
    const tree = buildPayoutTree(bounds.slice(1).map((end, i) => ({ address: unique[i]!, amountWei: end - bounds[i]! })))
    return { settled: { root: tree.root, amounts: tree.amounts, proofs: tree.proofs }, total: tree.total, count: tree.count }
  }

  private claimPayout(now: bigint): PlannedOperation {
    const r = this.random
    const window = this.model.challengeWindow
    const settled = this.jobsWhere((job) => job.status === JobStatus.Settled && job.payouts !== undefined)
    const payees = (job: ModelJob) => [...job.payouts!.amounts.keys()].filter((payee) => payee !== this.actors.absentPayee)
    const open = (job: ModelJob) => payees(job).filter((payee) => !job.claimed.has(payee))
    const done = (job: ModelJob) => payees(job).filter((payee) => job.claimed.has(payee))
    const over = (job: ModelJob) => TIME_RULES.challengeWindowOver(job.settledAt, window, now)
    // Each kind of claim, with the jobs it can be drawn from and the payees it picks there.
    const kinds = {
      valid: { weight: 55, jobs: settled.filter((job) => over(job) && open(job).length > 0), payees: open },
      early: { weight: 5, jobs: settled.filter((job) => !over(job) && open(job).length > 0), payees: open },
      duplicate: { weight: 10, jobs: settled.filter((job) => done(job).length > 0), payees: done },
      'wrong-amount': { weight: 8, jobs: settled.filter((job) => payees(job).length > 0), payees },
      'stolen-proof': { weight: 8, jobs: settled.filter((job) => payees(job).length > 0), payees },
      'random-proof': { weight: 8, jobs: settled.filter((job) => payees(job).length > 0), payees },
      'another-jobs-proof': { weight: 6, jobs: settled.filter((job) => payees(job).length > 0), payees },
    }
    const available = Object.fromEntries(Object.entries(kinds).filter(([, kind]) => kind.jobs.length > 0).map(([name, kind]) => [name, kind.weight]))
    if (Object.keys(available).length === 0 || r.chance(0.05)) {
      const { jobId, which } = this.pickJob([], 0)
      return { intent: `claimPayout:not-settled-${which}`, op: { kind: 'claimPayout', from: r.pick(this.actors.workers), jobId, amount: ETHER, proof: [r.hex(32)] } }
    }
    const name = r.weighted(available) as keyof typeof kinds
    const job = r.pick(kinds[name].jobs)
    const payee = r.pick(kinds[name].payees(job))
    const amount = job.payouts!.amounts.get(payee)!
    const proof = job.payouts!.proofs.get(payee)!
    switch (name) {
      case 'wrong-amount':
        return this.claim(name, job, payee, r.chance(0.5) ? amount + 1n : amount - 1n, proof)
      case 'stolen-proof':
        return this.claim(name, job, r.pick([this.actors.stranger, this.actors.owner, this.actors.validator]), amount, proof)
      case 'random-proof':
        return this.claim(name, job, payee, amount, proof.length === 0 ? [r.hex(32)] : proof.map(() => r.hex(32)))
      case 'another-jobs-proof': {
        const other = settled.find((candidate) => candidate !== job && candidate.payouts!.proofs.has(payee))
        if (other) return this.claim(name, job, payee, other.payouts!.amounts.get(payee)!, other.payouts!.proofs.get(payee)!)
        return this.claim('empty-proof', job, payee, amount, [])
      }
      default:
        return this.claim(name, job, payee, amount, proof)
    }
  }

  private claim(kind: string, job: ModelJob, from: string, amount: bigint, proof: string[]): PlannedOperation {
    return { intent: `claimPayout:${kind}`, op: { kind: 'claimPayout', from, jobId: job.id, amount, proof } }
  }

  private disputeSettlement(now: bigint): PlannedOperation {
    const r = this.random
    const open = this.jobsWhere((job) => job.status === JobStatus.Settled && TIME_RULES.challengeWindowOpen(job.settledAt, this.model.challengeWindow, now))
    const withdrawn = open.filter((job) => this.model.creditOf(job.creator) < job.remainder)
    const { from, role } = this.privileged(this.model.owner, 0.12)
    if (withdrawn.length > 0 && r.chance(0.5)) {
      return { intent: `disputeSettlement:${role ?? 'remainder-withdrawn'}`, op: { kind: 'disputeSettlement', from, jobId: r.pick(withdrawn).id } }
    }
    const settled = this.jobsWhere((job) => job.status === JobStatus.Settled)
    const { jobId, which } = open.length > 0 && r.chance(0.8) ? { jobId: r.pick(open).id, which: 'in-window' } : this.pickJob(settled, 0.7)
    return { intent: `disputeSettlement:${role ?? (which === 'ok' ? 'window-closed' : which)}`, op: { kind: 'disputeSettlement', from, jobId } }
  }

  // ---- bonds ----

  private bond(): PlannedOperation {
    const r = this.random
    const from = r.chance(0.85) ? r.pick(this.actors.workers) : r.pick(this.actors.everyone)
    if (r.chance(0.05)) return { intent: 'bond:zero', op: { kind: 'bond', from, value: 0n } }
    return { intent: 'bond:ok', op: { kind: 'bond', from, value: this.amount(ETHER / 100n, 2n * ETHER) } }
  }

  private requestUnbond(): PlannedOperation {
    const r = this.random
    const bonded = this.actors.everyone.filter((a) => this.model.bondOf(a).bonded > 0n)
    const from = bonded.length > 0 && r.chance(0.85) ? r.pick(bonded) : r.pick(this.actors.everyone)
    const held = this.model.bondOf(from).bonded
    const shape = r.weighted({ part: 65, all: 15, more: 12, zero: 8 })
    const amount = shape === 'zero' ? 0n : shape === 'all' ? held : shape === 'more' ? held + r.bigint(1n, ETHER) : r.bigint(1n, held > 0n ? held : 1n)
    return { intent: `requestUnbond:${shape}`, op: { kind: 'requestUnbond', from, amount } }
  }

  private withdrawUnbonded(): PlannedOperation {
    const r = this.random
    const unbonding = this.actors.everyone.filter((a) => this.model.bondOf(a).unbonding > 0n)
    const pending = unbonding.length > 0 && r.chance(0.9)
    const from = pending ? r.pick(unbonding) : r.pick(this.actors.everyone)
    return { intent: `withdrawUnbonded:${pending ? 'pending' : 'any'}`, op: { kind: 'withdrawUnbonded', from } }
  }

  private slash(): PlannedOperation {
    const r = this.random
    const { from, role } = this.privileged(this.model.validator, 0.1)
    const bonded = this.actors.everyone.filter((a) => {
      const bond = this.model.bondOf(a)
      return bond.bonded + bond.unbonding > 0n
    })
    const worker = bonded.length > 0 && r.chance(0.85) ? r.pick(bonded) : r.pick(this.actors.everyone)
    const { jobId, which } = this.pickJob([...this.model.jobs.values()], 0.92)
    const bond = this.model.bondOf(worker)
    const shape = r.weighted({ part: 60, 'past-bonded': 15, 'more-than-held': 15, zero: 5 })
    let amount: bigint
    if (shape === 'zero') amount = 0n
    else if (shape === 'part') amount = r.bigint(1n, bond.bonded > 0n ? bond.bonded : ETHER)
    else if (shape === 'past-bonded') amount = bond.bonded + r.bigint(1n, bond.unbonding > 0n ? bond.unbonding : ETHER)
    else amount = bond.bonded + bond.unbonding + r.bigint(1n, ETHER)
    return {
      intent: `slash:${role ?? (which === 'ok' ? shape : which)}`,
      op: { kind: 'slash', from, worker, jobId, amount, evidenceHash: r.hex(32) },
    }
  }

  // ---- credits and administration ----

  private withdrawCredits(): PlannedOperation {
    const r = this.random
    const owed = this.actors.everyone.filter((a) => this.model.creditOf(a) > 0n)
    const has = owed.length > 0 && r.chance(0.9)
    const from = has ? r.pick(owed) : r.pick(this.actors.everyone)
    return { intent: `withdrawCredits:${has ? 'owed' : 'any'}`, op: { kind: 'withdrawCredits', from } }
  }

  /** Owner-only calls, mostly from someone else; the owner's own calls keep the roles as they are. */
  private admin(): PlannedOperation {
    const r = this.random
    const { from, role } = this.privileged(this.model.owner, 0.85)
    if (r.chance(0.5)) {
      return { intent: `setValidator:${role ?? 'same'}`, op: { kind: 'setValidator', from, validator: role ? from : this.model.validator } }
    }
    return { intent: `transferOwnership:${role ?? 'same'}`, op: { kind: 'transferOwnership', from, newOwner: role ? from : this.model.owner } }
  }

  // ---- boundary seconds ----

  private boundaryProbe(lastTimestamp: bigint): PlannedOperation | undefined {
    const r = this.random
    const probes: PlannedOperation[] = []
    const at = (time: bigint) => time > lastTimestamp
    for (const job of this.model.jobs.values()) {
      if (job.status === JobStatus.Funded) {
        for (const offset of [0n, 1n]) {
          if (at(job.deadline + offset)) {
            probes.push({ intent: `expireJob:deadline+${offset}`, advanceTo: job.deadline + offset, op: { kind: 'expireJob', from: r.pick(this.actors.everyone), jobId: job.id } })
          }
        }
      }
      if (job.status === JobStatus.Settled && job.payouts) {
        const end = job.settledAt + this.model.challengeWindow
        const payee = [...job.payouts.amounts.keys()].find((p) => p !== this.actors.absentPayee && !job.claimed.has(p))
        for (const offset of [-1n, 0n, 1n]) {
          if (!at(end + offset)) continue
          const label = offset === 0n ? 'window-end' : offset < 0n ? 'window-end-1' : 'window-end+1'
          if (payee) {
            probes.push({
              intent: `claimPayout:${label}`,
              advanceTo: end + offset,
              op: { kind: 'claimPayout', from: payee, jobId: job.id, amount: job.payouts.amounts.get(payee)!, proof: job.payouts.proofs.get(payee)! },
            })
          }
          probes.push({ intent: `disputeSettlement:${label}`, advanceTo: end + offset, op: { kind: 'disputeSettlement', from: this.model.owner, jobId: job.id } })
        }
      }
    }
    for (const account of this.actors.everyone) {
      const bond = this.model.bondOf(account)
      if (bond.unbonding === 0n) continue
      for (const offset of [-1n, 0n, 1n]) {
        if (at(bond.unlockAt + offset)) {
          probes.push({ intent: `withdrawUnbonded:unlock${offset === 0n ? '' : offset < 0n ? '-1' : '+1'}`, advanceTo: bond.unlockAt + offset, op: { kind: 'withdrawUnbonded', from: account } })
        }
      }
    }
    return probes.length > 0 ? r.pick(probes) : undefined
  }

  // ---- helpers ----

  private jobsWhere(test: (job: ModelJob) => boolean): ModelJob[] {
    return [...this.model.jobs.values()].filter(test)
  }

  /** A job from `preferred` with probability p, else any known job, else an id never used. */
  private pickJob(preferred: ModelJob[], p: number): { jobId: string; which: string } {
    const r = this.random
    if (preferred.length > 0 && r.chance(p)) return { jobId: r.pick(preferred).id, which: 'ok' }
    if (this.model.jobs.size > 0 && r.chance(0.75)) {
      const job = r.pick([...this.model.jobs.values()])
      return { jobId: job.id, which: `status-${statusName(job.status)}${job.started ? '-started' : ''}` }
    }
    return { jobId: this.freshJobId(), which: 'unknown-job' }
  }

  /** The role holder, or (with probability `wrong`) anyone else, labelled "wrong-role". */
  private privileged(holder: string, wrong: number): { from: string; role: string | undefined } {
    if (!this.random.chance(wrong)) return { from: holder, role: undefined }
    return { from: this.random.pick(this.actors.everyone.filter((a) => a !== holder)), role: 'wrong-role' }
  }

  /** A job id as the coordinator makes them: a uuid's 16 bytes, right-aligned in bytes32. */
  private freshJobId(): string {
    return `0x${'0'.repeat(32)}${this.random.hex(16).slice(2)}`
  }

  /** A random amount with non-round low digits (round numbers hide off-by-one-wei bugs). */
  private amount(min: bigint, max: bigint): bigint {
    return this.random.bigint(min, max)
  }
}

function statusName(status: number): string {
  return ['none', 'funded', 'cancelled', 'expired', 'settled'][status] ?? String(status)
}
