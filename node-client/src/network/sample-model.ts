import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connectInferenceMarket, type ChainConfig } from '@oblivion/contracts'
import { JsonRpcProvider, Network, parseEther } from 'ethers'
import type { JsonLine } from '../../../sample_job/src/local-processes.ts'
import { resolveServiceRoleKey } from '../cli/connection.ts'
import { zkModelHome } from '../marketplace/zk-model-home.ts'

/**
 * The sample model `npm start` keeps on the marketplace, so that a newcomer can buy a proven
 * inference from the first minute: the mnist-zk sample job (196-16-10 on 14×14 digits, small
 * enough to prove), created and funded by dev account 2, trained by the network's workers, listed
 * by the same account with `oblivion model list` (the coordinator contributes to its setup). Every
 * step goes through the `oblivion` CLI, as a person would do it; this file decides which steps a
 * start still needs and reads what the database and the chain say.
 */

/** The job spec trained for the marketplace. */
export const SAMPLE_SPEC = 'sample_job/jobs/mnist-zk.json'
/** The model's owner: dev account 2 of chain.json, the job creator's wallet (as in `npm run demo`). */
export const SAMPLE_OWNER_ACCOUNT = 2
/** The price of one inference, as `oblivion model list --price` takes it. */
export const SAMPLE_PRICE = '0.01'

/**
 * Which job this home trained for the marketplace: `<home>/zk-models/sample-model.json`, next to
 * the owner's proving artifacts (the database and the chain say the rest).
 */
const STATE_FILE = 'sample-model.json'

/** Measured on 2 cores: the job trains in 10–15 s with two workers; the setup takes about 30 s. */
const TIMEOUTS = { create: 120_000, train: 15 * 60_000, list: 11 * 60_000 }

/** The job states after which it will not complete (public.job_status). */
const DEAD_JOB = new Set(['failed', 'cancelled', 'expired'])

export interface SampleModel {
  modelId: string
  jobId: string
  chainModelId: string
  priceWei: string
  /** true: trained and/or listed by this start; false: the listing of an earlier start, still valid. */
  listedNow: boolean
}

export interface SampleModelContext {
  home: string
  /** The gateway (read with the service_role key of `<home>/gateway.json`: this is the network's own launcher). */
  url: string
  chain: ChainConfig
  /** CLI workers running: none, and nothing can train the job. */
  workers: number
  /** Runs `oblivion <args>` to its end; its JSON lines, or throws with its last error. */
  cli(args: string[], timeoutMs: number): Promise<JsonLine[]>
  /** What is being done now, for the status table. */
  progress(notes: string): void
}

/** The marketplace cannot be prepared on this network, for a reason that is no failure (no workers). */
export class SampleModelSkipped extends Error {}

interface ModelRow {
  id: string
  listed: boolean
  chain_id: number | null
  chain_model_id: string | null
  weights_commitment: string | null
  price_wei: string | null
}

/**
 * Brings the sample model to "listed on this chain, with its proving artifacts in this home":
 * reuses the listing of an earlier start when the chain still has it (same model id, same
 * verification-key hash, same owner); lists the trained model again when the chain was redeployed;
 * trains it first when this home has no completed sample job (a job still running from an
 * interrupted start is followed, not made again).
 */
export async function prepareSampleModel(ctx: SampleModelContext): Promise<SampleModel> {
  const market = ctx.chain.market
  if (!market) throw new Error(`${path.join(ctx.home, 'chain.json')} names no InferenceMarket: restart npm start to deploy it`)
  const rest = { url: ctx.url, key: await resolveServiceRoleKey(ctx.home, {}) }
  const owner = ctx.chain.accounts[SAMPLE_OWNER_ACCOUNT]!.address
  const provider = new JsonRpcProvider(ctx.chain.rpcUrl, undefined, { staticNetwork: Network.from(ctx.chain.chainId), cacheTimeout: -1 })
  try {
    const contract = connectInferenceMarket(market.address, provider)
    /** The chain's listing is this row's: same owner, same key (its hash commits to the weights). */
    const stillListed = async (row: ModelRow): Promise<boolean> => {
      if (!row.listed || row.chain_id !== ctx.chain.chainId || !row.chain_model_id || !row.weights_commitment) return false
      if (!(await exists(path.join(zkModelHome(ctx.home, row.id), 'private')))) return false
      try {
        const listing = await contract.getModel(BigInt(row.chain_model_id))
        return listing.active && listing.owner.toLowerCase() === owner.toLowerCase() && listing.verificationKeyHash.toLowerCase() === row.weights_commitment.toLowerCase()
      } catch (error) {
        // UnknownModel: a chain deployed after the listing (anvil's state was lost, or --reset).
        if ((error as { code?: string }).code === 'CALL_EXCEPTION') return false
        throw error
      }
    }

    const state = await readState(ctx.home)
    let job = state ? (await select<{ id: string; status: string }>(rest, 'jobs', `select=id,status&id=eq.${state.jobId}`))[0] : undefined
    if (job && DEAD_JOB.has(job.status)) job = undefined
    if (job?.status === 'completed') {
      const row = await modelOf(rest, job.id)
      if (row && (await stillListed(row))) {
        return { modelId: row.id, jobId: job.id, chainModelId: row.chain_model_id!, priceWei: row.price_wei!, listedNow: false }
      }
    }

    if (!job) {
      if (ctx.workers === 0) throw new SampleModelSkipped('no workers to train the sample model (--workers 0)')
      ctx.progress('preparing the sample model (creating the mnist-zk job…)')
      const created = await ctx.cli(['job', 'create', SAMPLE_SPEC, '--dev-account', String(SAMPLE_OWNER_ACCOUNT)], TIMEOUTS.create)
      const id = last(created, 'job-created')?.id
      if (typeof id !== 'string') throw new Error(`oblivion job create printed no job-created line: ${JSON.stringify(created.slice(-3))}`)
      job = { id, status: 'created' }
      await writeState(ctx.home, { jobId: id, spec: SAMPLE_SPEC, createdAt: new Date().toISOString() })
    }
    const jobId = job.id
    if (job.status !== 'completed') {
      ctx.progress(`preparing the sample model (training job ${jobId.slice(0, 8)}…)`)
      const lines = await ctx.cli(['job', 'status', jobId, '--watch'], TIMEOUTS.train)
      const finished = last(lines, 'job-finished')
      if (finished?.status !== 'completed') throw new Error(`the sample job ${jobId} ended ${String(finished?.status)}: ${String(finished?.statusReason)}`)
    }
    const row = await modelOf(rest, jobId)
    if (!row) throw new Error(`the sample job ${jobId} completed without a model row`)

    ctx.progress('preparing the sample model (setting up its proofs: the coordinator contributes…)')
    const lines = await ctx.cli(['model', 'list', row.id, '--price', SAMPLE_PRICE, '--dev-account', String(SAMPLE_OWNER_ACCOUNT)], TIMEOUTS.list)
    const listed = last(lines, 'model-listed')
    if (!listed) throw new Error(`oblivion model list printed no model-listed line: ${JSON.stringify(lines.slice(-3))}`)
    return { modelId: row.id, jobId, chainModelId: String(listed.chainModelId), priceWei: String(listed.priceWei ?? parseEther(SAMPLE_PRICE)), listedNow: true }
  } finally {
    provider.destroy()
  }
}

async function modelOf(rest: { url: string; key: string }, jobId: string): Promise<ModelRow | undefined> {
  const rows = await select<ModelRow>(rest, 'models', `select=id,listed,chain_id,chain_model_id,weights_commitment,price_wei&job_id=eq.${jobId}&order=created_at.desc&limit=1`)
  return rows[0]
}

/** A read through the gateway's REST API as service_role (it bypasses row-level security). */
async function select<T>(rest: { url: string; key: string }, table: string, query: string): Promise<T[]> {
  const response = await fetch(`${rest.url}/rest/v1/${table}?${query}`, { headers: { apikey: rest.key, authorization: `Bearer ${rest.key}` }, signal: AbortSignal.timeout(30_000) })
  if (!response.ok) throw new Error(`could not read ${table} from the gateway: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`)
  return (await response.json()) as T[]
}

async function readState(home: string): Promise<{ jobId: string } | null> {
  try {
    const state = JSON.parse(await readFile(path.join(home, 'zk-models', STATE_FILE), 'utf8')) as { jobId?: unknown }
    return typeof state.jobId === 'string' && /^[0-9a-f-]{36}$/.test(state.jobId) ? { jobId: state.jobId } : null
  } catch {
    return null // none yet, or unreadable: train anew
  }
}

async function writeState(home: string, state: { jobId: string; spec: string; createdAt: string }): Promise<void> {
  await mkdir(path.join(home, 'zk-models'), { recursive: true })
  await writeFile(path.join(home, 'zk-models', STATE_FILE), `${JSON.stringify(state, null, 2)}\n`)
}

const exists = (file: string) => access(file).then(() => true, () => false)
const last = (lines: JsonLine[], type: string) => lines.filter((l) => l.type === type).at(-1)
