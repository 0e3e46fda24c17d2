// `npx tsx model/bench/zk.ts` — prints ONE JSON object: the cost of a marketplace model
// (public signals [predicted, inputCommitment]) for MNIST 14×14 (196-16-10) and 28×28
// (784-32-10): constraints, compile, phase-2 setup, witness and proof times (first and warm),
// the in-memory prover against snarkjs' fullProve, verify time, zkey size and accuracies.
// Target (issue 7): 784-32-10 warm proof ≤ 1 s on 2 cores. Options: --warm 5  --only 196|784
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
// @ts-expect-error snarkjs ships no types
import * as snarkjs from 'snarkjs'
import { buildZkModel } from '../src/zk/artifacts.node.ts'
import { releaseSnarkjs } from '../src/zk/compile.node.ts'
import { commitInput, randomSalt } from '../src/zk/input-commitment.ts'
import { createProver, verifyInference, type Groth16Proof } from '../src/zk/prover.node.ts'
import type { VerificationKey } from '../src/zk/setup.node.ts'
import { quantizeInput } from '../src/zk/quantize.ts'
import { trainZkMnistFixture } from '../tests/support/zk-mnist-model.ts'

export interface ZkMeasurement {
  shape: number[]
  fracBits: number
  inputBits: number
  constraints: { estimated: number; actual: number }
  trainMs: number
  compileMs: number
  setupMs: { total: number; newZkey: number; contribute: number; beacon: number; verify: number }
  witnessMs: { first: number; warm: number }
  proveMs: { first: number; warm: number }
  /** snarkjs.groth16.fullProve (re-reads wasm + zkey, re-instantiates the wasm), warm mean. */
  fullProveMs: number
  verifyMs: number
  zkeyBytes: number
  wasmBytes: number
  accuracy: { float: number; quantized: number; testRows: number }
}

/** One real statement of the measured model, for the on-chain gas bench (contracts/bench/zk.ts). */
export interface ZkSample {
  verificationKey: VerificationKey
  proof: Groth16Proof
  publicSignals: string[]
}

/** Trains the fixture, builds the marketplace artifacts in a temporary folder, proves and verifies. */
export async function measureZk(options: { downsample: boolean; hidden: number; warm?: number }): Promise<ZkMeasurement & { sample: ZkSample }> {
  const warm = options.warm ?? 5
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oblivion-zk-bench-'))
  try {
    let started = performance.now()
    const fixture = await trainZkMnistFixture({ downsample: options.downsample, hidden: options.hidden })
    const trainMs = performance.now() - started
    const built = await buildZkModel({
      weights: fixture.weights,
      normalization: fixture.normalization,
      test: fixture.test,
      outDir: dir,
      contribution: { name: 'bench coordinator' },
      beacon: { hash: randomBytes(32).toString('hex'), name: 'bench beacon' },
    })
    const model = built.model!
    const n = fixture.test.featureCount
    const inputs = Array.from({ length: warm + 1 }, (_, r) => quantizeInput(model, fixture.test.features.subarray(r * n, (r + 1) * n)))
    const prover = await createProver(built.dir)
    const witness: number[] = []
    const prove: number[] = []
    const proofs = []
    for (const input of inputs) {
      const result = await prover.prove(input, randomSalt())
      witness.push(result.witnessMs)
      prove.push(result.proveMs)
      proofs.push(result)
    }
    const full: number[] = []
    for (const input of inputs.slice(0, Math.min(3, warm))) {
      const salt = randomSalt()
      started = performance.now()
      await snarkjs.groth16.fullProve({ in: input, salt, inputCommitment: commitInput(model, input, salt) }, built.files.wasm, built.files.zkey)
      full.push(performance.now() - started)
    }
    const verify: number[] = []
    for (const result of proofs) {
      started = performance.now()
      if (!(await verifyInference(built.verificationKey, result.publicSignals, result.proof))) throw new Error('a bench proof did not verify')
      verify.push(performance.now() - started)
    }
    await prover.close()
    const { setup } = built.manifest
    return {
      shape: built.manifest.shape,
      fracBits: model.fracBits,
      inputBits: model.inputBits,
      constraints: { estimated: built.manifest.constraints.estimated, actual: built.manifest.constraints.actual },
      trainMs: round(trainMs),
      compileMs: round(built.manifest.compileMs),
      setupMs: {
        total: round(setup.timings.totalMs),
        newZkey: round(setup.timings.newZkeyMs),
        contribute: round(setup.timings.contributeMs),
        beacon: round(setup.timings.beaconMs),
        verify: round(setup.timings.verifyMs),
      },
      witnessMs: { first: round(witness[0]!), warm: round(mean(witness.slice(1))) },
      proveMs: { first: round(prove[0]!), warm: round(mean(prove.slice(1))) },
      fullProveMs: round(mean(full)),
      // The first verify builds snarkjs' curve after fullProve released nothing: report the warm mean.
      verifyMs: round(mean(verify.slice(1))),
      zkeyBytes: (await stat(built.files.zkey)).size,
      wasmBytes: (await stat(built.files.wasm)).size,
      accuracy: { float: built.manifest.accuracy.float, quantized: built.manifest.accuracy.quantized, testRows: built.manifest.accuracy.testRows },
      sample: { verificationKey: built.verificationKey, proof: proofs[0]!.proof, publicSignals: proofs[0]!.publicSignals },
    }
  } finally {
    await releaseSnarkjs()
    await rm(dir, { recursive: true, force: true })
  }
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)
const round = (ms: number) => Math.round(ms * 10) / 10

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { warm: { type: 'string', default: '5' }, only: { type: 'string' } } })
  const warm = Number(values.warm)
  const result: Record<string, unknown> = { cpus: os.cpus().length, loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10), node: process.version }
  const without = ({ sample: _sample, ...measured }: Awaited<ReturnType<typeof measureZk>>) => measured
  if (values.only !== '784') result['mnist14x14_196_16_10'] = without(await measureZk({ downsample: true, hidden: 16, warm }))
  if (values.only !== '196') result['mnist28x28_784_32_10'] = without(await measureZk({ downsample: false, hidden: 32, warm }))
  result['loadAverageAfter'] = os.loadavg().map((l) => Math.round(l * 10) / 10)
  console.log(JSON.stringify(result, null, 2))
}
