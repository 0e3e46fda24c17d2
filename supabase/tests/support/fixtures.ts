import { createHash } from 'node:crypto'
import type { Actor } from './actors.ts'

/** A valid job spec (version 1); tests change one field at a time to check each rule. */
export function validSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    name: 'MNIST digits',
    dataset: { source: 'builtin', name: 'mnist' },
    model: { type: 'mlp', layers: [{ units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' }] },
    training: { optimizer: 'sgd', learningRate: 0.1, batchSize: 64, localEpochs: 1, rounds: 3, shards: 4, testFraction: 0.1 },
    privacy: { clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5 },
    ...overrides,
  }
}

export interface JobRow {
  id: string
  status: string
  shards: number
  rounds: number
  current_round: number
  tasks_failed: number
  status_reason: string | null
  [key: string]: unknown
}

/** A CIDv1 (base32, raw, sha-256) shaped string: what workers report for an uploaded update. */
export const SAMPLE_CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

export function validResult(overrides: Record<string, unknown> = {}) {
  return { artifact_cid: SAMPLE_CID, sample_count: 100, metrics: { loss: 0.5 }, update_norm: 0.8, ...overrides }
}

/** Creates a job as `owner`, marks it funded and opens round 1 as the coordinator would. */
export async function runningJob(
  owner: Actor,
  coordinator: Actor,
  options: { shards?: number; rounds?: number; reward?: string } = {},
): Promise<JobRow> {
  const spec = validSpec()
  ;(spec.training as Record<string, unknown>).shards = options.shards ?? 4
  ;(spec.training as Record<string, unknown>).rounds = options.rounds ?? 1
  const [job] = await owner.rpc<JobRow>('create_job', { p_spec: spec, p_reward_wei: options.reward ?? '1000' })
  await coordinator.query(`update public.jobs set status = 'funded' where id = $1::uuid`, [job!.id])
  await coordinator.rpc('enqueue_round', { p_job_id: job!.id })
  const [running] = await coordinator.query<JobRow>('select * from public.jobs where id = $1::uuid', [job!.id])
  return running!
}

export async function registerWorker(user: Actor, name = 'w1', maxConcurrency = 2): Promise<string> {
  const [worker] = await user.rpc<{ id: string }>('register_worker', {
    p_name: name,
    p_kind: 'cli',
    p_capabilities: { backend: 'test' },
    p_max_concurrency: maxConcurrency,
  })
  return worker!.id
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** The CIDv1 of some bytes as workers and the coordinator name uploads: raw codec, sha-256, base32. */
export function cidOf(bytes: Uint8Array | string): string {
  const digest = createHash('sha256').update(bytes).digest()
  const cid = Buffer.concat([Buffer.from([0x01, 0x55, 0x12, 0x20]), digest])
  let bits = 0
  let value = 0
  let out = 'b'
  for (const byte of cid) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return out
}

/** A spec with `training` fields changed (rounds, shards, minShardFraction…) and no privacy when asked. */
export function trainingSpec(training: Record<string, unknown>, options: { private?: boolean } = {}): Record<string, unknown> {
  const spec = validSpec()
  spec.training = { ...(spec.training as Record<string, unknown>), ...training }
  if (options.private === false) delete spec.privacy
  return spec
}

/** Creates a job as `owner` and funds it as the coordinator does on a local network. */
export async function fundedJob(owner: Actor, coordinator: Actor, spec: Record<string, unknown> = validSpec()): Promise<JobRow> {
  const [job] = await owner.rpc<JobRow>('create_job', { p_spec: spec, p_reward_wei: '1000' })
  const [funded] = await coordinator.rpc<JobRow>('fund_job_without_escrow', { p_job_id: job!.id })
  return funded!
}

/** Where round `round`'s global weights live in the artifacts bucket (node-client's layout). */
export const globalModelPath = (jobId: string, round: number) => `jobs/${jobId}/rounds/${round}/global.obw`

/** start_round with the weights of round `round` named as the coordinator names them. */
export async function startRound(coordinator: Actor, jobId: string, round: number) {
  const [row] = await coordinator.rpc<Record<string, unknown>>('start_round', {
    p_job_id: jobId,
    p_global_model_cid: cidOf(`global weights of ${jobId} round ${round}`),
    p_global_model_path: globalModelPath(jobId, round),
  })
  return row!
}
