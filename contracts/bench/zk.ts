// `npm run bench:zk` — prints ONE JSON object: for a marketplace model on MNIST 14×14 (196-16-10)
// and 28×28 (784-32-10), the off-chain costs (constraints, compile, phase-2 setup, witness and
// proof first/warm, verify; model/bench/zk.ts) and the on-chain ones with that model's REAL key and
// proof (list, request, verification alone, fulfil, refund, anchoring 64 proofs; bench/market-gas.ts).
// Targets (issue 7): 784-32-10 warm proof ≤ 1 s on 2 cores; verification ≤ 230k gas; anchored
// ≤ 30k gas per inference at 64 per batch. Options: --warm 5  --only 196|784
import os from 'node:os'
import { parseArgs } from 'node:util'
import { measureZk } from '@oblivion/model/zk/bench'
import type { Groth16ProofJson, Groth16VerificationKeyJson } from '../src/groth16/encoding.ts'
import { measureMarketGas } from './market-gas.ts'

const { values } = parseArgs({ options: { warm: { type: 'string', default: '5' }, only: { type: 'string' } } })
const warm = Number(values.warm)
if (!Number.isInteger(warm) || warm < 1) throw new Error(`--warm takes a whole number of proofs ≥ 1, got ${values.warm}`)

const models = [
  { key: 'mnist14x14_196_16_10', only: '196', downsample: true, hidden: 16 },
  { key: 'mnist28x28_784_32_10', only: '784', downsample: false, hidden: 32 },
].filter((m) => values.only === undefined || values.only === m.only)

const result: Record<string, unknown> = { cpus: os.cpus().length, loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10), node: process.version }
for (const m of models) {
  const { sample, ...offChain } = await measureZk({ downsample: m.downsample, hidden: m.hidden, warm })
  // snarkjs' JSON; the encoders check the shapes at run time.
  const gas = await measureMarketGas({
    verificationKey: sample.verificationKey as unknown as Groth16VerificationKeyJson,
    proof: sample.proof as unknown as Groth16ProofJson,
    publicSignals: sample.publicSignals,
  })
  result[m.key] = { ...offChain, gas }
}
result.loadAverageAfter = os.loadavg().map((l) => Math.round(l * 10) / 10)
console.log(JSON.stringify(result, null, 2))
