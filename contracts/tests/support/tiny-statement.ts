/**
 * A real Groth16 circuit for the market's tests: tests/fixtures/tiny-statement.circom (out = x², the
 * input committed with Poseidon(x, salt)), compiled with circom2, two independent phase-2 setups
 * from the project's powers of tau (two "models" with the same circuit but different keys), and
 * proofs made with snarkjs. Compiling and the setups take a few seconds, so their results are cached
 * in the temp folder under a hash of the circuit; delete the folder to redo them.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { compileCircuit, DEFAULT_PTAU_FILE } from '@oblivion/model/zk/node'
import { poseidon2 } from 'poseidon-lite'
// @ts-expect-error snarkjs ships no types
import * as snarkjs from 'snarkjs'
import { encodeProof, proofHash, type Groth16ProofJson, type Groth16VerificationKeyJson } from '../../src/groth16/encoding.ts'

const CIRCUIT_FILE = path.resolve(import.meta.dirname, '../fixtures/tiny-statement.circom')

export interface TinySetup {
  zkeyFile: string
  vk: Groth16VerificationKeyJson
}

export interface TinyProof {
  x: bigint
  salt: bigint
  inputCommitment: bigint
  /** x² mod r, the circuit's output. */
  output: bigint
  proof: Groth16ProofJson
  /** As snarkjs returns them: [output, inputCommitment] as decimal strings. */
  publicSignals: string[]
  /** encodeProof(proof): what fulfil takes. */
  words: bigint[]
  proofHash: string
}

export interface TinyStatement {
  wasmFile: string
  /** Two setups of the same circuit with different toxic waste: keys of two different models. */
  setups: readonly [TinySetup, TinySetup]
  prove(setup: TinySetup, x: bigint, salt: bigint): Promise<TinyProof>
}

/** Poseidon(x, salt), the commitment the buyer sends with a request. */
export function commitInput(x: bigint, salt: bigint): bigint {
  return poseidon2([x, salt])
}

export async function loadTinyStatement(): Promise<TinyStatement> {
  const source = readFileSync(CIRCUIT_FILE, 'utf8')
  const key = createHash('sha256').update(source).update(String(statSync(DEFAULT_PTAU_FILE).size)).digest('hex').slice(0, 16)
  const dir = path.join(tmpdir(), `oblivion-tiny-statement-${key}`)
  const done = path.join(dir, 'done.json')
  if (!existsSync(done)) await buildInto(dir, source, done)
  const setups = JSON.parse(await readFile(done, 'utf8')) as [TinySetup, TinySetup]
  const wasmFile = path.join(dir, 'tiny_js', 'tiny.wasm')
  return {
    wasmFile,
    setups,
    async prove(setup, x, salt) {
      const inputCommitment = commitInput(x, salt)
      const { proof, publicSignals } = (await snarkjs.groth16.fullProve(
        { x: x.toString(), salt: salt.toString(), inputCommitment: inputCommitment.toString() },
        wasmFile,
        setup.zkeyFile,
      )) as { proof: Groth16ProofJson; publicSignals: string[] }
      const words = encodeProof(proof)
      return { x, salt, inputCommitment, output: BigInt(publicSignals[0]!), proof, publicSignals, words, proofHash: proofHash(words) }
    },
  }
}

/** Compile, then two phase-2 setups, each: newZKey (no contribution) + one random contribution. */
async function buildInto(dir: string, source: string, done: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const circuit = await compileCircuit(source, { outDir: dir, name: 'tiny' })
  const initial = path.join(dir, 'tiny_0000.zkey')
  await snarkjs.zKey.newZKey(circuit.r1csFile, DEFAULT_PTAU_FILE, initial)
  const setups: TinySetup[] = []
  for (const name of ['a', 'b']) {
    const zkeyFile = path.join(dir, `tiny_${name}.zkey`)
    const entropy = createHash('sha256').update(`${name}:${Math.random()}:${Date.now()}`).digest('hex')
    await snarkjs.zKey.contribute(initial, zkeyFile, `test contribution ${name}`, entropy)
    const vk = (await snarkjs.zKey.exportVerificationKey(zkeyFile)) as Groth16VerificationKeyJson
    setups.push({ zkeyFile, vk })
  }
  // Written last and renamed into place, so a run killed half-way is redone, not half-read.
  await writeFile(`${done}.tmp`, JSON.stringify(setups))
  await rename(`${done}.tmp`, done)
}

/** snarkjs keeps bn128 worker threads alive; call in afterAll so the vitest worker exits. */
export async function releaseSnarkjs(): Promise<void> {
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate()
}

export { snarkjs }
