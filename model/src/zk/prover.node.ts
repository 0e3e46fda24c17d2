// Node-only: Groth16 proofs of one inference for the marketplace statement
// [predicted, inputCommitment] (circuit.ts MARKETPLACE_CIRCUIT), and their off-chain check.
import { access, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
// @ts-expect-error snarkjs ships no types
import * as snarkjs from 'snarkjs'
import { loadZkModel } from './artifacts.node.ts'
import { releaseSnarkjs } from './compile.node.ts'
import { commitInput } from './input-commitment.ts'
import type { QuantizedMlp } from './quantize.ts'
import { inferQuantized } from './reference.ts'
import type { VerificationKey } from './setup.node.ts'

const require = createRequire(import.meta.url)

/** snarkjs' proof object (decimal strings; pi_b's pairs in snarkjs' order, see exportSolidityCallData for calldata). */
export interface Groth16Proof {
  pi_a: string[]
  pi_b: string[][]
  pi_c: string[]
  protocol: 'groth16'
  curve: string
}

export interface InferenceProof {
  proof: Groth16Proof
  /** [predicted, inputCommitment] as decimal strings: what the contract verifies. */
  publicSignals: string[]
  predicted: number
  inputCommitment: bigint
  /** The integer reference's logits (scale S²), for display: the circuit keeps them private. */
  logits: number[]
  witnessMs: number
  proveMs: number
}

export interface Prover {
  prove(quantizedInput: ArrayLike<number>, salt: bigint, options?: { expectedCommitment?: bigint }): Promise<InferenceProof>
  /** Frees snarkjs' worker threads once the last open prover closes, so Node can exit (notes pitfall 3). */
  close(): Promise<void>
}

export interface ProverFiles {
  wasmFile: string
  /** circom's witness_calculator.js (or .cjs); default: witness_calculator.cjs next to wasmFile, else .js. */
  witnessCalculatorFile?: string
  zkeyFile: string
  model: QuantizedMlp
}

interface WitnessCalculator {
  calculateWTNSBin(input: unknown, sanityCheck: boolean): Promise<Uint8Array>
}

let openProvers = 0

/**
 * Keeps the zkey bytes and ONE instantiated witness program in memory and proves with
 * groth16.prove on in-memory buffers. fullProve instead re-reads the wasm and zkey and
 * re-instantiates the wasm on every call (bench/zk.ts measures both).
 */
export async function createProver(source: string | ProverFiles): Promise<Prover> {
  const files = typeof source === 'string' ? await proverFilesOf(source) : source
  const calculatorFile = files.witnessCalculatorFile ?? (await defaultCalculatorFile(files.wasmFile))
  const builder = require(calculatorFile) as (code: Buffer) => Promise<WitnessCalculator>
  const [wasm, zkey] = await Promise.all([readFile(files.wasmFile), readFile(files.zkeyFile)])
  const calculator = await builder(wasm)
  const { model } = files
  openProvers++
  let closed = false
  return {
    async prove(quantizedInput, salt, options = {}) {
      if (closed) throw new Error('this prover is closed: create a new one with createProver')
      const input = Array.from(quantizedInput)
      const reference = inferQuantized(model, input)
      const inputCommitment = commitInput(model, input, salt)
      if (options.expectedCommitment !== undefined && options.expectedCommitment !== inputCommitment) {
        throw new Error(
          `the input and salt commit to ${inputCommitment}, not to the buyer's posted ${options.expectedCommitment}: ` +
            'a proof would not verify against that commitment; ask the buyer for the input and salt they committed to',
        )
      }
      const witnessStarted = performance.now()
      const witness = await calculator.calculateWTNSBin({ in: input.map(String), salt: salt.toString(), inputCommitment: inputCommitment.toString() }, true)
      const proveStarted = performance.now()
      const { proof, publicSignals } = (await snarkjs.groth16.prove({ type: 'mem', data: zkey }, { type: 'mem', data: witness })) as {
        proof: Groth16Proof
        publicSignals: string[]
      }
      const proveMs = performance.now() - proveStarted
      const predicted = Number(publicSignals[0])
      if (predicted !== reference.predicted || publicSignals[1] !== inputCommitment.toString()) {
        throw new Error(
          `the circuit's public signals [${publicSignals.join(', ')}] disagree with the integer reference (class ${reference.predicted}, ` +
            `commitment ${inputCommitment}): the artifacts do not belong to this quantized model; rebuild them with buildZkModel`,
        )
      }
      return { proof, publicSignals, predicted, inputCommitment, logits: reference.logits, witnessMs: proveStarted - witnessStarted, proveMs }
    },
    async close() {
      if (closed) return
      closed = true
      if (--openProvers === 0) await releaseSnarkjs()
    },
  }
}

/**
 * The off-chain check of a proof, as the contract's verifier does it on chain. Uses snarkjs'
 * worker threads: call releaseSnarkjs() when done verifying in a process that must exit.
 */
export async function verifyInference(verificationKey: VerificationKey, publicSignals: readonly string[], proof: Groth16Proof): Promise<boolean> {
  return (await snarkjs.groth16.verify(verificationKey, publicSignals, proof)) === true
}

/** The private files of a folder written by buildZkModel. */
async function proverFilesOf(artifactsDir: string): Promise<ProverFiles> {
  const { model, files } = await loadZkModel(artifactsDir)
  if (!model) throw new Error(`${artifactsDir} has no private/quantized.json: only the model owner's copy of the artifacts can prove`)
  return { wasmFile: files.wasm, witnessCalculatorFile: files.witnessCalculator, zkeyFile: files.zkey, model }
}

async function defaultCalculatorFile(wasmFile: string): Promise<string> {
  const base = wasmFile.replace(/[^\\/]+$/, '')
  for (const name of ['witness_calculator.cjs', 'witness_calculator.js']) {
    try {
      await access(base + name)
      return base + name
    } catch {}
  }
  throw new Error(`no witness_calculator.cjs or .js next to ${wasmFile}: copy circom's <name>_js/witness_calculator.js there`)
}
