// Generates the project's powers-of-tau file (phase 1 of the Groth16 trusted setup) ONCE; the
// result is committed in model/zk/ptau/ and every per-model phase-2 setup starts from it. Never
// run in CI: `prepare phase2` alone takes ~10–18 min at 2^14 on 2 cores (shared/notes/zk.md).
//
//   npx tsx model/zk/scripts/generate-ptau.ts [--power 14] [--beacon <64 hex digits>]
//
// Trust: two contributions with fresh entropy from this machine's CSPRNG (never written
// anywhere), then a beacon: --beacon <hash> (e.g. a public block hash, so anyone can redo that
// step), else 32 random bytes, printed with the result. Phase 1 is then as trustworthy as the
// machine that ran this; the per-model phase 2 adds the network's contribution and a public
// beacon on top. Production should start from a public ceremony's file (e.g. Polygon Hermez's).
import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
// @ts-expect-error snarkjs ships no types
import * as snarkjs from 'snarkjs'

const { values } = parseArgs({
  options: {
    power: { type: 'string', default: '14' },
    beacon: { type: 'string' },
    out: { type: 'string', default: path.resolve(import.meta.dirname, '../ptau') },
  },
})
const power = Number(values.power)
if (!Number.isInteger(power) || power < 8 || power > 20) throw new Error('--power must be an integer from 8 to 20 (2^power constraints)')
const beacon = values.beacon ?? randomBytes(32).toString('hex')
if (!/^[0-9a-f]{64}$/i.test(beacon)) throw new Error('--beacon must be 64 hex digits (e.g. a block hash without 0x)')

const logger = {
  info: (...args: unknown[]) => console.error('[ptau]', ...args),
  debug: () => {},
  warn: (...args: unknown[]) => console.error('[ptau] warning:', ...args),
  error: (...args: unknown[]) => console.error('[ptau] error:', ...args),
}

const out = path.resolve(values.out)
await mkdir(out, { recursive: true })
const work = path.join(out, `.work-${process.pid}`)
await mkdir(work, { recursive: true })
const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
  const started = performance.now()
  const result = await run()
  console.error(`[ptau] ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return result
}
try {
  const curve = await snarkjs.curves.getCurveFromName('bn128')
  const files = ['0', '1', '2', 'beacon', 'final'].map((n) => path.join(work, `pot${power}_${n}.ptau`))
  await step('new accumulator', () => snarkjs.powersOfTau.newAccumulator(curve, power, files[0], logger))
  await step('contribution 1', () => snarkjs.powersOfTau.contribute(files[0], files[1], 'oblivion contribution 1', randomBytes(64).toString('hex'), logger))
  await step('contribution 2', () => snarkjs.powersOfTau.contribute(files[1], files[2], 'oblivion contribution 2', randomBytes(64).toString('hex'), logger))
  await step('beacon', () => snarkjs.powersOfTau.beacon(files[2], files[3], 'oblivion beacon', beacon, 10, logger))
  await step('prepare phase 2', () => snarkjs.powersOfTau.preparePhase2(files[3], files[4], logger))
  const target = path.join(out, `oblivion_${power}.ptau`)
  await rename(files[4]!, target)
  console.log(JSON.stringify({ file: path.relative(process.cwd(), target), power, bytes: (await stat(target)).size, beacon }))
  await curve.terminate()
} finally {
  await rm(work, { recursive: true, force: true })
}
