// The buyer's side of the marketplace statement: a Poseidon commitment to a quantized input and
// a random salt. Pure JS (poseidon-lite equals circomlib's Poseidon(n)), so it runs in the
// browser: a buyer needs only {inputSize, inputBits} from the public manifest, never the weights.
import * as poseidon from 'poseidon-lite'
import { BN254_PRIME } from './field.ts'

/** circomlib's Poseidon takes at most 16 inputs. */
export const POSEIDON_MAX_INPUTS = 16
/**
 * Bits packed into one field element: r ≈ 2^253.6, so 252 bits never wrap and the packing is
 * injective (the circuit range-checks every input to inputBits, so no value spills into its
 * neighbour).
 */
export const PACKED_BITS_PER_ELEMENT = 252

/** How quantized inputs become Poseidon inputs; the public manifest carries it. */
export interface InputPacking {
  inputSize: number
  inputBits: number
  /** P = floor(252 / inputBits) inputs per field element; element k = Σ_j in[kP+j]·2^(inputBits·j). */
  valuesPerChunk: number
  /** ceil(inputSize / P) field elements. */
  chunks: number
  /**
   * 0: one Poseidon(chunks…, salt) (chunks + 1 ≤ 16). Otherwise the chunks are hashed in groups
   * of up to 16 (Poseidon each) and the commitment is Poseidon(groupHashes…, salt).
   */
  groups: number
}

export class InputCommitmentError extends Error {
  override readonly name = 'InputCommitmentError'
}

export function inputPacking(model: { inputSize: number; inputBits: number }): InputPacking {
  const { inputSize, inputBits } = model
  if (!Number.isInteger(inputSize) || inputSize < 1) throw new InputCommitmentError(`inputSize must be a positive integer, got ${inputSize}`)
  if (!Number.isInteger(inputBits) || inputBits < 1 || inputBits > PACKED_BITS_PER_ELEMENT) {
    throw new InputCommitmentError(`inputBits must be an integer from 1 to ${PACKED_BITS_PER_ELEMENT}, got ${inputBits}`)
  }
  const valuesPerChunk = Math.floor(PACKED_BITS_PER_ELEMENT / inputBits)
  const chunks = Math.ceil(inputSize / valuesPerChunk)
  const groups = chunks + 1 <= POSEIDON_MAX_INPUTS ? 0 : Math.ceil(chunks / POSEIDON_MAX_INPUTS)
  if (groups + 1 > POSEIDON_MAX_INPUTS) {
    throw new InputCommitmentError(
      `${inputSize} inputs of ${inputBits} bits pack into ${chunks} field elements = ${groups} Poseidon groups; at most ${POSEIDON_MAX_INPUTS - 1} ` +
        `groups fit the final hash (about ${(POSEIDON_MAX_INPUTS - 1) * POSEIDON_MAX_INPUTS * valuesPerChunk} inputs): use fewer inputs or a smaller scale`,
    )
  }
  return { inputSize, inputBits, valuesPerChunk, chunks, groups }
}

/** The field elements the commitment hashes; throws on inputs the circuit would reject. */
export function packInput(packing: InputPacking, quantizedInput: ArrayLike<number>): bigint[] {
  if (quantizedInput.length !== packing.inputSize) {
    throw new InputCommitmentError(`the model takes ${packing.inputSize} inputs, got ${quantizedInput.length}`)
  }
  const max = 2 ** packing.inputBits - 1
  const chunks = new Array<bigint>(packing.chunks).fill(0n)
  for (let i = 0; i < packing.inputSize; i++) {
    const value = quantizedInput[i]!
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new InputCommitmentError(`quantized input ${i} is ${value}; the circuit accepts integers in [0, ${max}] (use quantizeInput)`)
    }
    const k = Math.floor(i / packing.valuesPerChunk)
    chunks[k] = chunks[k]! + (BigInt(value) << BigInt(packing.inputBits * (i % packing.valuesPerChunk)))
  }
  return chunks
}

/** The inverse of packInput (for tests and audits). */
export function unpackInput(packing: InputPacking, chunks: readonly bigint[]): number[] {
  const mask = (1n << BigInt(packing.inputBits)) - 1n
  return Array.from({ length: packing.inputSize }, (_, i) => {
    const chunk = chunks[Math.floor(i / packing.valuesPerChunk)]
    if (chunk === undefined) throw new InputCommitmentError(`expected ${packing.chunks} chunks, got ${chunks.length}`)
    return Number((chunk >> BigInt(packing.inputBits * (i % packing.valuesPerChunk))) & mask)
  })
}

/**
 * The public input `inputCommitment` of a marketplace circuit (circuit.ts): Poseidon of the
 * packed quantized input and the buyer's salt. Equal inputs with different salts give unlinkable
 * commitments, so the salt must be fresh per request (randomSalt).
 */
export function commitInput(model: { inputSize: number; inputBits: number }, quantizedInput: ArrayLike<number>, salt: bigint): bigint {
  checkSalt(salt)
  const packing = inputPacking(model)
  const chunks = packInput(packing, quantizedInput)
  if (packing.groups === 0) return poseidonHash([...chunks, salt])
  const groupHashes: bigint[] = []
  for (let g = 0; g < packing.groups; g++) groupHashes.push(poseidonHash(chunks.slice(g * POSEIDON_MAX_INPUTS, (g + 1) * POSEIDON_MAX_INPUTS)))
  return poseidonHash([...groupHashes, salt])
}

/** A uniformly random field element (254 random bits, rejection-sampled below r: ~76% accepted). */
export function randomSalt(): bigint {
  const bytes = new Uint8Array(32)
  for (;;) {
    globalThis.crypto.getRandomValues(bytes)
    bytes[0]! &= 0x3f
    let value = 0n
    for (const byte of bytes) value = (value << 8n) | BigInt(byte)
    if (value < BN254_PRIME) return value
  }
}

export function checkSalt(salt: bigint): void {
  if (typeof salt !== 'bigint' || salt < 0n || salt >= BN254_PRIME) {
    throw new InputCommitmentError(`the salt must be a bigint in [0, r) (BN254's scalar field), got ${String(salt)}: use randomSalt()`)
  }
}

type PoseidonFunction = (inputs: bigint[]) => bigint
const POSEIDON_BY_ARITY = poseidon as unknown as Record<string, PoseidonFunction | undefined>

function poseidonHash(inputs: bigint[]): bigint {
  const hash = POSEIDON_BY_ARITY[`poseidon${inputs.length}`]
  if (!hash) throw new InputCommitmentError(`no Poseidon for ${inputs.length} inputs (1 to ${POSEIDON_MAX_INPUTS})`)
  return hash(inputs)
}
