// Node-only: one call from trained float weights to everything a marketplace model needs, and
// the folder layout it is kept in:
//   <outDir>/public/   manifest.json, verification_key.json: publish them (the contract, buyers)
//   <outDir>/private/  NEVER leaves the model owner's machine (shared/notes/zk.md pitfall 8): the
//                      weights are circuit constants, so model.wasm (the witness program),
//                      model.zkey (the proving key), model.r1cs, model.circom and quantized.json
//                      all contain them. witness_calculator.cjs is circom's witness_calculator.js
//                      renamed so it loads as CommonJS inside "type": "module" packages.
// Consequence: only parties allowed to see the circuit (the coordinator) can rerun verifySetup;
// everyone else relies on the transcript in the manifest.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Dataset } from '../data/dataset.ts'
import type { MlpWeights, Normalization } from '../nn/mlp-weights.ts'
import { chooseScale, type ChooseScaleOptions, type ScaleTrial } from './choose-scale.ts'
import { generateCircuit, MARKETPLACE_CIRCUIT } from './circuit.ts'
import { compileCircuit } from './compile.node.ts'
import { DEFAULT_PTAU_FILE } from './ptau.node.ts'
import { inputPacking, type InputPacking } from './input-commitment.ts'
import type { QuantizedMlp } from './quantize.ts'
import { runModelSetup, type SetupBeacon, type SetupContribution, type SetupTranscript, type VerificationKey } from './setup.node.ts'

export const ZK_MODEL_FORMAT = 'oblivion-zk-model/1'

/** The public description of a marketplace model: all a buyer and the contract need. */
export interface ZkModelManifest {
  format: typeof ZK_MODEL_FORMAT
  /** [inputs, hidden units…, classes]. */
  shape: number[]
  classes: number
  classNames: string[]
  fracBits: number
  inputBits: number
  /** What commitInput needs (input-commitment.ts): a buyer commits with {inputSize, inputBits}. */
  inputPacking: InputPacking
  publicSignals: ['predicted', 'inputCommitment']
  constraints: { estimated: number; actual: number; wires: number }
  accuracy: { float: number; quantized: number; testRows: number; maxAccuracyLoss: number; scaleTrials: ScaleTrial[] }
  compileMs: number
  setup: SetupTranscript
}

export interface ZkModelFiles {
  manifest: string
  verificationKey: string
  wasm: string
  witnessCalculator: string
  zkey: string
  r1cs: string
  circom: string
  quantized: string
}

export interface ZkModel {
  dir: string
  manifest: ZkModelManifest
  verificationKey: VerificationKey
  /** Null when the private folder is absent (a buyer's or verifier's copy). */
  model: QuantizedMlp | null
  files: ZkModelFiles
}

export interface BuildZkModelOptions {
  weights: MlpWeights
  normalization: Normalization
  /** Held-out rows (raw features) on which chooseScale compares the float and quantized models. */
  test: Dataset
  outDir: string
  /** Default: the project's 2^14 file (DEFAULT_PTAU_FILE in node.ts). */
  ptauFile?: string
  /** The network's secret contribution to phase 2 (setup.node.ts); entropy defaults to fresh random bytes. */
  contribution: SetupContribution
  /** The public beacon, applied last; must be unpredictable when the contribution is made. */
  beacon: SetupBeacon
  scale?: ChooseScaleOptions
}

export function zkModelFiles(outDir: string): ZkModelFiles {
  const dir = path.resolve(outDir)
  const pub = (name: string) => path.join(dir, 'public', name)
  const priv = (name: string) => path.join(dir, 'private', name)
  return {
    manifest: pub('manifest.json'),
    verificationKey: pub('verification_key.json'),
    wasm: priv('model.wasm'),
    witnessCalculator: priv('witness_calculator.cjs'),
    zkey: priv('model.zkey'),
    r1cs: priv('model.r1cs'),
    circom: priv('model.circom'),
    quantized: priv('quantized.json'),
  }
}

/** chooseScale → quantize → generateCircuit (marketplace form) → compile → phase-2 setup → files. */
export async function buildZkModel(options: BuildZkModelOptions): Promise<ZkModel> {
  const dir = path.resolve(options.outDir)
  const files = zkModelFiles(dir)
  const privateDir = path.dirname(files.zkey)
  await mkdir(path.dirname(files.manifest), { recursive: true })
  await mkdir(privateDir, { recursive: true })

  const choice = chooseScale(options.weights, options.normalization, options.test, options.scale)
  const model = choice.model
  const compiled = await compileCircuit(generateCircuit(model, MARKETPLACE_CIRCUIT), { outDir: privateDir, name: 'model' })
  const emitted = path.dirname(compiled.wasmFile)
  await rename(compiled.wasmFile, files.wasm)
  await rename(path.join(emitted, 'witness_calculator.js'), files.witnessCalculator)
  await rm(emitted, { recursive: true, force: true })
  if (compiled.publicOutputs !== 1 || compiled.publicInputs !== 1) {
    throw new Error(`the marketplace circuit must have public signals [predicted, inputCommitment]; ${files.circom} has ${compiled.publicOutputs} outputs and ${compiled.publicInputs} public inputs`)
  }

  const { verificationKey, transcript } = await runModelSetup({
    r1csFile: files.r1cs,
    ptauFile: options.ptauFile ?? DEFAULT_PTAU_FILE,
    zkeyFile: files.zkey,
    contribution: options.contribution,
    beacon: options.beacon,
    constraints: compiled.constraints,
  })
  const manifest: ZkModelManifest = {
    format: ZK_MODEL_FORMAT,
    shape: [model.inputSize, ...model.layers.map((layer) => layer.units)],
    classes: model.classes,
    classNames: options.test.classNames,
    fracBits: model.fracBits,
    inputBits: model.inputBits,
    inputPacking: inputPacking(model),
    publicSignals: ['predicted', 'inputCommitment'],
    constraints: { estimated: model.estimatedConstraints, actual: compiled.constraints, wires: compiled.wires },
    accuracy: {
      float: choice.floatAccuracy,
      quantized: choice.quantizedAccuracy,
      testRows: options.test.count,
      maxAccuracyLoss: choice.maxAccuracyLoss,
      scaleTrials: choice.trials,
    },
    compileMs: compiled.compileMs,
    setup: transcript,
  }
  await Promise.all([
    writeFile(files.quantized, JSON.stringify(model)),
    writeFile(files.verificationKey, JSON.stringify(verificationKey, null, 2)),
    writeFile(files.manifest, JSON.stringify(manifest, null, 2)),
  ])
  return { dir, manifest, verificationKey, model, files }
}

/** Reads what buildZkModel wrote; the private folder is optional (model is then null). */
export async function loadZkModel(outDir: string): Promise<ZkModel> {
  const dir = path.resolve(outDir)
  const files = zkModelFiles(dir)
  const readJson = async <T>(file: string): Promise<T> => {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as T
    } catch (error) {
      throw new Error(`cannot read ${file} (${(error as Error).message}): is ${dir} a folder written by buildZkModel?`)
    }
  }
  const manifest = await readJson<ZkModelManifest>(files.manifest)
  if (manifest.format !== ZK_MODEL_FORMAT) throw new Error(`${files.manifest} is ${String(manifest.format)}, expected ${ZK_MODEL_FORMAT}: rebuild it with buildZkModel`)
  const verificationKey = await readJson<VerificationKey>(files.verificationKey)
  let model: QuantizedMlp | null = null
  try {
    model = JSON.parse(await readFile(files.quantized, 'utf8')) as QuantizedMlp
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  return { dir, manifest, verificationKey, model, files }
}
