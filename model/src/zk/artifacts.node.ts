// Node-only: one call from trained float weights to everything a marketplace model needs, and
// the folder layout it is kept in:
//   <outDir>/public/   manifest.json, verification_key.json: publish them (the contract, buyers)
//   <outDir>/private/  NEVER leaves the model owner's machine (shared/notes/zk.md pitfall 8): the
//                      weights are circuit constants, so model.wasm (the witness program),
//                      model.zkey (the proving key), model.r1cs, model.circom and quantized.json
//                      all contain them. witness_calculator.cjs is circom's witness_calculator.js
//                      renamed so it loads as CommonJS inside "type": "module" packages.
// The network's coordinator contributes to the setup without seeing the circuit: it gets the
// initial zkey with the sections that hold the circuit zeroed (zkey-redaction.node.ts), and the
// owner writes them back into what it returns. So only the owner can rerun verifySetup; everyone
// else relies on the transcript in the manifest.
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Dataset } from '../data/dataset.ts'
import type { MlpWeights, Normalization } from '../nn/mlp-weights.ts'
import { chooseScale, type ChooseScaleOptions, type ScaleTrial } from './choose-scale.ts'
import { generateCircuit, MARKETPLACE_CIRCUIT } from './circuit.ts'
import { compileCircuit } from './compile.node.ts'
import { DEFAULT_PTAU_FILE } from './ptau.node.ts'
import { inputPacking, type InputPacking } from './input-commitment.ts'
import type { QuantizedMlp } from './quantize.ts'
import { exportVerificationKey, newZkey, runModelSetup, verifySetup, type SetupBeacon, type SetupContribution, type SetupTranscript, type VerificationKey } from './setup.node.ts'
import { restoreZkey, ZkeyFormatError } from './zkey-redaction.node.ts'

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
  /** The data set the model was trained on, when the owner names it (buyers take sample inputs from it). */
  dataset?: { source: string; name?: string }
  /** Where the beacon came from when the setup was made by the network (e.g. {chainId, blockNumber, blockHash}). */
  beaconSource?: Record<string, unknown>
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

/** What the owner's half of the setup leaves behind: the circuit compiled, the initial zkey made. */
export interface PreparedZkModel {
  dir: string
  files: ZkModelFiles
  model: QuantizedMlp
  /** private/initial.zkey: newZkey's output (no secret in it yet); the network contributes to its redactZkey copy. */
  initialZkey: string
  /** snarkjs' circuit hash of the initial zkey (blake2b, hex): what every later zkey must keep. */
  circuitHash: string
  constraints: number
  ptauFile: string
  /** The manifest without its setup transcript (finishZkModel adds it). */
  manifest: Omit<ZkModelManifest, 'setup'>
  newZkeyMs: number
}

export interface PrepareZkModelOptions extends Omit<BuildZkModelOptions, 'contribution' | 'beacon'> {
  /** Recorded in the manifest, so buyers can pick inputs from the same data set (e.g. {source: 'builtin', name: 'mnist-14x14'}). */
  dataset?: ZkModelManifest['dataset']
}

/**
 * The model owner's first half, run where the weights live: chooseScale → quantize →
 * generateCircuit (marketplace form) → compile → newZkey (private/initial.zkey). The contribution
 * and the beacon are then made elsewhere (the network's coordinator), and finishZkModel checks
 * the zkey they send back.
 */
export async function prepareZkModel(options: PrepareZkModelOptions): Promise<PreparedZkModel> {
  const compiled = await compileZkModel(options)
  const initialZkey = path.join(path.dirname(compiled.files.zkey), 'initial.zkey')
  const created = await newZkey(compiled.files.r1cs, compiled.ptauFile, initialZkey)
  return { ...compiled, initialZkey, circuitHash: created.circuitHash, newZkeyMs: created.ms }
}

/** chooseScale → quantize → circuit → compile: the private files but no zkey. */
async function compileZkModel(options: PrepareZkModelOptions): Promise<Omit<PreparedZkModel, 'initialZkey' | 'circuitHash' | 'newZkeyMs'>> {
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
  const ptauFile = options.ptauFile ?? DEFAULT_PTAU_FILE
  await writeFile(files.quantized, JSON.stringify(model))
  const manifest: Omit<ZkModelManifest, 'setup'> = {
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
    ...(options.dataset ? { dataset: options.dataset } : {}),
  }
  return { dir, files, model, constraints: compiled.constraints, ptauFile, manifest }
}

export interface FinishZkModelOptions {
  /** The zkey after the network's contribution and the beacon (made from the redacted initial zkey, or the whole one). */
  finalZkey: string
  /** The beacon the contributor says it applied last (64 hex digits, 0x optional): checked against the zkey. */
  beaconHash: string
  /** Where the beacon came from (e.g. {chainId, blockNumber, blockHash}): recorded in the manifest. */
  beaconSource?: Record<string, unknown>
  /** Contributions the owner must NOT find in the zkey (its own names): at least one other is required. */
  ownerNames?: string[]
}

/** A zkey that is not a sound setup of the owner's own circuit. */
export class ZkSetupRefusedError extends Error {
  override readonly name = 'ZkSetupRefusedError'
}

/**
 * The owner's second half: the withheld sections written back (restoreZkey), then verifySetup
 * (the final zkey follows from its own r1cs and the ptau through the recorded contributions), at
 * least one contribution that is not the owner's and a beacon equal to `beaconHash` as the last
 * step; then the zkey becomes private/model.zkey, the verification key and the manifest are
 * written, and initial.zkey is removed.
 */
export async function finishZkModel(prepared: PreparedZkModel, options: FinishZkModelOptions): Promise<ZkModel> {
  const { files } = prepared
  let restored: Uint8Array
  try {
    restored = restoreZkey(await readFile(prepared.initialZkey), await readFile(options.finalZkey))
  } catch (error) {
    if (error instanceof ZkeyFormatError) throw new ZkSetupRefusedError(`${options.finalZkey} is not a contribution to this model's zkey: ${error.message}`)
    throw error
  }
  const restoredZkey = `${files.zkey}.restored`
  await writeFile(restoredZkey, restored)
  try {
    return await finishRestored(prepared, options, restoredZkey)
  } finally {
    await rm(restoredZkey, { force: true })
  }
}

async function finishRestored(prepared: PreparedZkModel, options: FinishZkModelOptions, restoredZkey: string): Promise<ZkModel> {
  const { files } = prepared
  const verification = await verifySetup(files.r1cs, prepared.ptauFile, restoredZkey)
  if (!verification.ok) {
    throw new ZkSetupRefusedError(`${options.finalZkey} is not a setup of this model's circuit (${files.r1cs}) on ${path.basename(prepared.ptauFile)}: snarkjs refused it`)
  }
  if (verification.circuitHash && verification.circuitHash !== prepared.circuitHash) {
    throw new ZkSetupRefusedError(`${options.finalZkey} has circuit hash ${verification.circuitHash}, not this circuit's ${prepared.circuitHash}`)
  }
  const contributions = verification.contributions
  const last = contributions[contributions.length - 1]
  const expectedBeacon = options.beaconHash.replace(/^0x/i, '').toLowerCase()
  if (!last?.beacon || last.beacon.hash.toLowerCase() !== expectedBeacon) {
    throw new ZkSetupRefusedError(`the last step of ${options.finalZkey} is not the beacon ${expectedBeacon} (found ${last?.beacon ? last.beacon.hash : 'no beacon'})`)
  }
  const secret = contributions.filter((c) => !c.beacon && !(options.ownerNames ?? []).includes(c.name))
  if (secret.length === 0) {
    throw new ZkSetupRefusedError(`${options.finalZkey} has no secret contribution from anyone but the owner: the owner alone could forge proofs`)
  }
  const vkStarted = performance.now()
  const verificationKey = await exportVerificationKey(restoredZkey)
  const exportVkMs = performance.now() - vkStarted
  await copyFile(restoredZkey, files.zkey)
  await rm(prepared.initialZkey, { force: true })
  const setup: SetupTranscript = {
    ptauFile: path.basename(prepared.ptauFile),
    ptauBytes: (await stat(prepared.ptauFile)).size,
    constraints: prepared.constraints,
    // Made on another machine: their durations are not known here (0).
    contributions: contributions.map((c) => ({ name: c.name, contributionHash: c.contributionHash, ms: 0, ...(c.beacon ? { beacon: c.beacon } : {}) })),
    verification,
    timings: { newZkeyMs: prepared.newZkeyMs, contributeMs: 0, beaconMs: 0, verifyMs: verification.ms, exportVkMs, totalMs: prepared.newZkeyMs + verification.ms + exportVkMs },
  }
  const manifest: ZkModelManifest = { ...prepared.manifest, setup, ...(options.beaconSource ? { beaconSource: options.beaconSource } : {}) }
  await Promise.all([
    writeFile(files.verificationKey, JSON.stringify(verificationKey, null, 2)),
    writeFile(files.manifest, JSON.stringify(manifest, null, 2)),
  ])
  return { dir: prepared.dir, manifest, verificationKey, model: prepared.model, files }
}

/** chooseScale → quantize → generateCircuit (marketplace form) → compile → phase-2 setup → files, all on one machine (tests, benches). */
export async function buildZkModel(options: BuildZkModelOptions): Promise<ZkModel> {
  const prepared = await compileZkModel(options)
  const { files, model } = prepared
  const { verificationKey, transcript } = await runModelSetup({
    r1csFile: files.r1cs,
    ptauFile: prepared.ptauFile,
    zkeyFile: files.zkey,
    contribution: options.contribution,
    beacon: options.beacon,
    constraints: prepared.constraints,
  })
  const manifest: ZkModelManifest = { ...prepared.manifest, setup: transcript }
  await Promise.all([
    writeFile(files.verificationKey, JSON.stringify(verificationKey, null, 2)),
    writeFile(files.manifest, JSON.stringify(manifest, null, 2)),
  ])
  return { dir: prepared.dir, manifest, verificationKey, model, files }
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
