/**
 * A plain-TypeScript model of OblivionSettlement for the invariant fuzz: what every job, bond and
 * credit should hold, and for each operation either the error it must revert with or the value it
 * must push to its sender. It is written from the interface (contracts/.contract-spec.tmp.md),
 * not from the Solidity, so a disagreement means one of the two is wrong.
 */

export const JobStatus = { None: 0, Funded: 1, Cancelled: 2, Expired: 3, Settled: 4 } as const
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus]

/** What the validator committed to in a settle: every payee's leaf and its proof. */
export interface SettledPayouts {
  root: string
  /** amount per payee, keyed by checksummed address */
  amounts: Map<string, bigint>
  proofs: Map<string, string[]>
}

export interface ModelJob {
  id: string
  creator: string
  status: JobStatus
  started: boolean
  escrow: bigint
  deadline: bigint
  specHash: string
  /** set while Settled */
  payouts: SettledPayouts | undefined
  settledAt: bigint
  unclaimed: bigint
  /** escrow − totalPayout, credited to the creator at settle, taken back by a dispute */
  remainder: bigint
  claimed: Set<string>
}

export interface ModelBond {
  bonded: bigint
  unbonding: bigint
  unlockAt: bigint
}

export type Operation =
  | { kind: 'createJob'; from: string; jobId: string; specHash: string; deadline: bigint; value: bigint }
  | { kind: 'markStarted'; from: string; jobId: string }
  | { kind: 'cancelJob'; from: string; jobId: string }
  | { kind: 'expireJob'; from: string; jobId: string }
  | {
      kind: 'settle'
      from: string
      jobId: string
      payouts: SettledPayouts
      totalPayout: bigint
      payoutCount: number
      modelCidHash: string
      metricsHash: string
    }
  | { kind: 'claimPayout'; from: string; jobId: string; amount: bigint; proof: string[] }
  | { kind: 'disputeSettlement'; from: string; jobId: string }
  | { kind: 'bond'; from: string; value: bigint }
  | { kind: 'requestUnbond'; from: string; amount: bigint }
  | { kind: 'withdrawUnbonded'; from: string }
  | { kind: 'slash'; from: string; worker: string; jobId: string; amount: bigint; evidenceHash: string }
  | { kind: 'withdrawCredits'; from: string }
  | { kind: 'setValidator'; from: string; validator: string }
  | { kind: 'transferOwnership'; from: string; newOwner: string }

export type OperationKind = Operation['kind']

/** The model's verdict on an operation, before it is sent. */
export type Prediction =
  | {
      ok: true
      /** value the contract sends to msg.sender (a refund, a claim, a withdrawal) */
      pushedToSender: bigint
      /** the state change, applied once the chain agreed */
      apply: () => void
    }
  | {
      ok: false
      /** every error the contract may revert with: each names one check the operation fails */
      errors: string[]
    }

/**
 * Timing rules at the exact boundary second. The interface says "block.timestamp > deadline" for
 * expiry and "after" for the rest; the fuzz lands on the boundaries on purpose, so the model spells
 * out which side each one falls on. Claims and disputes must never share a second: a claim paid
 * out and then disputed would count the job's escrow twice.
 */
export const TIME_RULES = {
  /** createJob needs deadline > now */
  deadlineInFuture: (deadline: bigint, now: bigint) => deadline > now,
  /** expireJob needs now > deadline */
  expired: (deadline: bigint, now: bigint) => now > deadline,
  /** claimPayout needs the window to be over */
  challengeWindowOver: (settledAt: bigint, window: bigint, now: bigint) => now >= settledAt + window,
  /** disputeSettlement needs the window to be open */
  challengeWindowOpen: (settledAt: bigint, window: bigint, now: bigint) => now < settledAt + window,
  /** withdrawUnbonded needs now ≥ unlockAt */
  unlocked: (unlockAt: bigint, now: bigint) => now >= unlockAt,
}

export class SettlementModel {
  readonly jobs = new Map<string, ModelJob>()
  readonly bonds = new Map<string, ModelBond>()
  readonly credits = new Map<string, bigint>()

  constructor(
    public owner: string,
    public validator: string,
    readonly unbondingDelay: bigint,
    readonly challengeWindow: bigint,
  ) {}

  bondOf(account: string): ModelBond {
    return this.bonds.get(account) ?? { bonded: 0n, unbonding: 0n, unlockAt: 0n }
  }

  creditOf(account: string): bigint {
    return this.credits.get(account) ?? 0n
  }

  /** What the contract must hold: the model's accountedBalance(). */
  accountedBalance(): bigint {
    let total = 0n
    for (const job of this.jobs.values()) {
      if (job.status === JobStatus.Funded) total += job.escrow
      if (job.status === JobStatus.Settled) total += job.unclaimed
    }
    for (const bond of this.bonds.values()) total += bond.bonded + bond.unbonding
    for (const credit of this.credits.values()) total += credit
    return total
  }

  /** The verdict on `op` if it is mined in a block with timestamp `now`. Does not change the model. */
  predict(op: Operation, now: bigint): Prediction {
    switch (op.kind) {
      case 'createJob':
        return this.createJob(op, now)
      case 'markStarted':
        return this.markStarted(op)
      case 'cancelJob':
        return this.cancelJob(op)
      case 'expireJob':
        return this.expireJob(op, now)
      case 'settle':
        return this.settle(op, now)
      case 'claimPayout':
        return this.claimPayout(op, now)
      case 'disputeSettlement':
        return this.disputeSettlement(op, now)
      case 'bond':
        return this.bond(op)
      case 'requestUnbond':
        return this.requestUnbond(op, now)
      case 'withdrawUnbonded':
        return this.withdrawUnbonded(op, now)
      case 'slash':
        return this.slash(op)
      case 'withdrawCredits':
        return this.withdrawCredits(op)
      case 'setValidator':
        return this.ownerOnly(op.from, op.validator, () => {
          this.validator = op.validator
        })
      case 'transferOwnership':
        return this.ownerOnly(op.from, op.newOwner, () => {
          this.owner = op.newOwner
        })
    }
  }

  private createJob(op: Extract<Operation, { kind: 'createJob' }>, now: bigint): Prediction {
    const errors: string[] = []
    if (op.value === 0n) errors.push('ZeroAmount')
    if (!TIME_RULES.deadlineInFuture(op.deadline, now)) errors.push('BadDeadline')
    if (this.jobs.has(op.jobId)) errors.push('JobExists')
    if (errors.length > 0) return { ok: false, errors }
    return succeed(0n, () => {
      this.jobs.set(op.jobId, {
        id: op.jobId,
        creator: op.from,
        status: JobStatus.Funded,
        started: false,
        escrow: op.value,
        deadline: op.deadline,
        specHash: op.specHash,
        payouts: undefined,
        settledAt: 0n,
        unclaimed: 0n,
        remainder: 0n,
        claimed: new Set(),
      })
    })
  }

  private markStarted(op: Extract<Operation, { kind: 'markStarted' }>): Prediction {
    const job = this.jobs.get(op.jobId)
    const errors: string[] = []
    if (op.from !== this.validator) errors.push('NotValidator')
    if (job === undefined) errors.push('UnknownJob')
    else {
      if (job.status !== JobStatus.Funded) errors.push('WrongStatus')
      else if (job.started) errors.push('AlreadyStarted')
    }
    if (errors.length > 0 || job === undefined) return { ok: false, errors }
    return succeed(0n, () => {
      job.started = true
    })
  }

  private cancelJob(op: Extract<Operation, { kind: 'cancelJob' }>): Prediction {
    const job = this.jobs.get(op.jobId)
    if (job === undefined) return { ok: false, errors: ['UnknownJob'] }
    const errors: string[] = []
    if (op.from !== job.creator) errors.push('NotCreator')
    if (job.status !== JobStatus.Funded) errors.push('WrongStatus')
    else if (job.started) errors.push('AlreadyStarted')
    if (errors.length > 0) return { ok: false, errors }
    return succeed(job.escrow, () => {
      job.status = JobStatus.Cancelled
    })
  }

  private expireJob(op: Extract<Operation, { kind: 'expireJob' }>, now: bigint): Prediction {
    const job = this.jobs.get(op.jobId)
    if (job === undefined) return { ok: false, errors: ['UnknownJob'] }
    const errors: string[] = []
    if (job.status !== JobStatus.Funded) errors.push('WrongStatus')
    if (!TIME_RULES.expired(job.deadline, now)) errors.push('NotExpired')
    if (errors.length > 0) return { ok: false, errors }
    return succeed(0n, () => {
      job.status = JobStatus.Expired
      this.credit(job.creator, job.escrow)
    })
  }

  private settle(op: Extract<Operation, { kind: 'settle' }>, now: bigint): Prediction {
    const job = this.jobs.get(op.jobId)
    const errors: string[] = []
    if (op.from !== this.validator) errors.push('NotValidator')
    if (job === undefined) errors.push('UnknownJob')
    else {
      if (job.status !== JobStatus.Funded) errors.push('WrongStatus')
      if (op.totalPayout > job.escrow) errors.push('PayoutExceedsEscrow')
      // a positive total with no root or no leaves could never be claimed
      if (op.totalPayout !== 0n && (/^0x0*$/.test(op.payouts.root) || op.payoutCount === 0)) errors.push('EmptyPayoutRoot')
    }
    if (errors.length > 0 || job === undefined) return { ok: false, errors }
    return succeed(0n, () => {
      job.status = JobStatus.Settled
      job.payouts = op.payouts
      job.settledAt = now
      job.unclaimed = op.totalPayout
      job.remainder = job.escrow - op.totalPayout
      this.credit(job.creator, job.remainder)
    })
  }

  private claimPayout(op: Extract<Operation, { kind: 'claimPayout' }>, now: bigint): Prediction {
    const job = this.jobs.get(op.jobId)
    if (job === undefined) return { ok: false, errors: ['UnknownJob', 'WrongStatus'] }
    if (job.status !== JobStatus.Settled || job.payouts === undefined) return { ok: false, errors: ['WrongStatus'] }
    const errors: string[] = []
    if (!TIME_RULES.challengeWindowOver(job.settledAt, this.challengeWindow, now)) errors.push('ChallengeWindowOpen')
    if (op.amount === 0n) errors.push('ZeroAmount')
    if (job.claimed.has(op.from)) errors.push('AlreadyClaimed')
    const leafAmount = job.payouts.amounts.get(op.from)
    const expectedProof = job.payouts.proofs.get(op.from)
    const validLeaf = leafAmount === op.amount && expectedProof !== undefined && sameProof(op.proof, expectedProof)
    if (!validLeaf) errors.push('InvalidProof')
    // A validator that declared less than its tree pays: the last claims find too little left, and
    // must not be paid out of other jobs' money.
    if (validLeaf && op.amount > job.unclaimed) errors.push('PayoutExceedsEscrow')
    if (errors.length > 0) return { ok: false, errors }
    return succeed(op.amount, () => {
      job.claimed.add(op.from)
      job.unclaimed -= op.amount
    })
  }

  private disputeSettlement(op: Extract<Operation, { kind: 'disputeSettlement' }>, now: bigint): Prediction {
    const job = this.jobs.get(op.jobId)
    const errors: string[] = []
    if (op.from !== this.owner) errors.push('NotOwner')
    if (job === undefined) errors.push('UnknownJob')
    else if (job.status !== JobStatus.Settled) errors.push('WrongStatus')
    else {
      if (!TIME_RULES.challengeWindowOpen(job.settledAt, this.challengeWindow, now)) errors.push('ChallengeWindowClosed')
      // "if the creator already withdrew it, revert"
      if (this.creditOf(job.creator) < job.remainder) errors.push('RemainderWithdrawn')
    }
    if (errors.length > 0 || job === undefined) return { ok: false, errors }
    return succeed(0n, () => {
      this.credit(job.creator, -job.remainder)
      job.status = JobStatus.Funded
      job.payouts = undefined
      job.settledAt = 0n
      job.unclaimed = 0n
      job.remainder = 0n
    })
  }

  private bond(op: Extract<Operation, { kind: 'bond' }>): Prediction {
    if (op.value === 0n) return { ok: false, errors: ['ZeroAmount'] }
    return succeed(0n, () => {
      const bond = this.bondOf(op.from)
      this.bonds.set(op.from, { ...bond, bonded: bond.bonded + op.value })
    })
  }

  private requestUnbond(op: Extract<Operation, { kind: 'requestUnbond' }>, now: bigint): Prediction {
    const bond = this.bondOf(op.from)
    const errors: string[] = []
    if (op.amount === 0n) errors.push('ZeroAmount')
    if (op.amount > bond.bonded) errors.push('InsufficientBond')
    if (errors.length > 0) return { ok: false, errors }
    return succeed(0n, () => {
      this.bonds.set(op.from, {
        bonded: bond.bonded - op.amount,
        unbonding: bond.unbonding + op.amount,
        unlockAt: now + this.unbondingDelay,
      })
    })
  }

  private withdrawUnbonded(op: Extract<Operation, { kind: 'withdrawUnbonded' }>, now: bigint): Prediction {
    const bond = this.bondOf(op.from)
    const errors: string[] = []
    if (bond.unbonding === 0n) errors.push('ZeroAmount')
    if (!TIME_RULES.unlocked(bond.unlockAt, now)) errors.push('StillUnbonding')
    if (errors.length > 0) return { ok: false, errors }
    return succeed(bond.unbonding, () => {
      this.bonds.set(op.from, { bonded: bond.bonded, unbonding: 0n, unlockAt: 0n })
    })
  }

  private slash(op: Extract<Operation, { kind: 'slash' }>): Prediction {
    const job = this.jobs.get(op.jobId)
    const errors: string[] = []
    if (op.from !== this.validator) errors.push('NotValidator')
    if (job === undefined) errors.push('UnknownJob')
    if (op.amount === 0n) errors.push('ZeroAmount')
    if (errors.length > 0 || job === undefined) return { ok: false, errors }
    const bond = this.bondOf(op.worker)
    const fromBonded = min(op.amount, bond.bonded)
    const fromUnbonding = min(op.amount - fromBonded, bond.unbonding)
    // slashing someone with no stake is refused rather than recorded as a zero slash
    if (fromBonded + fromUnbonding === 0n) return { ok: false, errors: ['InsufficientBond'] }
    return succeed(0n, () => {
      this.bonds.set(op.worker, {
        bonded: bond.bonded - fromBonded,
        unbonding: bond.unbonding - fromUnbonding,
        unlockAt: bond.unlockAt,
      })
      this.credit(job.creator, fromBonded + fromUnbonding)
    })
  }

  private withdrawCredits(op: Extract<Operation, { kind: 'withdrawCredits' }>): Prediction {
    const credit = this.creditOf(op.from)
    if (credit === 0n) return { ok: false, errors: ['ZeroAmount'] }
    return succeed(credit, () => {
      this.credits.set(op.from, 0n)
    })
  }

  private ownerOnly(from: string, newHolder: string, apply: () => void): Prediction {
    const errors: string[] = []
    if (from !== this.owner) errors.push('NotOwner')
    if (/^0x0{40}$/.test(newHolder)) errors.push('ZeroAddress')
    if (errors.length > 0) return { ok: false, errors }
    return succeed(0n, apply)
  }

  private credit(account: string, amount: bigint): void {
    this.credits.set(account, this.creditOf(account) + amount)
  }
}

function succeed(pushedToSender: bigint, apply: () => void): Prediction {
  return { ok: true, pushedToSender, apply }
}

function sameProof(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((node, i) => node.toLowerCase() === b[i]!.toLowerCase())
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
