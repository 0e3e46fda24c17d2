import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { checkJobSpec } from '../../../../model/src/spec/job-spec.ts'
import { walletChosen, PRIVATE_KEY_ENV } from '../chain-connection.ts'
import { chainTarget, onChain, openChainSession, type ChainSession } from '../chain-session.ts'
import { CliError, EXIT, requestError, usageError, type ExitCode } from '../cli-error.ts'
import { connectAsUser, disconnect, JOB_PROFILE } from '../connection.ts'
import { checkDatasetFile, DATASET_BUCKET, datasetObjectPath, uploadDataset } from '../dataset-upload.ts'
import { jobCreatedText } from '../render/job-renderer.ts'
import { jsonLog } from '../render/json-log.ts'
import { moneyOutput } from '../render/money-renderer.ts'
import { fundJobEscrow, type JobFundOptions } from './job-escrow.ts'

export interface JobCreateOptions extends JobFundOptions {
  specFile: string
  rewardWei: string
  /** A CSV file to upload for a spec whose dataset.source is csv. */
  dataset?: string | undefined
  /** False with --no-fund: create the job without funding its escrow even when a chain is configured. */
  fund: boolean
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
  /** The spec as the database stored it: what specHash is computed from. */
  spec: Record<string, unknown>
}

/**
 * The chain and wallet that will fund the escrow, checked before anything is created: null when
 * no chain is configured or with --no-fund. A wallet that cannot pay the reward is refused here.
 */
async function fundingSession(options: JobCreateOptions): Promise<ChainSession | null> {
  if (!options.fund) return null
  const explicit = options.devAccount !== undefined || options.keystore !== undefined
  const target = await chainTarget(options.home, explicit)
  if (!target) return null
  if (!walletChosen(options)) {
    throw new CliError('CLI_NO_WALLET', `a chain is configured (${target.source}), so the job's escrow is funded on it, and no wallet was given`, {
      hint: `pass --dev-account <0-9> on the local chain, --keystore <file> (with KEYSTORE_PASSWORD), or set ${PRIVATE_KEY_ENV}; or --no-fund to create the job without an escrow`,
      exitCode: EXIT.usage,
    })
  }
  const session = await openChainSession(options.home, options, target)
  try {
    const balance = await onChain(session, 'reading your balance', () => session.provider.getBalance(session.address))
    if (balance <= BigInt(options.rewardWei)) {
      throw new CliError('CLI_INSUFFICIENT_FUNDS', `the wallet ${session.address} holds ${balance} wei, not enough to escrow the reward of ${options.rewardWei} wei plus gas`, {
        hint: 'fund the wallet, lower --reward-wei, or pass --no-fund',
      })
    }
    return session
  } catch (error) {
    session.close()
    throw error
  }
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

  const funding = await fundingSession(options)
  const { supabase, userId } = await connectAsUser(options, { profile: JOB_PROFILE }).catch((error: unknown) => {
    funding?.close()
    throw error
  })
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
      process.stdout.write(`${jobCreatedText(job, uploaded, funding ? 'chain' : options.fund ? 'coordinator' : 'later')}\n`)
    }
    if (funding) {
      try {
        await fundJobEscrow(funding, job, options.deadlineHours, moneyOutput(options.json))
      } catch (error) {
        const known = error instanceof CliError
        const message = known ? error.message : (error as Error).message
        throw new CliError(known ? error.code : 'CLI_FUND_FAILED', `job ${job.id} was created, but its escrow was not funded: ${message}`, {
          hint: `${known && error.options.hint ? `${error.options.hint}; then ` : ''}retry with \`oblivion job fund ${job.id}\` and the same wallet option`,
          cause: error,
        })
      }
    }
    return EXIT.ok
  } finally {
    funding?.close()
    await disconnect(supabase)
  }
}
