import { readFile } from 'node:fs/promises'
import { loadBuiltinDataset, builtinDatasetNames, type BuiltinDatasetName } from '@oblivion/model'
import { commitInput, quantizeInput, randomSalt, type InputPacking } from '@oblivion/model/zk'
import { CliError, usageError } from '../cli/cli-error.ts'

/** What a buyer needs of a model's public manifest to build an input. */
export interface BuyerManifest {
  fracBits: number
  inputBits: number
  inputPacking: InputPacking
  classNames?: string[]
  dataset?: { source: string; name?: string }
}

/** A buyer's input, ready to commit to: the integers the circuit takes, the salt, the commitment. */
export interface InferenceInput {
  /** Quantized features: integers in [0, 2^inputBits − 1], inputPacking.inputSize of them. */
  pixels: number[]
  salt: bigint
  commitment: bigint
  /** Where the input came from, for the output ("test row 0 of mnist-14x14, label 7"). */
  source: string
  /** The true class, when the input is a labelled row. */
  label?: number
}

/** Raw features (in [0, 1] for images) → the circuit's integers, a fresh salt and the Poseidon commitment. */
export function commitFeatures(manifest: BuyerManifest, features: ArrayLike<number>, source: string, salt: bigint = randomSalt()): InferenceInput {
  const { inputSize, inputBits } = manifest.inputPacking
  if (features.length !== inputSize) throw usageError(`the model takes ${inputSize} features, the input has ${features.length}`)
  for (let i = 0; i < features.length; i++) {
    const value = features[i]!
    if (!Number.isFinite(value)) throw usageError(`feature ${i} is ${value}: every feature must be a finite number`)
  }
  const pixels = quantizeInput({ scale: 2 ** manifest.fracBits, inputBits, inputSize }, features)
  return { pixels, salt, commitment: commitInput({ inputSize, inputBits }, pixels, salt), source }
}

/** Row `row` of the model's built-in data set (the manifest names it), raw features. */
export async function testRowFeatures(manifest: BuyerManifest, row: number): Promise<{ features: Float32Array; label: number; source: string }> {
  const dataset = manifest.dataset
  if (dataset?.source !== 'builtin' || !dataset.name || !(builtinDatasetNames as readonly string[]).includes(dataset.name)) {
    throw usageError(
      `--test-row needs a model trained on a built-in data set; this one's manifest names ${dataset ? JSON.stringify(dataset) : 'none'}`,
      'pass --input <file.json> with the raw features instead',
    )
  }
  const data = await loadBuiltinDataset(dataset.name as BuiltinDatasetName)
  if (!Number.isInteger(row) || row < 0 || row >= data.count) throw usageError(`--test-row ${row}: ${dataset.name} has rows 0–${data.count - 1}`)
  const features = data.features.slice(row * data.featureCount, (row + 1) * data.featureCount)
  return { features, label: data.labels[row]!, source: `row ${row} of ${dataset.name}` }
}

/** A JSON file holding an array of raw features (or {"features": [...]}). */
export async function fileFeatures(file: string): Promise<number[]> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new CliError('CLI_INPUT_FILE', `could not read ${file} as JSON: ${(error as Error).message}`, { exitCode: 2 })
  }
  const values = Array.isArray(parsed) ? parsed : (parsed as { features?: unknown })?.features
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) {
    throw new CliError('CLI_INPUT_FILE', `${file} must hold a JSON array of numbers (raw features, e.g. pixels in [0, 1])`, { exitCode: 2 })
  }
  return values as number[]
}
