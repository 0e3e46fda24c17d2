/**
 * Picks the market fuzz's next operation: mostly ones that should succeed (a valid proof for an open
 * request by its owner, a refund by the buyer after the deadline), mixed with every way to get it
 * wrong (wrong value, reused commitment, tampered or foreign proof, wrong caller, early refund, …).
 * It reads the model for what exists; it never decides the outcome (the model does).
 */
import { hexlify } from 'ethers'
import type { FuzzRandom } from './fuzz-random.ts'
import { SNARK_SCALAR_FIELD, Status, type MarketModel, type MarketOp, type PoolProof } from './market-fuzz-model.ts'

export interface MarketActors {
  owners: string[]
  buyers: string[]
  stranger: string
  everyone: string[]
}

const PRICES = [0n, 10n ** 15n, 25n * 10n ** 16n, 10n ** 18n + 7n]
const MAX_MODELS = 6

export class MarketPlanner {
  constructor(
    private readonly random: FuzzRandom,
    private readonly model: MarketModel,
    private readonly actors: MarketActors,
    private readonly pool: readonly PoolProof[],
  ) {}

  /** The next operation after `now`, and how many seconds to move the clock before it (usually 1). */
  next(now: bigint): { op: MarketOp; advance: bigint; intent: string } {
    const r = this.random
    const advance = r.chance(0.03) ? BigInt(r.int(Number(this.model.requestTimeout) / 2, Number(this.model.requestTimeout) * 2)) : 1n
    const hasModels = this.model.models.size > 0
    const kind = r.weighted({
      listModel: this.model.models.size < MAX_MODELS ? (hasModels ? 3 : 100) : 0.3,
      setPrice: 3,
      setActive: 3,
      request: 28,
      fulfil: 28,
      refund: 12,
      anchor: 5,
    })
    switch (kind) {
      case 'listModel': {
        const wellFormedKey = !r.chance(0.1)
        const price = r.chance(0.05) ? 1n << 96n : r.pick(PRICES)
        return { op: { kind, from: r.pick([...this.actors.owners, ...this.actors.buyers]), setup: r.chance(0.5) ? 0 : 1, wellFormedKey, price }, advance, intent: wellFormedKey ? 'list' : 'list a malformed key' }
      }
      case 'setPrice':
      case 'setActive': {
        const { modelId, from, intent } = this.modelAndCaller()
        if (kind === 'setPrice') return { op: { kind, from, modelId, price: r.chance(0.05) ? 1n << 96n : r.pick(PRICES) }, advance, intent }
        return { op: { kind, from, modelId, active: r.chance(0.85) }, advance, intent }
      }
      case 'anchor': {
        const { modelId, from, intent } = this.modelAndCaller()
        const root = r.chance(0.1) ? `0x${'00'.repeat(32)}` : r.hex(32)
        return { op: { kind, from, modelId, root, count: r.chance(0.05) ? 0 : r.int(1, 64) }, advance, intent }
      }
      case 'request':
        return { ...this.request(), advance }
      case 'fulfil':
        return { ...this.fulfil(now + advance), advance }
      case 'refund': {
        const requestId = this.pickRequest()
        const request = this.model.requests.get(requestId)
        const byBuyer = request !== undefined && r.chance(0.8)
        const from = byBuyer ? request.buyer : r.pick(this.actors.everyone)
        return { op: { kind, from, requestId }, advance, intent: byBuyer ? 'refund by the buyer' : 'refund by anyone' }
      }
    }
  }

  private modelAndCaller(): { modelId: bigint; from: string; intent: string } {
    const r = this.random
    const modelId = r.chance(0.05) ? BigInt(this.model.models.size + 1) : BigInt(r.int(1, Math.max(1, this.model.models.size)))
    const owner = this.model.models.get(modelId)?.owner
    const byOwner = owner !== undefined && r.chance(0.8)
    return { modelId, from: byOwner ? owner : r.pick(this.actors.everyone), intent: byOwner ? 'by the owner' : 'by anyone' }
  }

  private request(): { op: MarketOp; intent: string } {
    const r = this.random
    const modelId = r.chance(0.04) ? BigInt(this.model.models.size + 1) : BigInt(r.int(1, Math.max(1, this.model.models.size)))
    const model = this.model.models.get(modelId)
    const fresh = (setup: 0 | 1 | undefined) =>
      this.pool.filter((p) => (setup === undefined || p.setup === setup) && !this.model.requestOfCommitment.has(p.inputCommitment))
    let inputCommitment: bigint
    let intent: string
    const roll = r.next()
    const provable = model ? fresh(model.setup) : []
    if (roll < 0.65 && provable.length > 0) {
      inputCommitment = r.pick(provable).inputCommitment
      intent = 'request a provable input'
    } else if (roll < 0.75 && fresh(undefined).length > 0) {
      inputCommitment = r.pick(fresh(undefined)).inputCommitment
      intent = 'request an input proved under some setup'
    } else if (roll < 0.88 && this.model.requestOfCommitment.size > 0) {
      inputCommitment = r.pick([...this.model.requestOfCommitment.keys()])
      intent = 'request a used commitment'
    } else if (roll < 0.95) {
      inputCommitment = BigInt(r.hex(31))
      intent = 'request an input nobody can prove'
    } else {
      inputCommitment = SNARK_SCALAR_FIELD + BigInt(r.int(0, 1000))
      intent = 'request a commitment >= r'
    }
    const price = model?.price ?? r.pick(PRICES)
    const value = r.chance(0.85) ? price : r.pick([price + 1n, price > 0n ? price - 1n : 5n, 0n, price * 2n + 1n])
    return { op: { kind: 'request', from: r.pick(this.actors.buyers), modelId, inputCommitment, value }, intent: value === price ? intent : `${intent}, wrong value` }
  }

  private fulfil(at: bigint): { op: MarketOp; intent: string } {
    const r = this.random
    const answerable = [...this.model.requests].filter(([, q]) => q.status === Status.Open && q.deadline >= at).map(([id]) => id)
    const requestId = answerable.length > 0 && r.chance(0.7) ? r.pick(answerable) : this.pickRequest()
    const request = this.model.requests.get(requestId)
    const model = request && this.model.models.get(request.modelId)
    const byOwner = model !== undefined && r.chance(0.85)
    const from = byOwner ? model.owner : r.pick(this.actors.everyone)
    const matching = request && this.pool.find((p) => p.inputCommitment === request.inputCommitment && p.setup === model?.setup)
    const roll = r.next()
    let proof: PoolProof | undefined = matching
    let output = matching?.output ?? BigInt(r.int(0, 100))
    let tampered = false
    let intent = matching ? 'fulfil with its valid proof' : 'fulfil an unprovable request with some proof'
    if (!matching || roll >= 0.6) {
      if (matching && roll < 0.7) {
        output = matching.output + 1n
        intent = 'fulfil with a changed output'
      } else if (matching && roll < 0.8) {
        tampered = true
        intent = 'fulfil with a tampered proof word'
      } else if (roll < 0.95) {
        proof = r.pick(this.pool)
        output = proof.output
        intent = "fulfil with another input's proof"
      } else {
        proof = undefined
        intent = 'fulfil with garbage words'
      }
    }
    return { op: { kind: 'fulfil', from, requestId, output, proof, tampered }, intent: `${intent}${byOwner ? '' : ', not by the owner'}` }
  }

  /** Mostly an open request, sometimes any request or an unknown id. */
  private pickRequest(): bigint {
    const r = this.random
    const open = [...this.model.requests].filter(([, q]) => q.status === Status.Open).map(([id]) => id)
    if (open.length > 0 && r.chance(0.75)) return r.pick(open)
    if (this.model.requests.size > 0 && r.chance(0.9)) return BigInt(r.int(1, this.model.requests.size))
    return BigInt(this.model.requests.size + 1)
  }
}

/** Words for a fulfil op: the proof's, one flipped when tampered, or garbage. */
export function wordsFor(op: Extract<MarketOp, { kind: 'fulfil' }>, random: FuzzRandom): bigint[] {
  if (op.proof === undefined) return Array.from({ length: 8 }, () => BigInt(hexlify(random.hex(31))))
  const words = [...op.proof.words]
  if (op.tampered) {
    const i = random.int(0, 7)
    words[i] = words[i]! ^ BigInt(1 << random.int(0, 30))
  }
  return words
}
