import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildZkModel, loadZkModel, type ZkModel } from '../../src/zk/artifacts.node.ts'
import { generateCircuit, MARKETPLACE_CIRCUIT } from '../../src/zk/circuit.ts'
import { compileCircuit, releaseSnarkjs } from '../../src/zk/compile.node.ts'
import { BN254_PRIME } from '../../src/zk/field.ts'
import { commitInput } from '../../src/zk/input-commitment.ts'
import { createProver, verifyInference, type Groth16Proof, type InferenceProof, type Prover } from '../../src/zk/prover.node.ts'
import { DEFAULT_PTAU_FILE } from '../../src/zk/ptau.node.ts'
import { quantizeInput, quantizeMlp } from '../../src/zk/quantize.ts'
import { inferQuantized } from '../../src/zk/reference.ts'
import { applyBeacon, contribute, exportVerificationKey, newZkey, type VerificationKey } from '../../src/zk/setup.node.ts'
import { randomMlp, trainZkMnistFixture, type ZkMnistFixture } from '../support/zk-mnist-model.ts'

// ONE build (train, compile, phase-2 setup) of a 196-16-10 MNIST model for the whole file, plus a
// tiny second model's setup whose verification key must not accept the first model's proofs.
const BEACON = '5f1c3a0e9b7d2c4f6a8e1b3d5c7f9a2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a'
let dir: string
let fixture: ZkMnistFixture
let built: ZkModel
let prover: Prover
let otherVerificationKey: VerificationKey
let input: number[]
let proved: InferenceProof

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'oblivion-zk-market-'))
  fixture = await trainZkMnistFixture()
  built = await buildZkModel({
    weights: fixture.weights,
    normalization: fixture.normalization,
    test: fixture.test,
    outDir: path.join(dir, 'mnist'),
    contribution: { name: 'oblivion coordinator' },
    beacon: { hash: BEACON, name: 'block 0x5f1c…1f3a' },
  })
  const other = quantizeMlp(randomMlp([8, 4, 3], ['relu', 'softmax']), { kind: 'none', offset: new Float32Array(8), scale: new Float32Array(8).fill(1) })
  const compiled = await compileCircuit(generateCircuit(other, MARKETPLACE_CIRCUIT), { outDir: path.join(dir, 'other') })
  // The setup's steps one by one, as separate machines would run them (no verifySetup: ~10 s).
  const zkey = (step: number) => path.join(dir, 'other', `other_${step}.zkey`)
  await newZkey(compiled.r1csFile, DEFAULT_PTAU_FILE, zkey(0))
  await contribute(zkey(0), zkey(1), { name: 'oblivion coordinator' })
  await applyBeacon(zkey(1), zkey(2), { hash: BEACON })
  otherVerificationKey = await exportVerificationKey(zkey(2))
  prover = await createProver(built.dir)
  input = quantizeInput(built.model!, fixture.test.features.subarray(0, 196))
  proved = await prover.prove(input, 123456789n)
})

afterAll(async () => {
  await prover?.close()
  await releaseSnarkjs()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('a marketplace proof of one 196-16-10 MNIST inference', () => {
  it('verifies off chain, with public signals [predicted, inputCommitment] and predicted equal to the integer reference', async () => {
    const model = built.model!
    expect(proved.publicSignals).toEqual([String(inferQuantized(model, input).predicted), commitInput(model, input, 123456789n).toString()])
    expect(proved.predicted).toBe(inferQuantized(model, input).predicted)
    expect(proved.logits).toEqual(inferQuantized(model, input).logits)
    expect(built.verificationKey.nPublic).toBe(2)
    expect(await verifyInference(built.verificationKey, proved.publicSignals, proved.proof)).toBe(true)
  })

  it('fails for a changed prediction or commitment, any changed proof coordinate, or another model’s key', async () => {
    const { proof, publicSignals } = proved
    const otherClass = String((Number(publicSignals[0]) + 1) % 10)
    expect(await verifyInference(built.verificationKey, [otherClass, publicSignals[1]!], proof)).toBe(false)
    expect(await verifyInference(built.verificationKey, [publicSignals[0]!, String(BigInt(publicSignals[1]!) + 1n)], proof)).toBe(false)
    // The same input under another salt: a valid commitment, but not the one proved.
    expect(await verifyInference(built.verificationKey, [publicSignals[0]!, commitInput(built.model!, input, 1n).toString()], proof)).toBe(false)
    const coordinates: Array<(p: Groth16Proof) => void> = [
      (p) => (p.pi_a[0] = bump(p.pi_a[0]!)),
      (p) => (p.pi_a[1] = bump(p.pi_a[1]!)),
      (p) => (p.pi_b[0]![0] = bump(p.pi_b[0]![0]!)),
      (p) => (p.pi_b[0]![1] = bump(p.pi_b[0]![1]!)),
      (p) => (p.pi_b[1]![0] = bump(p.pi_b[1]![0]!)),
      (p) => (p.pi_b[1]![1] = bump(p.pi_b[1]![1]!)),
      (p) => (p.pi_c[0] = bump(p.pi_c[0]!)),
      (p) => (p.pi_c[1] = bump(p.pi_c[1]!)),
    ]
    for (const change of coordinates) {
      const tampered = structuredClone(proof)
      change(tampered)
      expect(await verifyInference(built.verificationKey, publicSignals, tampered)).toBe(false)
    }
    expect(otherVerificationKey.nPublic).toBe(2)
    expect(await verifyInference(otherVerificationKey, publicSignals, proof)).toBe(false)
  })

  it('refuses to prove for a commitment the input and salt do not open', async () => {
    await expect(prover.prove(input, 5n, { expectedCommitment: commitInput(built.model!, input, 6n) })).rejects.toThrow(/ask the buyer/)
  })
})

describe('the model’s artifacts and trusted setup', () => {
  it('verify from r1cs and ptau, and the transcript names the coordinator’s contribution and then the beacon', () => {
    const { setup } = built.manifest
    expect(setup.verification.ok).toBe(true)
    expect(setup.contributions.map((c) => c.name)).toEqual(['oblivion coordinator', 'block 0x5f1c…1f3a'])
    expect(setup.contributions[1]!.beacon).toEqual({ hash: BEACON, numIterationsExp: 10 })
    // What snarkjs read back from the final zkey matches what each step returned.
    expect(setup.verification.contributions).toEqual(
      setup.contributions.map((c) => ({ name: c.name, contributionHash: c.contributionHash, ...(c.beacon ? { beacon: c.beacon } : {}) })),
    )
    expect(setup.contributions[0]!.contributionHash).toMatch(/^[0-9a-f]{128}$/)
  })

  it('publish only the manifest and the verification key; the weights stay in private/', async () => {
    expect((await readdir(path.join(built.dir, 'public'))).sort()).toEqual(['manifest.json', 'verification_key.json'])
    expect((await readdir(path.join(built.dir, 'private'))).sort()).toEqual(
      ['model.circom', 'model.r1cs', 'model.wasm', 'model.zkey', 'quantized.json', 'witness_calculator.cjs'].sort(),
    )
    const { manifest } = built
    expect(manifest.shape).toEqual([196, 16, 10])
    expect(manifest.publicSignals).toEqual(['predicted', 'inputCommitment'])
    expect(manifest.inputPacking).toMatchObject({ inputSize: 196, inputBits: built.model!.inputBits })
    expect(manifest.constraints.actual).toBeLessThanOrEqual(manifest.constraints.estimated)
    expect(manifest.constraints.actual).toBeGreaterThan(0.9 * manifest.constraints.estimated)
    expect(manifest.accuracy.quantized).toBeGreaterThan(manifest.accuracy.float - 0.01)
    const loaded = await loadZkModel(built.dir)
    expect(loaded.manifest).toEqual(manifest)
    expect(loaded.model).toEqual(built.model)
  })

  it('let a Node process that proved and closed its prover exit on its own', async () => {
    const salt = 987654321n
    const script = path.join(import.meta.dirname, 'fixtures', 'prove-once.ts')
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, built.dir, input.join(','), salt.toString()], { cwd: path.resolve(import.meta.dirname, '../..') })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk) => (stdout += chunk))
      child.stderr.on('data', (chunk) => (stderr += chunk))
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`the prover process did not exit within 30 s (snarkjs worker threads still alive?)\n${stderr}`))
      }, 30_000)
      child.on('exit', (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    })
    expect(code, stderr).toBe(0)
    const result = JSON.parse(stdout) as { proof: Groth16Proof; publicSignals: string[] }
    expect(result.publicSignals).toEqual([proved.publicSignals[0], commitInput(built.model!, input, salt).toString()])
    expect(await verifyInference(built.verificationKey, result.publicSignals, result.proof)).toBe(true)
  })
})

/** A coordinate + 1 (mod p): still a number snarkjs parses, no longer the proof's point. */
function bump(value: string): string {
  return ((BigInt(value) + 1n) % BN254_PRIME).toString()
}
