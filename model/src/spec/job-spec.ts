import { z } from 'zod'

/**
 * Job spec version 1: what a job creator may ask for. The database validates the same rules in
 * SQL (`internal.validate_job_spec`, supabase/migrations) so that no client can store a spec the
 * workers cannot run; `supabase/tests/job-spec-mirror.test.ts` feeds the same specs to both and
 * checks that they accept and reject alike, naming the same field. The field reference is
 * supabase/README.md ("Job spec v1").
 */

const activation = z.enum(['relu', 'sigmoid', 'tanh', 'softmax', 'linear'])
export type Activation = z.infer<typeof activation>

const text = (max: number) => z.string().min(1).max(max)
const whole = (min: number, max: number) => z.number().int().min(min).max(max)
/** (min, max]: a learning rate, clip norm or σ of 0 means nothing. */
const positive = (max: number) => z.number().gt(0).max(max)

const builtinDataset = z.strictObject({
  source: z.literal('builtin'),
  name: z.enum(['mnist', 'mnist-14x14', 'iris', 'penguins']),
})

const csvDataset = z.strictObject({
  source: z.literal('csv'),
  bucket: text(63),
  path: text(1024),
  featureColumns: z.array(text(200)).min(1).max(4096),
  labelColumn: text(200),
})

const layer = z.strictObject({ units: whole(1, 4096), activation })

const model = z
  .strictObject({
    type: z.literal('mlp'),
    layers: z.array(layer).min(1).max(16),
    normalization: z.enum(['none', 'minmax', 'standard']).optional(),
  })
  .superRefine((value, ctx) => {
    // Training minimises cross-entropy over classes: the output layer must be a softmax.
    const last = value.layers.length - 1
    if (value.layers[last]?.activation !== 'softmax') {
      ctx.addIssue({
        code: 'custom',
        path: ['layers', last, 'activation'],
        message: 'must be softmax: the last layer outputs the class probabilities',
      })
    }
  })

const training = z
  .strictObject({
    optimizer: z.enum(['sgd', 'momentum', 'adam']),
    learningRate: positive(10),
    batchSize: whole(1, 4096),
    localEpochs: whole(1, 100),
    rounds: whole(1, 1000),
    shards: whole(1, 10000),
    testFraction: z.number().min(0).max(0.5).optional(),
    minShardFraction: z.number().gt(0).max(1).optional(),
  })
  .superRefine((value, ctx) => {
    // Bounds the task table one job can create (rounds × shards rows).
    if (value.rounds * value.shards > 100_000) {
      ctx.addIssue({ code: 'custom', path: ['shards'], message: `× rounds must be at most 100000 tasks (got ${value.shards} × ${value.rounds})` })
    }
  })

const privacy = z
  .strictObject({
    clipNorm: positive(100),
    noiseMultiplier: positive(100).optional(),
    targetEpsilon: positive(100).optional(),
    delta: z.number().gt(0).max(0.01),
  })
  .superRefine((value, ctx) => {
    if ((value.noiseMultiplier === undefined) === (value.targetEpsilon === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['noiseMultiplier'],
        message: 'or spec.privacy.targetEpsilon must be given, not both: the noise multiplier σ directly, or a target ε from which the accountant derives σ',
      })
    }
  })

const aggregation = z
  .strictObject({
    strategy: z.enum(['fedavg', 'median', 'trimmed_mean']),
    trimFraction: z.number().min(0).max(0.45).optional(),
    updateNormBound: positive(1_000_000).optional(),
  })
  .superRefine((value, ctx) => {
    if (value.strategy === 'trimmed_mean' && value.trimFraction === undefined) {
      ctx.addIssue({ code: 'custom', path: ['trimFraction'], message: 'is required' })
    }
    if (value.strategy !== 'trimmed_mean' && value.trimFraction !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['trimFraction'], message: 'applies only to the trimmed_mean strategy' })
    }
  })

export const jobSpecSchema = z
  .strictObject({
    version: z.literal(1),
    name: text(120).optional(),
    description: text(2000).optional(),
    dataset: z.discriminatedUnion('source', [builtinDataset, csvDataset]),
    model,
    training,
    /** Absent: the job trains without differential privacy (no clipping, no noise, ε = ∞). */
    privacy: privacy.optional(),
    aggregation: aggregation.optional(),
  })
  .superRefine((value, ctx) => {
    // 16 KiB keeps a spec small enough to travel in realtime payloads and logs.
    const size = new TextEncoder().encode(JSON.stringify(value)).length
    if (size > 16384) ctx.addIssue({ code: 'custom', path: [], message: `is ${size} bytes; the limit is 16384` })
  })

export type JobSpec = z.infer<typeof jobSpecSchema>
export type DatasetSpec = JobSpec['dataset']
export type PrivacySpec = NonNullable<JobSpec['privacy']>
export type AggregationSpec = NonNullable<JobSpec['aggregation']>

/** A spec problem: `path` is the field as the database names it, e.g. `spec.training.batchSize`. */
export interface JobSpecIssue {
  path: string
  message: string
}

export class JobSpecError extends Error {
  readonly code = 'OB003'
  constructor(readonly issues: JobSpecIssue[]) {
    const first = issues[0]
    super(
      `Invalid job spec: ${first ? `${first.path} ${first.message}` : 'unknown problem'}` +
        (issues.length > 1 ? ` (and ${issues.length - 1} more)` : '') +
        '. Fix that field and submit the job again; supabase/README.md lists every field of a job spec.',
    )
    this.name = 'JobSpecError'
  }
}

function issuePath(path: readonly PropertyKey[]): string {
  let out = 'spec'
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`
  return out
}

/** Validates a parsed JSON value as a job spec; returns the typed spec or every problem found. */
export function checkJobSpec(value: unknown): { ok: true; spec: JobSpec } | { ok: false; issues: JobSpecIssue[] } {
  const result = jobSpecSchema.safeParse(value)
  if (result.success) return { ok: true, spec: result.data }
  const issues = result.error.issues.map((issue) => {
    // A strict object reports unknown keys on the object: name the key itself, as the SQL does.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : []
    const path = keys.length > 0 ? [...issue.path, keys[0]!] : issue.path
    const message = keys.length > 0 ? 'is not a known field' : issue.message
    return { path: issuePath(path), message }
  })
  return { ok: false, issues }
}

/** Like checkJobSpec, but throws a JobSpecError (code OB003) naming the first bad field. */
export function parseJobSpec(value: unknown): JobSpec {
  const checked = checkJobSpec(value)
  if (!checked.ok) throw new JobSpecError(checked.issues)
  return checked.spec
}
