import type { Dataset } from '../data/dataset.ts'

/**
 * Square images (row-major, one channel) downsampled by averaging each 2×2 block: MNIST 28×28 →
 * 14×14, the ZK-friendly input size (196 inputs instead of 784; shared/notes/zk.md). The data
 * module has no 14×14 MNIST, so the ZK models derive it from the 28×28 set with this.
 */
export function downsample2x2(dataset: Dataset): Dataset {
  const side = Math.round(Math.sqrt(dataset.featureCount))
  if (side * side !== dataset.featureCount || side % 2 !== 0) {
    throw new RangeError(`downsample2x2 needs square images with an even side; got ${dataset.featureCount} features`)
  }
  const half = side / 2
  const featureCount = half * half
  const features = new Float32Array(dataset.count * featureCount)
  for (let r = 0; r < dataset.count; r++) {
    const src = r * dataset.featureCount
    const dst = r * featureCount
    for (let y = 0; y < half; y++) {
      for (let x = 0; x < half; x++) {
        const k = src + 2 * y * side + 2 * x
        features[dst + y * half + x] =
          (dataset.features[k]! + dataset.features[k + 1]! + dataset.features[k + side]! + dataset.features[k + side + 1]!) / 4
      }
    }
  }
  return {
    ...dataset,
    featureCount,
    features,
    featureNames: Array.from({ length: featureCount }, (_, k) => `pixel_${k}`),
  }
}
