/**
 * A labelled data set in flat typed arrays (no tensors): cheap to split, shard, hash and send to
 * a Web Worker. Row i's features are features[i*featureCount … (i+1)*featureCount).
 */
export interface Dataset {
  count: number
  featureCount: number
  features: Float32Array
  /** Class index per row, 0 … classNames.length − 1. */
  labels: Int32Array
  classNames: string[]
  featureNames: string[]
}

export interface TrainTestSplit {
  train: Dataset
  test: Dataset
}
