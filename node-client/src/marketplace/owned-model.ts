import {
  contentId,
  decodeWeights,
  fitNormalization,
  loadDataset,
  parseJobSpec,
  splitTrainTest,
  DEFAULT_TEST_FRACTION,
  type Dataset,
  type JobSpec,
  type MlpWeights,
  type Normalization,
} from '@oblivion/model'
import type { SupabaseClient } from '@supabase/supabase-js'
import { CliError, requestError } from '../cli/cli-error.ts'
import { ARTIFACTS_BUCKET, globalModelPath } from '../worker-core/artifact-paths.ts'

/** A models row as its owner reads it. */
export interface ModelRow {
  id: string
  owner_id: string
  job_id: string | null
  name: string
  artifacts: Record<string, { files?: Array<{ name: string; path: string; cid: string }> }>
  listed: boolean
  price_wei: string | null
  chain_id: number | null
  chain_model_id: string | null
}

/** What the owner needs to build and serve a marketplace model from a completed job. */
export interface OwnedModel {
  row: ModelRow
  spec: JobSpec
  jobId: string
  /** The job's final global weights (rounds/<rounds+1>/global.obw): what the ONNX export holds. */
  weights: MlpWeights
  normalization: Normalization
  /** The job's held-out rows, RAW features (the split the coordinator evaluated on, before normalisation). */
  test: Dataset
}

/** The models row, if the signed-in user owns it (RLS shows owners their own models only). */
export async function readOwnModel(supabase: SupabaseClient, modelId: string): Promise<ModelRow> {
  const { data, error } = await supabase
    .from('models')
    .select('id, owner_id, job_id, name, artifacts, listed, price_wei, chain_id, chain_model_id')
    .eq('id', modelId)
    .maybeSingle()
  if (error) throw requestError(`could not read model ${modelId}`, error)
  if (!data) {
    throw new CliError('CLI_NOT_OWNER', `model ${modelId} is not one of your models (or does not exist)`, {
      hint: 'list a model with the identity that created its job (the `cli` profile of the --home that ran `oblivion job create`)',
    })
  }
  return data as ModelRow
}

async function downloadObject(supabase: SupabaseClient, key: string, expectedCid?: string): Promise<Uint8Array> {
  const { data, error } = await supabase.storage.from(ARTIFACTS_BUCKET).download(key)
  if (error || !data) throw new CliError('CLI_DOWNLOAD', `could not download ${ARTIFACTS_BUCKET}/${key}: ${error?.message ?? 'no data'}`)
  const bytes = new Uint8Array(await data.arrayBuffer())
  if (expectedCid !== undefined && (await contentId(bytes)) !== expectedCid) {
    throw new CliError('CLI_CID_MISMATCH', `${ARTIFACTS_BUCKET}/${key} does not match its content id ${expectedCid}`)
  }
  return bytes
}

/**
 * The final weights and the held-out rows of the job behind `row`: the same split (seeded by the
 * job id) and normalisation the coordinator used, so chooseScale compares the float and the
 * quantized model on rows the model never trained on.
 */
export async function loadOwnedModel(supabase: SupabaseClient, row: ModelRow): Promise<OwnedModel> {
  if (!row.job_id) throw new CliError('CLI_NO_MODEL', `model ${row.id} has no job: only models trained on the network can be listed`)
  const { data, error } = await supabase.from('jobs').select('id, spec, rounds').eq('id', row.job_id).maybeSingle()
  if (error) throw requestError(`could not read job ${row.job_id}`, error)
  if (!data) throw new CliError('CLI_NOT_OWNER', `job ${row.job_id} of model ${row.id} is not one of your jobs`)
  const job = data as { id: string; spec: unknown; rounds: number }
  const spec = parseJobSpec(job.spec)
  const { weights } = decodeWeights(await downloadObject(supabase, globalModelPath(job.id, job.rounds + 1)))
  const raw = await loadDataset(spec.dataset, {
    readObject: async (bucket, path) => {
      const { data: blob, error: readError } = await supabase.storage.from(bucket).download(path)
      if (readError || !blob) throw new CliError('CLI_DOWNLOAD', `could not download the data set ${bucket}/${path}: ${readError?.message ?? 'no data'}`)
      return new Uint8Array(await blob.arrayBuffer())
    },
  })
  const split = splitTrainTest(raw, spec.training.testFraction ?? DEFAULT_TEST_FRACTION, job.id)
  const normalization = fitNormalization(spec.model.normalization ?? 'none', split.train)
  return { row, spec, jobId: job.id, weights, normalization, test: split.test }
}

/** The job's ONNX export (normalisation folded in: it takes raw features), checked against its CID. */
export async function downloadOnnx(supabase: SupabaseClient, row: ModelRow): Promise<Uint8Array> {
  const file = row.artifacts.onnx?.files?.[0]
  if (!file) throw new CliError('CLI_NO_MODEL', `model ${row.id} has no ONNX export`, { hint: 'models of jobs completed by this version of the coordinator have one' })
  const key = file.path.startsWith(`${ARTIFACTS_BUCKET}/`) ? file.path.slice(ARTIFACTS_BUCKET.length + 1) : file.path
  return downloadObject(supabase, key, file.cid)
}
