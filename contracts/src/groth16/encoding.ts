import { keccak256 } from 'ethers'

/**
 * How Groth16 verification keys and proofs (snarkjs JSON, BN254) travel to the chain: the words
 * `Groth16Verifier.sol` reads and `InferenceMarket` stores. Browser-safe (ethers only).
 *
 * - G1 point → [x, y].
 * - G2 point, snarkjs JSON [[x0, x1], [y0, y1], [1, 0]] → [x1, x0, y1, y0]: the pairing precompile
 *   (EIP-197) wants the imaginary part of each Fp2 coordinate first.
 * - Key words: alpha1 (2), beta2 (4), gamma2 (4), delta2 (4), IC[0..n] (2 each): 14 + 2(n + 1) words
 *   for n public signals (20 words, 640 bytes, for the market's 2). Key bytes: the words as 32-byte
 *   big-endian, concatenated; verificationKeyHash = keccak256(key bytes), what the market records.
 * - Proof words (uint256[8]): pi_a.x, pi_a.y, pi_b (4, same G2 order), pi_c.x, pi_c.y, exactly what
 *   snarkjs' `groth16.exportSolidityCallData` prints (a test checks).
 */

/** BN254's scalar field r: every public signal must be below it. */
export const SNARK_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n
/** BN254's base field q: every point coordinate must be below it. */
export const BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n
/** alpha1, beta2, gamma2, delta2. */
export const KEY_FIXED_WORDS = 14

/** A verification key as `snarkjs zkey export verificationkey` writes it (fields it ignores left out). */
export interface Groth16VerificationKeyJson {
  protocol: string
  curve: string
  nPublic: number
  vk_alpha_1: readonly (string | bigint)[]
  vk_beta_2: readonly (readonly (string | bigint)[])[]
  vk_gamma_2: readonly (readonly (string | bigint)[])[]
  vk_delta_2: readonly (readonly (string | bigint)[])[]
  IC: readonly (readonly (string | bigint)[])[]
}

/** A proof as `snarkjs.groth16.prove` / `fullProve` returns it. */
export interface Groth16ProofJson {
  pi_a: readonly (string | bigint)[]
  pi_b: readonly (readonly (string | bigint)[])[]
  pi_c: readonly (string | bigint)[]
  protocol?: string
  curve?: string
}

export class Groth16EncodingError extends Error {
  override name = 'Groth16EncodingError'
  constructor(
    readonly code: 'GROTH16_BAD_KEY' | 'GROTH16_BAD_PROOF',
    message: string,
  ) {
    super(message)
  }
}

type Code = Groth16EncodingError['code']

/** Key length in bytes for `publicSignals` public signals: (14 + 2(n + 1)) × 32. */
export function verificationKeyLength(publicSignals: number): number {
  return (KEY_FIXED_WORDS + 2 * (publicSignals + 1)) * 32
}

export function encodeVerificationKey(vk: Groth16VerificationKeyJson): bigint[] {
  const bad = (what: string): never => {
    throw new Groth16EncodingError('GROTH16_BAD_KEY', `verification key: ${what} (export it with \`snarkjs zkey export verificationkey\` from a Groth16 BN254 zkey)`)
  }
  if (vk === null || typeof vk !== 'object') bad(`expected an object, got ${JSON.stringify(vk)}`)
  if (vk.protocol !== 'groth16') bad(`protocol must be 'groth16', got ${JSON.stringify(vk.protocol)}`)
  if (vk.curve !== 'bn128') bad(`curve must be 'bn128' (BN254, the curve of the EVM's precompiles), got ${JSON.stringify(vk.curve)}`)
  if (!Number.isInteger(vk.nPublic) || vk.nPublic < 0) bad(`nPublic must be a whole number, got ${JSON.stringify(vk.nPublic)}`)
  if (!Array.isArray(vk.IC) || vk.IC.length !== vk.nPublic + 1) {
    bad(`IC must hold nPublic + 1 = ${vk.nPublic + 1} points, got ${Array.isArray(vk.IC) ? vk.IC.length : JSON.stringify(vk.IC)}`)
  }
  return [
    ...g1(vk.vk_alpha_1, 'vk_alpha_1', 'GROTH16_BAD_KEY'),
    ...g2(vk.vk_beta_2, 'vk_beta_2', 'GROTH16_BAD_KEY'),
    ...g2(vk.vk_gamma_2, 'vk_gamma_2', 'GROTH16_BAD_KEY'),
    ...g2(vk.vk_delta_2, 'vk_delta_2', 'GROTH16_BAD_KEY'),
    ...vk.IC.flatMap((point, i) => g1(point, `IC[${i}]`, 'GROTH16_BAD_KEY')),
  ]
}

/** The key as `InferenceMarket.listModel` takes it: 0x-prefixed hex of the words. */
export function verificationKeyBytes(vk: Groth16VerificationKeyJson): string {
  return wordsToHex(encodeVerificationKey(vk))
}

/** keccak256 of the key bytes: `getModel(id).verificationKeyHash`. */
export function verificationKeyHash(vk: Groth16VerificationKeyJson): string {
  return keccak256(verificationKeyBytes(vk))
}

/** The proof as `InferenceMarket.fulfil` takes it: uint256[8]. */
export function encodeProof(proof: Groth16ProofJson): bigint[] {
  if (proof === null || typeof proof !== 'object') {
    throw new Groth16EncodingError('GROTH16_BAD_PROOF', `proof: expected snarkjs' { pi_a, pi_b, pi_c }, got ${JSON.stringify(proof)}`)
  }
  if (proof.protocol !== undefined && proof.protocol !== 'groth16') {
    throw new Groth16EncodingError('GROTH16_BAD_PROOF', `proof: protocol must be 'groth16', got ${JSON.stringify(proof.protocol)}`)
  }
  if (proof.curve !== undefined && proof.curve !== 'bn128') {
    throw new Groth16EncodingError('GROTH16_BAD_PROOF', `proof: curve must be 'bn128', got ${JSON.stringify(proof.curve)}`)
  }
  return [
    ...g1(proof.pi_a, 'pi_a', 'GROTH16_BAD_PROOF'),
    ...g2(proof.pi_b, 'pi_b', 'GROTH16_BAD_PROOF'),
    ...g1(proof.pi_c, 'pi_c', 'GROTH16_BAD_PROOF'),
  ]
}

/** keccak256 of the 8 proof words (32-byte big-endian each): what `InferenceFulfilled` carries and anchor leaves commit to. */
export function proofHash(words: readonly bigint[]): string {
  if (words.length !== 8) throw new Groth16EncodingError('GROTH16_BAD_PROOF', `proof words: expected 8 (encodeProof's output), got ${words.length}`)
  return keccak256(wordsToHex(words))
}

function wordsToHex(words: readonly bigint[]): string {
  return `0x${words.map((word) => word.toString(16).padStart(64, '0')).join('')}`
}

/** A coordinate as a bigint below q. */
function coordinate(value: unknown, where: string, code: Code): bigint {
  let parsed: bigint | undefined
  if (typeof value === 'bigint') parsed = value
  else if (typeof value === 'string' && /^(0|[1-9][0-9]*|0x[0-9a-fA-F]+)$/.test(value)) parsed = BigInt(value)
  if (parsed === undefined) throw new Groth16EncodingError(code, `${where}: expected a decimal string or bigint, got ${JSON.stringify(value)}`)
  if (parsed >= BN254_BASE_FIELD) throw new Groth16EncodingError(code, `${where}: ${parsed} is not below the base field q (not a BN254 coordinate)`)
  return parsed
}

/** snarkjs G1 JSON [x, y] or [x, y, 1] (affine) → [x, y]. */
function g1(point: unknown, where: string, code: Code): bigint[] {
  if (!Array.isArray(point) || (point.length !== 2 && point.length !== 3)) {
    throw new Groth16EncodingError(code, `${where}: expected a G1 point [x, y, "1"], got ${JSON.stringify(point)}`)
  }
  if (point.length === 3 && coordinate(point[2], `${where}[2]`, code) !== 1n) {
    throw new Groth16EncodingError(code, `${where}: projective z must be 1 (snarkjs exports affine points), got ${String(point[2])}`)
  }
  return [coordinate(point[0], `${where}[0]`, code), coordinate(point[1], `${where}[1]`, code)]
}

/** snarkjs G2 JSON [[x0, x1], [y0, y1], [1, 0]] → [x1, x0, y1, y0] (imaginary part first). */
function g2(point: unknown, where: string, code: Code): bigint[] {
  const pair = (value: unknown, i: number): [bigint, bigint] => {
    if (!Array.isArray(value) || value.length !== 2) {
      throw new Groth16EncodingError(code, `${where}[${i}]: expected an Fp2 element [c0, c1], got ${JSON.stringify(value)}`)
    }
    return [coordinate(value[0], `${where}[${i}][0]`, code), coordinate(value[1], `${where}[${i}][1]`, code)]
  }
  if (!Array.isArray(point) || (point.length !== 2 && point.length !== 3)) {
    throw new Groth16EncodingError(code, `${where}: expected a G2 point [[x0, x1], [y0, y1], ["1", "0"]], got ${JSON.stringify(point)}`)
  }
  if (point.length === 3) {
    const [z0, z1] = pair(point[2], 2)
    if (z0 !== 1n || z1 !== 0n) throw new Groth16EncodingError(code, `${where}: projective z must be [1, 0] (snarkjs exports affine points)`)
  }
  const [x0, x1] = pair(point[0], 0)
  const [y0, y1] = pair(point[1], 1)
  return [x1, x0, y1, y0]
}
