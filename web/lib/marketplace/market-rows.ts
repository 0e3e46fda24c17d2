/**
 * The marketplace's rows as the pages read them: marketplace_models() (listed models, anyone),
 * the owner's own models (RLS), and inference_requests (RLS: the buyer and the model's owner).
 * The manifest is the model's public manifest.json (model/src/zk/artifacts.node.ts); the pages
 * read only what a buyer needs and tolerate fields they do not know.
 */

/** One row of public.marketplace_models(). */
export interface MarketModel {
  id: string
  name: string
  owner_address: string
  price_wei: string
  chain_id: number
  chain_model_id: string
  verification_key_hash: string
  verification_key: Record<string, unknown>
  manifest: unknown
  metrics: Record<string, unknown> | null
  epsilon: number | null
  fulfilled: number
  created_at: string
}

/** The owner's own models (public.models through RLS), listed or not. */
export const OWNED_MODEL_COLUMNS = 'id, name, job_id, listed, price_wei, chain_id, chain_model_id, owner_address, weights_commitment, list_tx_hash, zk_manifest, metrics, created_at'
export interface OwnedModel {
  id: string
  name: string
  job_id: string | null
  listed: boolean
  price_wei: string | null
  chain_id: number | null
  chain_model_id: string | null
  owner_address: string | null
  weights_commitment: string | null
  list_tx_hash: string | null
  zk_manifest: unknown
  metrics: Record<string, unknown> | null
  created_at: string
}

export type InferenceStatus = 'pending' | 'fulfilled' | 'failed' | 'refunded'

export const INFERENCE_REQUEST_COLUMNS =
  'id, model_id, buyer_id, status, input, input_commitment, price_wei, output, proof, public_signals, chain_id, chain_request_id, request_tx_hash, fulfil_tx_hash, buyer_address, error, refund_tx_hash, created_at, fulfilled_at'
export interface InferenceRequestRow {
  id: string
  model_id: string
  buyer_id: string
  status: InferenceStatus
  input: { pixels: number[]; salt: string } | null
  input_commitment: string
  price_wei: string
  output: InferenceOutput | null
  proof: Record<string, unknown> | null
  public_signals: string[] | null
  chain_id: number | null
  chain_request_id: string | null
  request_tx_hash: string | null
  fulfil_tx_hash: string | null
  buyer_address: string | null
  error: string | null
  refund_tx_hash: string | null
  created_at: string
  fulfilled_at: string | null
}

/** What the owner's `oblivion serve` records with the proof (record_inference_result). */
export interface InferenceOutput {
  /** The quantized circuit's class: the proof's public signal 0. */
  predicted: number
  /** The float model's class (ONNX); it may differ from the proven one on a borderline input. */
  floatPredicted: number
  probabilities: number[]
  logits: number[]
}

/** The part of manifest.json a buyer needs. */
export interface MarketManifest {
  /** [inputs, hidden units…, classes]. */
  shape: number[]
  classes: number
  classNames: string[]
  fracBits: number
  inputBits: number
  inputSize: number
  /** Constraints of the compiled circuit (the estimate when the manifest has no actual count). */
  constraints: number | null
  accuracy: { float: number | null; quantized: number | null; testRows: number | null }
  setup: SetupSummary
}

/** The phase-2 setup behind the proving key, as far as the manifest says. */
export interface SetupSummary {
  /** The network's (coordinator's) secret contribution: its name and contribution hash. */
  contribution: { name: string; hash: string | null } | null
  /** The public random beacon applied last: a block of the chain, read after the contribution. */
  beacon: { chainId: number | null; blockNumber: number | null; blockHash: string | null } | null
  /** Everyone who contributed, in order (the owner's initial key, the coordinator, the beacon). */
  contributions: { name: string; hash: string | null; beacon: boolean }[]
  verified: boolean | null
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError'
}

const record = (value: unknown): Record<string, unknown> | null => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null)
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : null)
const str = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null)

/**
 * Reads a model's public manifest; throws ManifestError naming what a buyer cannot do without
 * (the input size, its bits, the scale): the page then cannot commit to an input.
 */
export function readManifest(value: unknown): MarketManifest {
  const m = record(value)
  if (!m) throw new ManifestError('the model has no manifest')
  const packing = record(m.inputPacking)
  const shape = Array.isArray(m.shape) ? m.shape.map(num).filter((n): n is number => n !== null) : []
  const inputSize = num(packing?.inputSize) ?? shape[0] ?? null
  const inputBits = num(packing?.inputBits) ?? num(m.inputBits)
  const fracBits = num(m.fracBits)
  if (inputSize === null || inputBits === null || fracBits === null) {
    throw new ManifestError(`the manifest lacks ${[inputSize === null && 'inputPacking.inputSize', inputBits === null && 'inputBits', fracBits === null && 'fracBits'].filter(Boolean).join(', ')}`)
  }
  const classes = num(m.classes) ?? shape.at(-1) ?? 10
  const names = Array.isArray(m.classNames) ? m.classNames.map(String) : []
  const constraints = record(m.constraints)
  const accuracy = record(m.accuracy)
  return {
    shape: shape.length > 0 ? shape : [inputSize, classes],
    classes,
    classNames: names.length === classes ? names : Array.from({ length: classes }, (_, i) => String(i)),
    fracBits,
    inputBits,
    inputSize,
    constraints: num(constraints?.actual) ?? num(constraints?.estimated) ?? num(m.constraints),
    accuracy: { float: num(accuracy?.float), quantized: num(accuracy?.quantized), testRows: num(accuracy?.testRows) },
    setup: withBeaconSource(readSetup(m.setup ?? m.transcript), record(m.beaconSource)),
  }
}

/** The network's setup records where its beacon came from beside the transcript (manifest.beaconSource: {chainId, blockNumber, blockHash}). */
function withBeaconSource(setup: SetupSummary, source: Record<string, unknown> | null): SetupSummary {
  if (!source) return setup
  return { ...setup, beacon: { chainId: num(source.chainId), blockNumber: num(source.blockNumber), blockHash: str(source.blockHash) } }
}

/**
 * Two shapes are accepted: the zk_setups transcript ({contribution: {name, contributionHash},
 * beacon: {chainId, blockNumber, blockHash}}), and snarkjs' transcript as runModelSetup writes it
 * ({contributions: [{name, contributionHash, beacon?}], verification: {ok}}).
 */
export function readSetup(value: unknown): SetupSummary {
  const s = record(value)
  const contributions = (Array.isArray(s?.contributions) ? s.contributions : [])
    .map(record)
    .filter((c): c is Record<string, unknown> => c !== null)
    .map((c) => ({ name: str(c.name) ?? 'unnamed', hash: str(c.contributionHash) ?? str(c.hash), beacon: record(c.beacon) !== null }))
  const contribution = record(s?.contribution)
  const beacon = record(s?.beacon)
  const coordinator = contribution
    ? { name: str(contribution.name) ?? 'coordinator', hash: str(contribution.contributionHash) ?? str(contribution.hash) }
    : (contributions.find((c) => !c.beacon && /coordinator|network/i.test(c.name)) ?? contributions.find((c) => !c.beacon) ?? null)
  const beaconEntry = contributions.find((c) => c.beacon)
  return {
    contribution: coordinator ? { name: coordinator.name, hash: coordinator.hash } : null,
    beacon: beacon
      ? { chainId: num(beacon.chainId), blockNumber: num(beacon.blockNumber), blockHash: str(beacon.blockHash) }
      : beaconEntry
        ? { chainId: null, blockNumber: null, blockHash: null }
        : null,
    contributions,
    verified: typeof record(s?.verification)?.ok === 'boolean' ? (record(s?.verification)!.ok as boolean) : null,
  }
}

/** `196 → 16 → 10` */
export function shapeText(shape: readonly number[]): string {
  return shape.join(' → ')
}

/**
 * The CLI command that lists one of the owner's models. Listing cannot happen in the browser: it
 * builds the circuit and keeps its proving key and witness program (which contain the weights) on
 * the owner's machine, which then answers buyers with `oblivion serve`.
 */
export function listModelCommand(modelId: string, price = '0.01'): string {
  return `oblivion model list ${modelId} --price ${price}`
}
