import { loadBuiltinDataset } from '../../src/data/builtin-datasets.ts'
import type { Dataset } from '../../src/data/dataset.ts'
import { fitNormalization, normalizeFeatures } from '../../src/data/normalization.ts'
import { mulberry32 } from '../../src/data/seeded-random.ts'
import { selectRows } from '../../src/data/split.ts'
import type { DenseLayerWeights, MlpWeights, Normalization } from '../../src/nn/mlp-weights.ts'
import { downsample2x2 } from '../../src/zk/downsample.ts'

export interface ZkMnistFixture {
  weights: MlpWeights
  normalization: Normalization
  /** RAW pixels in [0, 1], 14×14 (or 28×28 with downsample: false): what the circuit takes, quantized. */
  train: Dataset
  test: Dataset
}

/**
 * A 196-16-10 relu/softmax MLP on MNIST downsampled to 14×14 (2×2 averages of the `mnist`
 * package's 28×28 digits), min-max normalised (so the folding into the first layer matters),
 * trained by plain float64 mini-batch SGD with momentum in a few seconds. Deterministic: seeded
 * init and shuffles. Rows are interleaved by class; the last `testCount` rows are held out.
 * `downsample: false, hidden: 32` gives the 784-32-10 model of the ZK bench (bench/zk.ts).
 */
export async function trainZkMnistFixture(
  options: { hidden?: number; epochs?: number; testCount?: number; downsample?: boolean; seed?: number } = {},
): Promise<ZkMnistFixture> {
  const { hidden = 16, epochs = 8, testCount = 2000, downsample = true, seed = 42 } = options
  const mnist = await loadBuiltinDataset('mnist')
  const full = downsample ? downsample2x2(mnist) : mnist
  const random = mulberry32(seed)
  const order = Array.from({ length: full.count }, (_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const train = selectRows(full, order.slice(0, full.count - testCount))
  const test = selectRows(full, order.slice(full.count - testCount))
  const normalization = fitNormalization('minmax', train)
  const x = normalizeFeatures(train, normalization)

  const n = x.featureCount
  const classes = full.classNames.length
  const sizes = [n, hidden, classes]
  const layers = sizes.slice(1).map((units, l) => {
    const inputs = sizes[l]!
    const limit = Math.sqrt(6 / (inputs + units))
    return {
      W: Float64Array.from({ length: inputs * units }, () => (random() * 2 - 1) * limit),
      b: new Float64Array(units),
      vW: new Float64Array(inputs * units),
      vb: new Float64Array(units),
      inputs,
      units,
    }
  })
  const [l1, l2] = layers as [(typeof layers)[0], (typeof layers)[0]]
  const lr = 0.05
  const momentum = 0.9
  const batch = 32
  const h = new Float64Array(hidden)
  const p = new Float64Array(classes)
  const dh = new Float64Array(hidden)
  const gW1 = new Float64Array(l1.W.length)
  const gb1 = new Float64Array(hidden)
  const gW2 = new Float64Array(l2.W.length)
  const gb2 = new Float64Array(classes)
  const rows = Array.from({ length: x.count }, (_, i) => i)
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[rows[i], rows[j]] = [rows[j]!, rows[i]!]
    }
    for (let start = 0; start < rows.length; start += batch) {
      gW1.fill(0), gb1.fill(0), gW2.fill(0), gb2.fill(0)
      const end = Math.min(rows.length, start + batch)
      for (let k = start; k < end; k++) {
        const r = rows[k]!
        const a = x.features.subarray(r * n, (r + 1) * n)
        for (let j = 0; j < hidden; j++) {
          let s = l1.b[j]!
          for (let i = 0; i < n; i++) s += a[i]! * l1.W[i * hidden + j]!
          h[j] = Math.max(0, s)
        }
        let max = -Infinity
        for (let c = 0; c < classes; c++) {
          let s = l2.b[c]!
          for (let j = 0; j < hidden; j++) s += h[j]! * l2.W[j * classes + c]!
          p[c] = s
          max = Math.max(max, s)
        }
        let sum = 0
        for (let c = 0; c < classes; c++) sum += p[c] = Math.exp(p[c]! - max)
        for (let c = 0; c < classes; c++) p[c] = p[c]! / sum - (c === x.labels[r] ? 1 : 0)
        dh.fill(0)
        for (let j = 0; j < hidden; j++) {
          for (let c = 0; c < classes; c++) {
            gW2[j * classes + c]! += h[j]! * p[c]!
            dh[j]! += l2.W[j * classes + c]! * p[c]!
          }
          if (h[j]! <= 0) dh[j] = 0
        }
        for (let c = 0; c < classes; c++) gb2[c]! += p[c]!
        for (let i = 0; i < n; i++) {
          const ai = a[i]!
          if (ai === 0) continue
          for (let j = 0; j < hidden; j++) gW1[i * hidden + j]! += ai * dh[j]!
        }
        for (let j = 0; j < hidden; j++) gb1[j]! += dh[j]!
      }
      const m = end - start
      const step = (w: Float64Array, v: Float64Array, g: Float64Array) => {
        for (let i = 0; i < w.length; i++) {
          v[i] = momentum * v[i]! - (lr * g[i]!) / m
          w[i]! += v[i]!
        }
      }
      step(l1.W, l1.vW, gW1), step(l1.b, l1.vb, gb1), step(l2.W, l2.vW, gW2), step(l2.b, l2.vb, gb2)
    }
  }
  const dense = (l: (typeof layers)[0], name: string, activation: DenseLayerWeights['activation']): DenseLayerWeights => ({
    name,
    inputs: l.inputs,
    units: l.units,
    activation,
    kernel: Float32Array.from(l.W),
    bias: Float32Array.from(l.b),
  })
  return {
    weights: { inputSize: n, layers: [dense(l1, 'dense', 'relu'), dense(l2, 'dense_1', 'softmax')] },
    normalization,
    train,
    test,
  }
}

/** Seeded uniform weights of any shape (for the refusal tests: no training needed). */
export function randomMlp(sizes: number[], activations: DenseLayerWeights['activation'][], seed = 1): MlpWeights {
  const random = mulberry32(seed)
  return {
    inputSize: sizes[0]!,
    layers: sizes.slice(1).map((units, l) => ({
      name: l === 0 ? 'dense' : `dense_${l}`,
      inputs: sizes[l]!,
      units,
      activation: activations[l]!,
      kernel: Float32Array.from({ length: sizes[l]! * units }, () => (random() * 2 - 1) * 0.2),
      bias: Float32Array.from({ length: units }, () => (random() * 2 - 1) * 0.1),
    })),
  }
}
