import { parseEther } from 'ethers'
import { checkJobSpec, type JobSpec, type JobSpecIssue } from '@oblivion/model/spec'

/**
 * The create-job form ↔ job spec v1 (model/src/spec/job-spec.ts). The form keeps what the person
 * typed (strings), turns it into a spec, and checks it with the same zod schema the database
 * mirrors; each problem is shown under the field it names. Pure: unit-tested in tests/unit.
 */

export const BUILTIN_DATASETS = {
  mnist: { label: 'MNIST digits', rows: 10_000, features: 784, classes: 10 },
  // 2×2-averaged: the input size of models meant for zero-knowledge proofs of inference.
  'mnist-14x14': { label: 'MNIST digits, 14×14 (ZK-friendly)', rows: 10_000, features: 196, classes: 10 },
  iris: { label: 'Iris flowers', rows: 150, features: 4, classes: 3 },
  penguins: { label: 'Palmer penguins', rows: 342, features: 4, classes: 3 },
} as const
export type BuiltinName = keyof typeof BUILTIN_DATASETS

export const ACTIVATIONS = ['relu', 'sigmoid', 'tanh', 'softmax', 'linear'] as const
export const OPTIMIZERS = ['sgd', 'momentum', 'adam'] as const
export const NORMALIZATIONS = ['none', 'minmax', 'standard'] as const
export const STRATEGIES = ['fedavg', 'median', 'trimmed_mean'] as const
export type PrivacyMode = 'none' | 'targetEpsilon' | 'noiseMultiplier'

export interface LayerValues {
  units: string
  activation: (typeof ACTIVATIONS)[number]
}

/** Everything the form holds, as typed. Numbers are strings until the spec is built. */
export interface SpecFormValues {
  name: string
  description: string
  datasetSource: 'builtin' | 'csv'
  builtinName: BuiltinName
  featureColumns: string[]
  labelColumn: string
  layers: LayerValues[]
  normalization: '' | (typeof NORMALIZATIONS)[number]
  optimizer: (typeof OPTIMIZERS)[number]
  learningRate: string
  batchSize: string
  localEpochs: string
  rounds: string
  shards: string
  testFraction: string
  minShardFraction: string
  privacyMode: PrivacyMode
  clipNorm: string
  noiseMultiplier: string
  targetEpsilon: string
  delta: string
  strategy: (typeof STRATEGIES)[number]
  trimFraction: string
  updateNormBound: string
  /** The reward escrowed for the workers, in coins (SHM). */
  reward: string
  /** Hours after the latest block until the escrow can be expired and refunded. */
  deadlineHours: string
}

/** A small MNIST job with DP-SGD: what the form starts from. */
export function defaultFormValues(): SpecFormValues {
  return {
    name: '',
    description: '',
    datasetSource: 'builtin',
    builtinName: 'mnist',
    featureColumns: [],
    labelColumn: '',
    layers: [
      { units: '128', activation: 'relu' },
      { units: '10', activation: 'softmax' },
    ],
    normalization: '',
    optimizer: 'momentum',
    learningRate: '0.1',
    batchSize: '64',
    localEpochs: '1',
    rounds: '3',
    shards: '4',
    testFraction: '0.1',
    minShardFraction: '',
    privacyMode: 'noiseMultiplier',
    clipNorm: '1',
    noiseMultiplier: '1.0',
    targetEpsilon: '8',
    delta: '0.00001',
    strategy: 'fedavg',
    trimFraction: '0.1',
    updateNormBound: '',
    reward: '1',
    deadlineHours: '168',
  }
}

/** Where a spec field is shown: its path without the leading `spec.` (`training.batchSize`). */
export type FieldKey = string

const number = (text: string): number | undefined => {
  const trimmed = text.trim()
  if (trimmed === '') return undefined
  const value = Number(trimmed)
  return Number.isFinite(value) ? value : Number.NaN
}

/**
 * The spec the form describes. A field that is not a number, or a required one left empty, is an
 * issue of its own (zod would only say "expected number"); optional empty fields are left out.
 * `csvPath` is where the CSV is (or will be) in the datasets bucket: `<user id>/<file name>`.
 */
export function formToSpec(values: SpecFormValues, csvPath: string): { spec: Record<string, unknown>; issues: JobSpecIssue[] } {
  const issues: JobSpecIssue[] = []
  const read = (key: FieldKey, text: string, required: boolean): number | undefined => {
    const value = number(text)
    if (value === undefined) {
      if (required) issues.push({ path: `spec.${key}`, message: 'is required' })
      return undefined
    }
    if (Number.isNaN(value)) {
      issues.push({ path: `spec.${key}`, message: 'must be a number' })
      return undefined
    }
    return value
  }
  const put = (target: Record<string, unknown>, field: string, value: unknown) => {
    if (value !== undefined) target[field] = value
  }

  const spec: Record<string, unknown> = { version: 1 }
  put(spec, 'name', values.name.trim() || undefined)
  put(spec, 'description', values.description.trim() || undefined)
  spec.dataset =
    values.datasetSource === 'builtin'
      ? { source: 'builtin', name: values.builtinName }
      : { source: 'csv', bucket: 'datasets', path: csvPath, featureColumns: values.featureColumns, labelColumn: values.labelColumn }

  const model: Record<string, unknown> = {
    type: 'mlp',
    layers: values.layers.map((layer, i) => {
      const out: Record<string, unknown> = { activation: layer.activation }
      // A missing units field still goes to zod when empty (it names the layer), but not twice.
      put(out, 'units', read(`model.layers[${i}].units`, layer.units, true))
      return out
    }),
  }
  put(model, 'normalization', values.normalization || undefined)
  spec.model = model

  const training: Record<string, unknown> = { optimizer: values.optimizer }
  put(training, 'learningRate', read('training.learningRate', values.learningRate, true))
  put(training, 'batchSize', read('training.batchSize', values.batchSize, true))
  put(training, 'localEpochs', read('training.localEpochs', values.localEpochs, true))
  put(training, 'rounds', read('training.rounds', values.rounds, true))
  put(training, 'shards', read('training.shards', values.shards, true))
  put(training, 'testFraction', read('training.testFraction', values.testFraction, false))
  put(training, 'minShardFraction', read('training.minShardFraction', values.minShardFraction, false))
  spec.training = training

  if (values.privacyMode !== 'none') {
    const privacy: Record<string, unknown> = {}
    put(privacy, 'clipNorm', read('privacy.clipNorm', values.clipNorm, true))
    if (values.privacyMode === 'noiseMultiplier') put(privacy, 'noiseMultiplier', read('privacy.noiseMultiplier', values.noiseMultiplier, true))
    else put(privacy, 'targetEpsilon', read('privacy.targetEpsilon', values.targetEpsilon, true))
    put(privacy, 'delta', read('privacy.delta', values.delta, true))
    spec.privacy = privacy
  }

  const updateNormBound = read('aggregation.updateNormBound', values.updateNormBound, false)
  if (values.strategy !== 'fedavg' || updateNormBound !== undefined) {
    const aggregation: Record<string, unknown> = { strategy: values.strategy }
    if (values.strategy === 'trimmed_mean') put(aggregation, 'trimFraction', read('aggregation.trimFraction', values.trimFraction, true))
    put(aggregation, 'updateNormBound', updateNormBound)
    spec.aggregation = aggregation
  }
  return { spec, issues }
}

/** The form back from a spec (a job to copy, a sample file): the inverse of formToSpec. */
export function specToForm(spec: JobSpec, base: SpecFormValues = defaultFormValues()): SpecFormValues {
  const text = (value: number | undefined) => (value === undefined ? '' : String(value))
  const privacy = spec.privacy
  return {
    ...base,
    name: spec.name ?? '',
    description: spec.description ?? '',
    datasetSource: spec.dataset.source,
    builtinName: spec.dataset.source === 'builtin' ? spec.dataset.name : base.builtinName,
    featureColumns: spec.dataset.source === 'csv' ? [...spec.dataset.featureColumns] : [],
    labelColumn: spec.dataset.source === 'csv' ? spec.dataset.labelColumn : '',
    layers: spec.model.layers.map((layer) => ({ units: String(layer.units), activation: layer.activation })),
    normalization: spec.model.normalization ?? '',
    optimizer: spec.training.optimizer,
    learningRate: text(spec.training.learningRate),
    batchSize: text(spec.training.batchSize),
    localEpochs: text(spec.training.localEpochs),
    rounds: text(spec.training.rounds),
    shards: text(spec.training.shards),
    testFraction: text(spec.training.testFraction),
    minShardFraction: text(spec.training.minShardFraction),
    privacyMode: !privacy ? 'none' : privacy.targetEpsilon !== undefined ? 'targetEpsilon' : 'noiseMultiplier',
    clipNorm: privacy ? text(privacy.clipNorm) : base.clipNorm,
    noiseMultiplier: privacy?.noiseMultiplier !== undefined ? text(privacy.noiseMultiplier) : base.noiseMultiplier,
    targetEpsilon: privacy?.targetEpsilon !== undefined ? text(privacy.targetEpsilon) : base.targetEpsilon,
    delta: privacy ? text(privacy.delta) : base.delta,
    strategy: spec.aggregation?.strategy ?? 'fedavg',
    trimFraction: spec.aggregation?.trimFraction !== undefined ? text(spec.aggregation.trimFraction) : base.trimFraction,
    updateNormBound: text(spec.aggregation?.updateNormBound),
  }
}

/** The fields the form shows for these values (privacy and aggregation fields come and go). */
export function visibleFields(values: SpecFormValues): FieldKey[] {
  const keys: FieldKey[] = ['name', 'description', 'dataset']
  if (values.datasetSource === 'builtin') keys.push('dataset.name')
  else keys.push('dataset.path', 'dataset.featureColumns', 'dataset.labelColumn')
  keys.push('model', 'model.layers', 'model.normalization')
  values.layers.forEach((_, i) => keys.push(`model.layers[${i}]`, `model.layers[${i}].units`, `model.layers[${i}].activation`))
  for (const field of ['optimizer', 'learningRate', 'batchSize', 'localEpochs', 'rounds', 'shards', 'testFraction', 'minShardFraction']) keys.push(`training.${field}`)
  keys.push('training', 'privacy')
  if (values.privacyMode !== 'none') {
    keys.push('privacy.clipNorm', 'privacy.delta', values.privacyMode === 'noiseMultiplier' ? 'privacy.noiseMultiplier' : 'privacy.targetEpsilon')
  }
  keys.push('aggregation', 'aggregation.strategy', 'aggregation.updateNormBound')
  if (values.strategy === 'trimmed_mean') keys.push('aggregation.trimFraction')
  keys.push('reward', 'deadlineHours')
  return keys
}

/**
 * The field an issue belongs under: the longest shown field whose path is the issue's path or a
 * prefix of it (`spec.model.layers[1]` → `model.layers[1]`); '' (the whole form) when none is.
 * The database's OB003 errors name the same paths in `detail`, so they land on the same fields.
 */
export function fieldForIssue(path: string, fields: readonly FieldKey[]): FieldKey {
  const key = path === 'spec' ? '' : path.startsWith('spec.') ? path.slice('spec.'.length) : path
  let best = ''
  for (const field of fields) {
    const matches = key === field || key.startsWith(`${field}.`) || key.startsWith(`${field}[`)
    if (matches && field.length > best.length) best = field
  }
  return best
}

/** zod's own sentences, said as a continuation of the field's name ("must be at most 4096"). */
const ZOD_SENTENCES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^Too small: expected number to be >=(.+)$/, (m) => `must be at least ${m[1]}`],
  [/^Too small: expected number to be >(.+)$/, (m) => `must be greater than ${m[1]}`],
  [/^Too big: expected number to be <=(.+)$/, (m) => `must be at most ${m[1]}`],
  [/^Too big: expected number to be <(.+)$/, (m) => `must be less than ${m[1]}`],
  [/^Too small: expected string to have >=1 characters$/, () => 'is required'],
  [/^Too small: expected string to have >=(\d+) characters$/, (m) => `must have at least ${m[1]} characters`],
  [/^Too big: expected string to have <=(\d+) characters$/, (m) => `must have at most ${m[1]} characters`],
  [/^Too small: expected array to have >=1 items$/, () => 'must list at least one'],
  [/^Too small: expected array to have >=(\d+) items$/, (m) => `must list at least ${m[1]}`],
  [/^Too big: expected array to have <=(\d+) items$/, (m) => `must list at most ${m[1]}`],
  [/^Invalid input: expected int, received number$/, () => 'must be a whole number'],
]

/**
 * The sentence shown under a field, starting with the field's label: our own and the SQL's
 * messages continue the field's name ("must be softmax: …", "× rounds must be at most…"), zod's
 * are turned into such continuations; any other full sentence is kept as it is.
 */
export function issueText(label: string, message: string): string {
  for (const [pattern, say] of ZOD_SENTENCES) {
    const match = pattern.exec(message)
    if (match) return `${label} ${say(match)}`
  }
  const first = message.charAt(0)
  return first !== '' && first === first.toUpperCase() && first !== first.toLowerCase() ? message : `${label} ${message}`
}

const LABELS: Record<FieldKey, string> = {
  '': 'The job',
  name: 'Name',
  description: 'Description',
  dataset: 'Data set',
  'dataset.name': 'Built-in data set',
  'dataset.path': 'CSV file',
  'dataset.featureColumns': 'Feature columns',
  'dataset.labelColumn': 'Label column',
  model: 'Model',
  'model.layers': 'Layers',
  'model.normalization': 'Normalisation',
  training: 'Training',
  'training.optimizer': 'Optimizer',
  'training.learningRate': 'Learning rate',
  'training.batchSize': 'Batch size',
  'training.localEpochs': 'Local epochs',
  'training.rounds': 'Rounds',
  'training.shards': 'Shards',
  'training.testFraction': 'Test fraction',
  'training.minShardFraction': 'Minimum shard fraction',
  privacy: 'Privacy',
  'privacy.clipNorm': 'Clip norm',
  'privacy.noiseMultiplier': 'Noise multiplier σ',
  'privacy.targetEpsilon': 'Target ε',
  'privacy.delta': 'δ',
  aggregation: 'Aggregation',
  'aggregation.strategy': 'Strategy',
  'aggregation.trimFraction': 'Trim fraction',
  'aggregation.updateNormBound': 'Update norm bound',
  reward: 'Reward',
  deadlineHours: 'Deadline',
}

/** A field's label, as the form shows it (`model.layers[1].units` → `Layer 2 units`). */
export function fieldLabel(field: FieldKey): string {
  const layer = /^model\.layers\[(\d+)\](?:\.(units|activation))?$/.exec(field)
  if (layer) return `Layer ${Number(layer[1]) + 1}${layer[2] ? ` ${layer[2]}` : ''}`
  return LABELS[field] ?? field
}

/** Problems keyed by field ('' = the form as a whole). */
export type FieldErrors = Record<FieldKey, string[]>

export function groupIssues(issues: readonly JobSpecIssue[], fields: readonly FieldKey[], label: (field: FieldKey) => string = fieldLabel): FieldErrors {
  const errors: FieldErrors = {}
  for (const issue of issues) {
    const field = fieldForIssue(issue.path, fields)
    const text = issueText(label(field), issue.message)
    const list = (errors[field] ??= [])
    if (!list.includes(text)) list.push(text)
  }
  return errors
}

export interface CheckedForm {
  spec: JobSpec
  rewardWei: bigint
  deadlineHours: number
}

/**
 * Builds and checks everything the submit needs: the spec (zod, as the database will), the output
 * layer against the data set's classes when known, the reward (a positive amount of coins, at
 * most 18 decimals) and the deadline (1 hour to 10 years).
 */
export function checkForm(
  values: SpecFormValues,
  options: { csvPath: string; classes?: number | undefined; label?: (field: FieldKey) => string },
): { ok: true; value: CheckedForm } | { ok: false; errors: FieldErrors } {
  const { spec, issues } = formToSpec(values, options.csvPath)
  const parsed = issues.map((issue) => issue.path)
  const checked = checkJobSpec(spec)
  // A field we could not read is not in the spec: skip zod's "required" for that same field.
  const all = [...issues, ...(checked.ok ? [] : checked.issues.filter((issue) => !parsed.includes(issue.path)))]

  // The coordinator fails a job whose output layer does not have one unit per class: say it here.
  const last = values.layers.length - 1
  const units = Number(values.layers[last]?.units)
  if (options.classes !== undefined && last >= 0 && Number.isInteger(units) && units !== options.classes) {
    all.push({ path: `spec.model.layers[${last}].units`, message: `must be ${options.classes}: one unit per class of the data set` })
  }

  let rewardWei = 0n
  try {
    rewardWei = parseEther(values.reward.trim())
    if (rewardWei <= 0n) all.push({ path: 'reward', message: 'must be more than 0' })
  } catch {
    all.push({ path: 'reward', message: 'must be an amount of coins such as 0.5 or 12 (at most 18 decimals)' })
  }
  const deadlineHours = Number(values.deadlineHours.trim())
  if (values.deadlineHours.trim() === '' || !Number.isFinite(deadlineHours) || deadlineHours < 1 || deadlineHours > 87_600) {
    all.push({ path: 'deadlineHours', message: 'must be a number of hours from 1 to 87600 (10 years)' })
  }
  if (all.length > 0 || !checked.ok) return { ok: false, errors: groupIssues(all, visibleFields(values), options.label ?? fieldLabel) }
  return { ok: true, value: { spec: checked.spec, rewardWei, deadlineHours } }
}
