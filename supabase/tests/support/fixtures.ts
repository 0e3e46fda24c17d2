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
