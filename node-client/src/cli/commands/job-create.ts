import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { checkJobSpec } from '../../../../model/src/spec/job-spec.ts'
import { CliError, EXIT, requestError, usageError, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect, JOB_PROFILE } from '../connection.ts'
import { checkDatasetFile, DATASET_BUCKET, datasetObjectPath, uploadDataset } from '../dataset-upload.ts'
import type { GlobalOptions } from '../global-options.ts'
import { jobCreatedText } from '../render/job-renderer.ts'
import { jsonLog } from '../render/json-log.ts'

export interface JobCreateOptions extends GlobalOptions {
  specFile: string
  rewardWei: string
  /** A CSV file to upload for a spec whose dataset.source is csv. */
  dataset?: string | undefined
}

async function readSpecFile(file: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new CliError('CLI_SPEC_FILE', `could not read the job spec ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new CliError('CLI_SPEC_FILE', `${file} is not valid JSON: ${(error as Error).message}`, {
      hint: 'a job spec is one JSON object; supabase/README.md ("Job spec v1") shows one',
    })
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError('CLI_SPEC_FILE', `${file} holds ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}, not a job spec object`)
  }
  return value as Record<string, unknown>
}

interface CreatedJob {
  id: string
  status: string
  rounds: number
  shards: number
  reward_wei: string
}

/**
 * `oblivion job create <spec.json>`: checks the spec here with the same rules the database
 * applies (every problem, with its field path, before any request), uploads `--dataset` for a CSV
 * spec, then calls create_job. The job waits in `created` until the coordinator funds it.
 */
export async function runJobCreateCommand(options: JobCreateOptions): Promise<ExitCode> {
  const spec = await readSpecFile(options.specFile)
  const dataset = spec.dataset as Record<string, unknown> | undefined
  if (options.dataset !== undefined) {
    if (dataset?.source !== 'csv') {
      throw usageError(
        `--dataset uploads a CSV file, but ${options.specFile} asks for ${dataset?.source === undefined ? 'no dataset' : `a ${JSON.stringify(dataset.source)} dataset`}`,
        'drop --dataset, or set spec.dataset.source to "csv" with featureColumns and labelColumn',
      )
    }
    // Where the upload will go; the user id is known only after signing in.
    dataset.bucket = DATASET_BUCKET
    dataset.path = datasetObjectPath('<your user id>', options.dataset)
  }

  const checked = checkJobSpec(spec)
  if (!checked.ok) {
    throw new CliError('OB003', `${options.specFile} is not a valid job spec (${checked.issues.length} problem${checked.issues.length > 1 ? 's' : ''})`, {
      details: checked.issues.map((issue) => `${issue.path} ${issue.message}`),
      hint: 'fix those fields and run the command again; supabase/README.md ("Job spec v1") lists every field',
    })
  }
  const csv = checked.spec.dataset.source === 'csv' ? checked.spec.dataset : undefined
  if (options.dataset !== undefined && csv) await checkDatasetFile(options.dataset, csv)

  const { supabase, userId } = await connectAsUser(options, { profile: JOB_PROFILE })
  try {
    let uploaded: string | undefined
    if (options.dataset !== undefined && csv) {
      const objectPath = datasetObjectPath(userId, options.dataset)
      await uploadDataset(supabase, options.dataset, objectPath)
      csv.path = objectPath
      uploaded = `${DATASET_BUCKET}/${objectPath}`
    }
    const { data, error } = await supabase.rpc('create_job', { p_spec: checked.spec, p_reward_wei: options.rewardWei })
    if (error) throw requestError('the network refused the job', error)
    const job = data as CreatedJob
    if (options.json) {
      jsonLog().write('job-created', {
        id: job.id,
        status: job.status,
        rounds: job.rounds,
        shards: job.shards,
        rewardWei: job.reward_wei,
        ownerId: userId,
        dataset: uploaded ?? null,
        specFile: path.resolve(options.specFile),
      })
    } else {
      process.stdout.write(`${jobCreatedText(job, uploaded)}\n`)
    }
    return EXIT.ok
  } finally {
    await disconnect(supabase)
  }
}
