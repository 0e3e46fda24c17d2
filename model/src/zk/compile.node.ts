// Node-only: compiles generated circom with circom2 (circom 2 as WASI wasm) and computes
// witnesses with snarkjs. Trusted setup: setup.node.ts; proving: prover.node.ts (see shared/notes/zk.md for the pitfalls followed).
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
// @ts-expect-error snarkjs ships no types
import * as snarkjs from 'snarkjs'
import { BN254_PRIME } from './field.ts'

export { BN254_PRIME }

const require = createRequire(import.meta.url)

export interface CompiledCircuit {
  /** Folder holding `<name>.circom`, `<name>.r1cs` and `<name>_js/<name>.wasm`. */
  dir: string
  circomFile: string
  r1csFile: string
  wasmFile: string
  /** From the r1cs header. */
  constraints: number
  wires: number
  publicOutputs: number
  publicInputs: number
  privateInputs: number
  compileMs: number
  /** Deletes `dir` if compileCircuit created it. */
  dispose(): Promise<void>
}

export interface CompileOptions {
  /** Output folder; default a fresh temporary folder (removed by dispose()). */
  outDir?: string
  /** Base name of the files; default `model`. */
  name?: string
}

/**
 * circom2 runs in a WASI sandbox that can only open paths below its working directory, so it
 * runs from the filesystem root with absolute paths made relative to it, and circomlib's
 * node_modules on the library path (`-l`). --O2 substitutes the dense layers' linear constraints.
 */
export async function compileCircuit(source: string, options: CompileOptions = {}): Promise<CompiledCircuit> {
  const name = options.name ?? 'model'
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`circuit name must be [A-Za-z0-9_-]+, got ${name}`)
  const created = options.outDir === undefined
  const dir = path.resolve(options.outDir ?? (await mkdtemp(path.join(tmpdir(), 'oblivion-zk-'))))
  await mkdir(dir, { recursive: true })
  const circomFile = path.join(dir, `${name}.circom`)
  await writeFile(circomFile, source)
  const cli = require.resolve('circom2/cli.js')
  const libraryPath = path.dirname(path.dirname(require.resolve('circomlib/package.json')))
  const root = path.parse(dir).root
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, circomFile, '--r1cs', '--wasm', '--O2', '-l', libraryPath, '-o', dir],
      { cwd: root, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`circom2 failed on ${circomFile}:\n${stderr || stdout || error.message}`))
        else resolve()
      },
    )
  })
  const compileMs = performance.now() - started
  const r1csFile = path.join(dir, `${name}.r1cs`)
  const header = parseR1csHeader(await readFile(r1csFile))
  return {
    dir,
    circomFile,
    r1csFile,
    wasmFile: path.join(dir, `${name}_js`, `${name}.wasm`),
    ...header,
    compileMs,
    dispose: async () => {
      if (created) await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Computes the witness with snarkjs (`wtns.calculate`, in memory) and returns the public outputs
 * (witness wires 1 … publicOutputs) as field elements; `toSigned` maps p − |v| back to −|v|.
 */
export async function computeOutputs(circuit: Pick<CompiledCircuit, 'wasmFile' | 'publicOutputs'>, input: Record<string, unknown>): Promise<bigint[]> {
  const witness = await calculateWitness(circuit.wasmFile, input)
  return witness.slice(1, 1 + circuit.publicOutputs)
}

/**
 * A reusable witness calculator: circom's generated `<name>_js/witness_calculator.js` with the
 * wasm instantiated ONCE (snarkjs' wtns.calculate re-reads and re-instantiates it per call,
 * ~0.3 s on a busy 2-core machine). Same witness; use it for batches.
 */
export async function createWitnessCalculator(
  circuit: Pick<CompiledCircuit, 'wasmFile' | 'publicOutputs'>,
): Promise<{ witness(input: Record<string, unknown>): Promise<bigint[]>; outputs(input: Record<string, unknown>): Promise<bigint[]> }> {
  const builder = require(path.join(path.dirname(circuit.wasmFile), 'witness_calculator.js')) as (
    code: Buffer,
  ) => Promise<{ calculateWitness(input: unknown, sanityCheck: boolean): Promise<bigint[]> }>
  const calculator = await builder(await readFile(circuit.wasmFile))
  const witness = (input: Record<string, unknown>) => calculator.calculateWitness(stringify(input), true)
  return { witness, outputs: async (input) => (await witness(input)).slice(1, 1 + circuit.publicOutputs) }
}

/** The full witness (wire 0 is the constant 1) computed by snarkjs, in memory. */
export async function calculateWitness(wasmFile: string, input: Record<string, unknown>): Promise<bigint[]> {
  const wtns = { type: 'mem' as const }
  await snarkjs.wtns.calculate(stringify(input), wasmFile, wtns)
  return (await snarkjs.wtns.exportJson(wtns)) as bigint[]
}

/** A field element as a signed integer: values above p/2 are negatives. */
export function toSigned(value: bigint): bigint {
  return value > BN254_PRIME / 2n ? value - BN254_PRIME : value
}

/** snarkjs keeps bn128 worker threads alive; call once when done so Node can exit. */
export async function releaseSnarkjs(): Promise<void> {
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate()
}

function stringify(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map(stringify)
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stringify(v)]))
  return value
}

/** The r1cs header section (iden3 binary format): field, wires, public outputs/inputs, private inputs, constraints. */
function parseR1csHeader(bytes: Buffer): Omit<CompiledCircuit, 'dir' | 'circomFile' | 'r1csFile' | 'wasmFile' | 'compileMs' | 'dispose'> {
  if (bytes.toString('latin1', 0, 4) !== 'r1cs') throw new Error('not an r1cs file')
  const sections = bytes.readUInt32LE(8)
  let offset = 12
  for (let s = 0; s < sections; s++) {
    const type = bytes.readUInt32LE(offset)
    const size = Number(bytes.readBigUInt64LE(offset + 4))
    offset += 12
    if (type === 1) {
      const n8 = bytes.readUInt32LE(offset)
      let at = offset + 4 + n8
      const wires = bytes.readUInt32LE(at)
      const publicOutputs = bytes.readUInt32LE((at += 4))
      const publicInputs = bytes.readUInt32LE((at += 4))
      const privateInputs = bytes.readUInt32LE((at += 4))
      at += 4 + 8 // nLabels (u64)
      const constraints = bytes.readUInt32LE(at)
      return { constraints, wires, publicOutputs, publicInputs, privateInputs }
    }
    offset += size
  }
  throw new Error('r1cs file has no header section')
}
