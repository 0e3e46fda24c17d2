/**
 * The invariant fuzz's model of InferenceMarket, written from its interface: what each operation
 * should do (succeed, or revert with which error) and whom it pays, given the state and the block's
 * timestamp. The proof a fulfil carries is described by where it came from (a pre-made proof of
 * some input under some setup, possibly tampered), and the model decides itself whether it proves
 * [output, inputCommitment] under the request's model's key.
 */

export const SNARK_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n
const UINT96_MAX = (1n << 96n) - 1n

export const Status = { None: 0n, Open: 1n, Fulfilled: 2n, Refunded: 3n } as const

/** A pre-made proof: the tiny circuit proved for (x, salt) under setup 0 or 1. */
export interface PoolProof {
  setup: 0 | 1
  inputCommitment: bigint
  output: bigint
  words: bigint[]
}

export type MarketOp =
  | { kind: 'listModel'; from: string; setup: 0 | 1; wellFormedKey: boolean; price: bigint }
  | { kind: 'setPrice'; from: string; modelId: bigint; price: bigint }
  | { kind: 'setActive'; from: string; modelId: bigint; active: boolean }
  | { kind: 'request'; from: string; modelId: bigint; inputCommitment: bigint; value: bigint }
  /** `proof` is undefined for garbage words; `tampered` flips one word of it. */
  | { kind: 'fulfil'; from: string; requestId: bigint; output: bigint; proof: PoolProof | undefined; tampered: boolean }
  | { kind: 'refund'; from: string; requestId: bigint }
  | { kind: 'anchor'; from: string; modelId: bigint; root: string; count: number }

export interface ModelState {
  owner: string
  setup: 0 | 1
  price: bigint
  active: boolean
  fulfilled: bigint
}

export interface RequestState {
  buyer: string
  modelId: bigint
  price: bigint
  inputCommitment: bigint
  deadline: bigint
  status: bigint
  output: bigint
}

export interface Prediction {
  /** The custom error the contract should revert with, or undefined for success. */
  error: string | undefined
  /** Wei the contract sends to each account on success. */
  payouts: Map<string, bigint>
  /** Applies the operation to the model; call only when it succeeded on chain. */
  apply(): void
}

export class MarketModel {
  readonly models = new Map<bigint, ModelState>()
  readonly requests = new Map<bigint, RequestState>()
  readonly requestOfCommitment = new Map<bigint, bigint>()
  anchors = 0n

  constructor(readonly requestTimeout: bigint) {}

  /** What the contract owes: prices of Open requests. */
  escrow(): bigint {
    let sum = 0n
    for (const request of this.requests.values()) if (request.status === Status.Open) sum += request.price
    return sum
  }

  predict(op: MarketOp, now: bigint): Prediction {
    const refuse = (error: string): Prediction => ({ error, payouts: new Map(), apply: () => {} })
    const succeed = (apply: () => void, payouts = new Map<string, bigint>()): Prediction => ({ error: undefined, payouts, apply })
    switch (op.kind) {
      case 'listModel': {
        if (!op.wellFormedKey) return refuse('InvalidVerificationKey')
        if (op.price > UINT96_MAX) return refuse('AmountTooLarge')
        return succeed(() => {
          this.models.set(BigInt(this.models.size + 1), { owner: op.from, setup: op.setup, price: op.price, active: true, fulfilled: 0n })
        })
      }
      case 'setPrice':
      case 'setActive': {
        const model = this.models.get(op.modelId)
        if (!model) return refuse('UnknownModel')
        if (model.owner !== op.from) return refuse('NotModelOwner')
        if (op.kind === 'setPrice') {
          if (op.price > UINT96_MAX) return refuse('AmountTooLarge')
          return succeed(() => void (model.price = op.price))
        }
        return succeed(() => void (model.active = op.active))
      }
      case 'request': {
        const model = this.models.get(op.modelId)
        if (!model) return refuse('UnknownModel')
        if (!model.active) return refuse('ModelInactive')
        if (op.value !== model.price) return refuse('WrongPayment')
        if (op.inputCommitment >= SNARK_SCALAR_FIELD) return refuse('CommitmentOutOfField')
        if (this.requestOfCommitment.has(op.inputCommitment)) return refuse('CommitmentUsed')
        return succeed(() => {
          const requestId = BigInt(this.requests.size + 1)
          this.requests.set(requestId, {
            buyer: op.from,
            modelId: op.modelId,
            price: model.price,
            inputCommitment: op.inputCommitment,
            deadline: now + this.requestTimeout,
            status: Status.Open,
            output: 0n,
          })
          this.requestOfCommitment.set(op.inputCommitment, requestId)
        })
      }
      case 'fulfil': {
        const request = this.requests.get(op.requestId)
        if (!request) return refuse('UnknownRequest')
        if (request.status !== Status.Open) return refuse('WrongStatus')
        const model = this.models.get(request.modelId)!
        if (op.from !== model.owner) return refuse('NotModelOwner')
        if (now > request.deadline) return refuse('RequestExpired')
        const proof = op.proof
        const proves =
          proof !== undefined &&
          !op.tampered &&
          proof.setup === model.setup &&
          proof.inputCommitment === request.inputCommitment &&
          proof.output === op.output
        if (!proves) return refuse('InvalidProof')
        return succeed(
          () => {
            request.status = Status.Fulfilled
            request.output = op.output
            model.fulfilled += 1n
          },
          new Map([[op.from, request.price]]),
        )
      }
      case 'refund': {
        const request = this.requests.get(op.requestId)
        if (!request) return refuse('UnknownRequest')
        if (request.status !== Status.Open) return refuse('WrongStatus')
        if (op.from !== request.buyer) return refuse('NotBuyer')
        if (now <= request.deadline) return refuse('NotExpired')
        return succeed(() => void (request.status = Status.Refunded), new Map([[op.from, request.price]]))
      }
      case 'anchor': {
        const model = this.models.get(op.modelId)
        if (!model) return refuse('UnknownModel')
        if (model.owner !== op.from) return refuse('NotModelOwner')
        if (BigInt(op.root) === 0n || op.count === 0) return refuse('EmptyAnchor')
        return succeed(() => void (this.anchors += 1n))
      }
    }
  }
}
