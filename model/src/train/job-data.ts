import type { Dataset } from '../data/dataset.ts'
import { loadDataset, type DatasetObjectReader } from '../data/load-dataset.ts'
import { fitNormalization, normalizeFeatures } from '../data/normalization.ts'
import { shardOf, shardSizes, splitTrainTest } from '../data/split.ts'
import type { Normalization } from '../nn/mlp-weights.ts'
import type { JobSpec } from '../spec/job-spec.ts'

/** spec.training.testFraction when the spec leaves it out. */
export const DEFAULT_TEST_FRACTION = 0.1

/**
 * A job's data as every participant sees it: the same shuffled train/test split (seeded by the
 * job id), the same normalisation (fitted on the training part only) and the same shards. The
 * coordinator evaluates on `test`; the worker holding shard i trains on `shard(i)`.
 */
export interface JobData {
  train: Dataset
  test: Dataset
  normalization: Normalization
  shardSizes: number[]
  shard(index: number): Dataset
}

export async function prepareJobData(spec: JobSpec, jobId: string, io: DatasetObjectReader): Promise<JobData> {
  const raw = await loadDataset(spec.dataset, io)
  const lastLayer = spec.model.layers[spec.model.layers.length - 1]!
  if (lastLayer.units !== raw.classNames.length) {
    throw new Error(
      `The model's last layer has ${lastLayer.units} units but the data set has ${raw.classNames.length} classes ` +
        `(${raw.classNames.slice(0, 10).join(', ')}${raw.classNames.length > 10 ? ', …' : ''}). ` +
        `Set spec.model.layers[${spec.model.layers.length - 1}].units to ${raw.classNames.length}.`,
    )
  }
  const split = splitTrainTest(raw, spec.training.testFraction ?? DEFAULT_TEST_FRACTION, jobId)
  const normalization = fitNormalization(spec.model.normalization ?? 'none', split.train)
  const train = normalizeFeatures(split.train, normalization)
  const test = normalizeFeatures(split.test, normalization)
  const sizes = shardSizes(train.count, spec.training.shards)
  return {
    train,
    test,
    normalization,
    shardSizes: sizes,
    shard: (index) => shardOf(train, spec.training.shards, index),
  }
}
