// How keys and proofs reach the chain (src/groth16/encoding.ts), checked against snarkjs itself:
// proof words equal exportSolidityCallData's, key words equal the constants of snarkjs' generated
// Solidity verifier; and the generic verifier library agrees with snarkjs on real proofs.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { ContractFactory, type BaseContract } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BN254_BASE_FIELD,
  Groth16EncodingError,
  encodeProof,
  encodeVerificationKey,
  proofHash,
  verificationKeyBytes,
  verificationKeyLength,
  type Groth16VerificationKeyJson,
} from '../src/groth16/encoding.ts'
import { compileFixture, startTestChain, type TestChain } from './support/chain.ts'
import { loadTinyStatement, releaseSnarkjs, snarkjs, type TinyProof, type TinyStatement } from './support/tiny-statement.ts'

let statement: TinyStatement
let proved: TinyProof

beforeAll(async () => {
  statement = await loadTinyStatement()
  proved = await statement.prove(statement.setups[0], 4n, 31337n)
})
afterAll(async () => releaseSnarkjs())

describe('encoding', () => {
  it("proof words are exportSolidityCallData's pA, pB, pC, flattened", async () => {
    const calldata = JSON.parse(`[${await snarkjs.groth16.exportSolidityCallData(proved.proof, proved.publicSignals)}]`) as [
      string[],
      string[][],
      string[],
      string[],
    ]
    expect(proved.words).toEqual([...calldata[0], ...calldata[1].flat(), ...calldata[2]].map((w) => BigInt(w)))
    expect(calldata[3].map((s) => BigInt(s))).toEqual([16n, proved.inputCommitment])
    expect(proofHash(proved.words)).toBe(proved.proofHash)
  })

  it("key words are the constants of snarkjs' generated verifier, in its order", async () => {
    const setup = statement.setups[0]
    // snarkjs' exports map hides its templates: go from its entry point (build/main.cjs) to the package root.
    const snarkjsRoot = path.dirname(path.dirname(createRequire(import.meta.url).resolve('snarkjs')))
    const template = readFileSync(path.join(snarkjsRoot, 'templates/verifier_groth16.sol.ejs'), 'utf8')
    const solidity = (await snarkjs.zKey.exportSolidityVerifier(setup.zkeyFile, { groth16: template })) as string
    const constant = (name: string) => BigInt(new RegExp(`uint256 constant ${name}\\s*=\\s*(\\d+);`).exec(solidity)![1]!)
    const names = ['alphax', 'alphay', 'betax1', 'betax2', 'betay1', 'betay2', 'gammax1', 'gammax2', 'gammay1', 'gammay2']
    names.push('deltax1', 'deltax2', 'deltay1', 'deltay2', 'IC0x', 'IC0y', 'IC1x', 'IC1y', 'IC2x', 'IC2y')
    expect(encodeVerificationKey(setup.vk)).toEqual(names.map(constant))
    expect(verificationKeyBytes(setup.vk).length).toBe(2 + 2 * verificationKeyLength(2))
    expect(verificationKeyLength(2)).toBe(640)
  })

  it('refuses keys and proofs of another curve or protocol, or of malformed points, saying what is wrong', () => {
    const vk = statement.setups[0].vk
    const refused = (f: () => unknown) => {
      try {
        f()
      } catch (error) {
        expect(error).toBeInstanceOf(Groth16EncodingError)
        return `${(error as Groth16EncodingError).code}: ${(error as Error).message}`
      }
      throw new Error('expected an error')
    }
    expect(refused(() => encodeVerificationKey({ ...vk, curve: 'bls12381' }))).toMatch(/GROTH16_BAD_KEY: .*curve must be 'bn128'/)
    expect(refused(() => encodeVerificationKey({ ...vk, protocol: 'plonk' }))).toMatch(/protocol must be 'groth16'/)
    expect(refused(() => encodeVerificationKey({ ...vk, nPublic: 3 }))).toMatch(/IC must hold nPublic \+ 1 = 4 points, got 3/)
    expect(refused(() => encodeVerificationKey({ ...vk, vk_alpha_1: [String(BN254_BASE_FIELD), '1', '1'] }))).toMatch(/vk_alpha_1\[0\].*not below the base field/)
    expect(refused(() => encodeVerificationKey({ ...vk, vk_alpha_1: [vk.vk_alpha_1[0]!, vk.vk_alpha_1[1]!, '2'] }))).toMatch(/projective z must be 1/)
    expect(refused(() => encodeVerificationKey({ ...vk, vk_beta_2: [vk.vk_beta_2[0]!] } as Groth16VerificationKeyJson))).toMatch(/vk_beta_2: expected a G2 point/)
    expect(refused(() => encodeVerificationKey({ ...vk, IC: [vk.IC[0]!, vk.IC[1]!, ['12', 'x', '1']] }))).toMatch(/IC\[2\]\[1\]: expected a decimal string/)
    expect(refused(() => encodeProof({ ...proved.proof, curve: 'bls12381' }))).toMatch(/GROTH16_BAD_PROOF: proof: curve/)
    expect(refused(() => encodeProof({ ...proved.proof, pi_c: ['1'] }))).toMatch(/pi_c: expected a G1 point/)
    expect(refused(() => proofHash([1n, 2n]))).toMatch(/expected 8/)
  })
})

describe('Groth16Verifier (the library, through a harness)', () => {
  let chain: TestChain
  let harness: BaseContract & {
    verify(key: string, proof: bigint[], publicSignals: bigint[]): Promise<boolean>
    isWellFormedKey(key: string, publicSignals: number): Promise<boolean>
  }

  beforeAll(async () => {
    chain = await startTestChain()
    const compiled = compileFixture('Groth16Harness.sol', 'Groth16Harness')
    const contract = await new ContractFactory(compiled.abi, compiled.bytecode, chain.wallets[0]).deploy()
    await contract.waitForDeployment()
    harness = contract as unknown as typeof harness
  })
  afterAll(async () => chain?.stop())

  it('accepts exactly what snarkjs accepts', async () => {
    const key = verificationKeyBytes(statement.setups[0].vk)
    const signals = proved.publicSignals.map((s) => BigInt(s))
    expect(await snarkjs.groth16.verify(statement.setups[0].vk, proved.publicSignals, proved.proof)).toBe(true)
    expect(await harness.verify(key, proved.words, signals)).toBe(true)
    const swapped = [signals[1]!, signals[0]!]
    expect(await snarkjs.groth16.verify(statement.setups[0].vk, swapped.map(String), proved.proof)).toBe(false)
    expect(await harness.verify(key, proved.words, swapped)).toBe(false)
    expect(await harness.verify(verificationKeyBytes(statement.setups[1].vk), proved.words, signals)).toBe(false)
  })

  it('returns false, never reverts, on a key of the wrong size, a wrong signal count or a malformed key', async () => {
    const key = verificationKeyBytes(statement.setups[0].vk)
    const signals = proved.publicSignals.map((s) => BigInt(s))
    expect(await harness.isWellFormedKey(key, 2)).toBe(true)
    expect(await harness.isWellFormedKey(key, 1)).toBe(false)
    expect(await harness.verify(key, proved.words, [signals[0]!])).toBe(false)
    expect(await harness.verify(key, proved.words, [...signals, 0n])).toBe(false)
    expect(await harness.verify(key.slice(0, -64), proved.words, signals)).toBe(false)
    // alpha1.x pushed to >= q: refused by the field check.
    const outOfField = `0x${(BigInt(key.slice(0, 66)) + BN254_BASE_FIELD).toString(16).padStart(64, '0')}${key.slice(66)}`
    expect(await harness.isWellFormedKey(outOfField, 2)).toBe(false)
    expect(await harness.verify(outOfField, proved.words, signals)).toBe(false)
    // alpha1 off the curve (y + 1): the pairing precompile fails, verify returns false.
    const offCurve = `${key.slice(0, 66)}${(BigInt(`0x${key.slice(66, 130)}`) + 1n).toString(16).padStart(64, '0')}${key.slice(130)}`
    expect(await harness.isWellFormedKey(offCurve, 2)).toBe(true)
    expect(await harness.verify(offCurve, proved.words, signals)).toBe(false)
  })
})
