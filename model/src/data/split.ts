import type { Dataset, TrainTestSplit } from './dataset.ts'
import { DatasetError, datasetErrorCodes } from './dataset-error.ts'
import { randomFromSeed, shuffledIndices } from './seeded-random.ts'

/**
 * Shuffles the rows with a PRNG seeded by `seed` and holds out round(count × testFraction) of them
 * (at least 1 when testFraction > 0) as the test set. Pure and platform-independent: the same data,
 * fraction and seed give the same split in the coordinator (which evaluates on `test`) and in
 * every worker (which trains on its shard of `train`). `train` keeps the shuffled order, so that
 * its contiguous shards are random samples. Not stratified.
 */
export function splitTrainTest(dataset: Dataset, testFraction: number, seed: string): TrainTestSplit {
  if (!(testFraction >= 0 && testFraction < 1)) {
    throw new RangeError(`testFraction must be in [0, 1), got ${testFraction}`)
  }
  const testCount = testFraction === 0 ? 0 : Math.max(1, Math.round(dataset.count * testFraction))
  if (testCount >= dataset.count) {
    throw new DatasetError(
      datasetErrorCodes.cannotSplit,
      `A test fraction of ${testFraction} of ${dataset.count} rows leaves no rows to train on. Use a smaller testFraction or more data.`,
    )
  }
  // The suffix keeps this stream apart from other uses of the job's seed (`${seed}/initial-weights`, …).
  const order = shuffledIndices(dataset.count, randomFromSeed(`${seed}/train-test-split`))
  return {
    test: selectRows(dataset, order.subarray(0, testCount)),
    train: selectRows(dataset, order.subarray(testCount)),
  }
}

/** The rows at `indices`, in that order, copied into a new Dataset. */
export function selectRows(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const { featureCount } = dataset
  const features = new Float32Array(indices.length * featureCount)
  const labels = new Int32Array(indices.length)
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i]!
    if (!(row >= 0 && row < dataset.count)) throw new RangeError(`row ${row} is outside 0 … ${dataset.count - 1}`)
    features.set(dataset.features.subarray(row * featureCount, (row + 1) * featureCount), i * featureCount)
    labels[i] = dataset.labels[row]!
  }
  return { ...dataset, count: indices.length, features, labels }
}

/**
 * How many rows each of `shards` shards of a train set gets: contiguous, in order, sizes differing
 * by at most 1 (the first trainCount mod shards shards get one more).
 */
export function shardSizes(trainCount: number, shards: number): number[] {
  checkShardCount(trainCount, shards)
  const base = Math.floor(trainCount / shards)
  const larger = trainCount % shards
  return Array.from({ length: shards }, (_, index) => base + (index < larger ? 1 : 0))
}

/** Rows [start, end) of the train set that shard `index` (0-based) of `shards` covers. */
export function shardRange(trainCount: number, shards: number, index: number): { start: number; end: number } {
  checkShardCount(trainCount, shards)
  if (!Number.isInteger(index) || index < 0 || index >= shards) {
    throw new RangeError(`shard index must be a whole number in 0 … ${shards - 1}, got ${index}`)
  }
  const base = Math.floor(trainCount / shards)
  const larger = trainCount % shards
  const start = index * base + Math.min(index, larger)
  return { start, end: start + base + (index < larger ? 1 : 0) }
}

function checkShardCount(trainCount: number, shards: number): void {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a whole number ≥ 1, got ${shards}`)
  if (shards > trainCount) {
    const empty = shards - trainCount
    throw new DatasetError(
      datasetErrorCodes.cannotSplit,
      `${shards} shards of ${trainCount} training rows would leave ${empty} shard${empty === 1 ? '' : 's'} empty. Use at most ${trainCount} shards, or more data.`,
    )
  }
}

/**
 * Shard `index` (0-based) of `shards` of the already shuffled train set, as its own Dataset (copied,
 * so that posting it to a Web Worker does not clone the whole train set's buffer).
 */
export function shardOf(train: Dataset, shards: number, index: number): Dataset {
  const { start, end } = shardRange(train.count, shards, index)
  const { featureCount } = train
  return {
    ...train,
    count: end - start,
    features: train.features.slice(start * featureCount, end * featureCount),
    labels: train.labels.slice(start, end),
  }
}
