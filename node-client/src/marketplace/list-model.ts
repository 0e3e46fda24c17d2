import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { keccak256, toUtf8Bytes } from 'ethers'
import { parseInferenceMarketLogs, verificationKeyBytes, verificationKeyHash, type Groth16VerificationKeyJson } from '@oblivion/contracts'
import { quantizeMlp, ZkModelError } from '@oblivion/model/zk'
import { finishZkModel, prepareZkModel, redactZkey, ZkSetupRefusedError, type PreparedZkModel, type ZkModel } from '@oblivion/model/zk/node'
import type { SupabaseClient } from '@supabase/supabase-js'
import { CliError, requestError } from '../cli/cli-error.ts'
import { COORDINATOR_CONTRIBUTION_NAME, setupPaths, type ZkContributionTranscript } from '../coordinator/zk-setup-pass.ts'
import { ARTIFACTS_BUCKET } from '../worker-core/artifact-paths.ts'
import { callRpc } from '../worker-core/rpc.ts'
import { sendMarketCall, readMarket, type MarketSession } from './market-session.ts'
import { downloadOnnx, loadOwnedModel, readOwnModel, type OwnedModel } from './owned-model.ts'
import { watchRow } from './row-watch.ts'
import { onnxFileOf, zkModelHome } from './zk-model-home.ts'

/** What listing reports as it goes (the CLI renders it: a line per step, or JSON lines). */
export type ListingEvent =
  | { type: 'model-loaded'; modelId: string; jobId: string; shape: number[]; testRows: number }
  | { type: 'circuit-built'; constraints: number; fracBits: number; floatAccuracy: number; quantizedAccuracy: number; compileMs: number }
  | { type: 'setup-requested'; setupId: string }
  | { type: 'setup-waiting'; setupId: string; status: string }
  | { type: 'setup-ready'; setupId: string; beaconBlock: number; contributionHash: string }
  | { type: 'setup-verified'; verifyMs: number; dir: string }
  | { type: 'model-listed'; modelId: string; chainModelId: string; txHash: string; priceWei: string; verificationKeyHash: string; gasUsed: string }

export interface ListModelOptions {
  supabase: SupabaseClient
  session: MarketSession
  home: string
  modelId: string
  priceWei: bigint
  /** How long to wait for the network's contribution. */
  setupTimeoutMs: number
  onEvent(event: ListingEvent): void
}

interface SetupRow {
  id: string
  status: 'awaiting_contribution' | 'ready' | 'failed'
  transcript: ZkContributionTranscript | null
  error: string | null
}

/**
 * `oblivion model list`'s work (shared/notes/zk.md pitfall 7 for why it is split): the owner
 * builds the circuit from the job's final weights and the initial zkey HERE, the network's
 * coordinator contributes to a copy without the circuit's sections (redactZkey: the weights never
 * leave this machine) and seals it with a block hash, the owner writes its sections back and
 * verifies the final zkey against its own r1cs (finishZkModel) and lists the verification key on
 * chain, then in the database.
 */
export async function listModel(options: ListModelOptions): Promise<{ chainModelId: string; txHash: string; zkModel: ZkModel }> {
  const { supabase, session, onEvent } = options
  const row = await readOwnModel(supabase, options.modelId)
  const owned = await loadOwnedModel(supabase, row)
  onEvent({ type: 'model-loaded', modelId: row.id, jobId: owned.jobId, shape: shapeOf(owned), testRows: owned.test.count })
  refuseUnprovable(owned)

  const dir = zkModelHome(options.home, row.id)
  await rm(dir, { recursive: true, force: true })
  let prepared: PreparedZkModel
  try {
    prepared = await prepareZkModel({
      weights: owned.weights,
      normalization: owned.normalization,
      test: owned.test,
      outDir: dir,
      dataset: { source: owned.spec.dataset.source, ...('name' in owned.spec.dataset ? { name: String(owned.spec.dataset.name) } : {}) },
    })
  } catch (error) {
    if (error instanceof ZkModelError) throw tooLarge(error)
    throw new CliError('CLI_ZK_BUILD', `could not build the circuit of model ${row.id}: ${(error as Error).message}`, { cause: error })
  }
  const { manifest } = prepared
  onEvent({
    type: 'circuit-built',
    constraints: manifest.constraints.actual,
    fracBits: manifest.fracBits,
    floatAccuracy: manifest.accuracy.float,
    quantizedAccuracy: manifest.accuracy.quantized,
    compileMs: Math.round(manifest.compileMs),
  })

  const setupId = await callRpc<string>(supabase, 'request_zk_setup', {
    p_model_id: row.id,
    p_circuit_hash: prepared.circuitHash,
    p_constraints: prepared.constraints,
  }).catch((error: unknown) => {
    throw new CliError((error as { code?: string }).code ?? 'CLI_REQUEST', `could not request a ZK setup for model ${row.id}: ${(error as Error).message}`, { cause: error })
  })
  onEvent({ type: 'setup-requested', setupId })
  const paths = setupPaths(setupId)
  // Without the sections that hold the circuit (and so the weights): finishZkModel writes them back.
  const uploaded = await supabase.storage.from(ARTIFACTS_BUCKET).upload(paths.initial, redactZkey(await readFile(prepared.initialZkey)), { contentType: 'application/octet-stream' })
  if (uploaded.error) throw new CliError('CLI_UPLOAD', `could not upload ${ARTIFACTS_BUCKET}/${paths.initial}: ${uploaded.error.message}`)

  let lastStatus = ''
  const setup = await watchRow<SetupRow>(supabase, {
    table: 'zk_setups',
    id: setupId,
    read: async () => {
      const { data, error } = await supabase.from('zk_setups').select('id, status, transcript, error').eq('id', setupId).maybeSingle()
      if (error) throw requestError(`could not read ZK setup ${setupId}`, error)
      return data as SetupRow | null
    },
    done: (s) => s.status !== 'awaiting_contribution',
    onRow: (s) => {
      if (s.status !== lastStatus) onEvent({ type: 'setup-waiting', setupId, status: s.status })
      lastStatus = s.status
    },
    timeoutMs: options.setupTimeoutMs,
    pollMs: 1_000,
  })
  if (!setup) {
    throw new CliError('CLI_SETUP_TIMEOUT', `the network did not contribute to ZK setup ${setupId} within ${Math.round(options.setupTimeoutMs / 1000)} s`, {
      hint: "is the network's coordinator running (with a chain)? Run `oblivion model list` again later",
    })
  }
  if (setup.status === 'failed' || !setup.transcript) {
    throw new CliError('CLI_SETUP_FAILED', `the network could not finish ZK setup ${setupId}: ${setup.error ?? 'no transcript'}`)
  }
  const transcript = setup.transcript
  onEvent({ type: 'setup-ready', setupId, beaconBlock: transcript.beacon.blockNumber, contributionHash: transcript.contribution.contributionHash })

  // The beacon must be a real block of this chain (anyone can check it; here it costs one call).
  const block = await readMarket(session, 'reading the beacon block', () => session.provider.getBlock(transcript.beacon.blockNumber))
  if (transcript.beacon.chainId !== session.target.chain.chainId || block?.hash?.toLowerCase() !== transcript.beacon.blockHash.toLowerCase()) {
    throw new CliError('CLI_SETUP_REFUSED', `the setup's beacon (block ${transcript.beacon.blockNumber} ${transcript.beacon.blockHash} of chain ${transcript.beacon.chainId}) is not a block of chain ${session.target.chain.chainId}`)
  }
  const finalDownload = await supabase.storage.from(ARTIFACTS_BUCKET).download(paths.final)
  if (finalDownload.error || !finalDownload.data) throw new CliError('CLI_DOWNLOAD', `could not download ${ARTIFACTS_BUCKET}/${paths.final}: ${finalDownload.error?.message ?? 'no data'}`)
  const finalZkey = path.join(dir, 'private', 'final.zkey')
  await writeFile(finalZkey, new Uint8Array(await finalDownload.data.arrayBuffer()))
  let zkModel: ZkModel
  try {
    zkModel = await finishZkModel(prepared, { finalZkey, beaconHash: transcript.beacon.blockHash, beaconSource: transcript.beacon })
  } catch (error) {
    if (error instanceof ZkSetupRefusedError) throw new CliError('CLI_SETUP_REFUSED', error.message, { hint: 'nothing was listed; run `oblivion model list` again for a new setup' })
    throw error
  } finally {
    await rm(finalZkey, { force: true })
  }
  const contributed = zkModel.manifest.setup.contributions.find((c) => c.name === COORDINATOR_CONTRIBUTION_NAME && !c.beacon)
  if (!contributed || contributed.contributionHash !== transcript.contribution.contributionHash) {
    throw new CliError('CLI_SETUP_REFUSED', `the final zkey does not hold the contribution the network recorded (${transcript.contribution.contributionHash})`)
  }
  onEvent({ type: 'setup-verified', verifyMs: Math.round(zkModel.manifest.setup.verification.ms), dir })
  await mkdir(path.join(dir, 'private'), { recursive: true })
  await writeFile(onnxFileOf(dir), await downloadOnnx(supabase, row))

  const vk = zkModel.verificationKey as unknown as Groth16VerificationKeyJson
  const keyHash = verificationKeyHash(vk)
  const metadataHash = keccak256(toUtf8Bytes(JSON.stringify(zkModel.manifest)))
  const receipt = await sendMarketCall(session, 'listModel', [verificationKeyBytes(vk), options.priceWei, metadataHash], { what: `listModel for model ${row.id}` })
  const listed = parseInferenceMarketLogs(receipt.logs, session.target.address).find((e) => e.name === 'ModelListed')
  if (!listed) throw new CliError('CLI_REVERTED', `listModel transaction ${receipt.hash} has no ModelListed event`)
  const chainModelId = (listed.args as { modelId: bigint }).modelId.toString()
  await callRpc(supabase, 'list_model', {
    p_model_id: row.id,
    p_chain_id: session.target.chain.chainId,
    p_chain_model_id: chainModelId,
    p_owner_address: session.address.toLowerCase(),
    p_price_wei: options.priceWei.toString(),
    p_verification_key: zkModel.verificationKey,
    p_verification_key_hash: keyHash,
    p_manifest: zkModel.manifest,
    p_list_tx_hash: receipt.hash.toLowerCase(),
  }).catch((error: unknown) => {
    throw new CliError((error as { code?: string }).code ?? 'CLI_REQUEST', `model ${row.id} is listed on chain (model ${chainModelId}, tx ${receipt.hash}) but list_model failed: ${(error as Error).message}`, { cause: error })
  })
  onEvent({
    type: 'model-listed',
    modelId: row.id,
    chainModelId,
    txHash: receipt.hash,
    priceWei: options.priceWei.toString(),
    verificationKeyHash: keyHash,
    gasUsed: receipt.gasUsed.toString(),
  })
  return { chainModelId, txHash: receipt.hash, zkModel }
}

function shapeOf(owned: OwnedModel): number[] {
  const layers = owned.weights.layers
  return [layers[0]?.inputs ?? owned.test.featureCount, ...layers.map((l) => l.units)]
}

/** Shape limits do not depend on the scale: refuse them before compiling anything. */
function refuseUnprovable(owned: OwnedModel): void {
  try {
    quantizeMlp(owned.weights, owned.normalization, { fracBits: 4 })
  } catch (error) {
    if (error instanceof ZkModelError && error.code !== 'bits' && error.code !== 'scale') throw tooLarge(error)
  }
}

function tooLarge(error: ZkModelError): CliError {
  return new CliError('CLI_ZK_TOO_LARGE', `this model cannot be proved in zero knowledge: ${error.message}`, {
    hint: 'train a smaller model for the marketplace (e.g. sample_job/jobs/mnist-zk.json: 196-16-10 on 14×14 digits)',
    cause: error,
  })
}
