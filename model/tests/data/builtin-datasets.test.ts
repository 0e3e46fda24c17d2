import { describe, expect, it } from 'vitest'
import type { Dataset } from '../../src/data/dataset.ts'
import { loadBuiltinDataset } from '../../src/data/builtin-datasets.ts'

function classCounts(dataset: Dataset): number[] {
  const counts = new Array<number>(dataset.classNames.length).fill(0)
  for (const label of dataset.labels) counts[label]!++
  return counts
}

function expectConsistent(dataset: Dataset): void {
  expect(dataset.features).toHaveLength(dataset.count * dataset.featureCount)
  expect(dataset.labels).toHaveLength(dataset.count)
  expect(dataset.featureNames).toHaveLength(dataset.featureCount)
  expect(new Set(dataset.featureNames).size).toBe(dataset.featureCount)
  expect([...dataset.classNames].sort()).toEqual(dataset.classNames)
  // One expect per data set, not per value: 7.8 M expect() calls take a minute.
  expect(dataset.labels.every((label) => label >= 0 && label < dataset.classNames.length)).toBe(true)
  expect(dataset.features.every(Number.isFinite)).toBe(true)
}

describe('built-in data sets', () => {
  it('mnist: 10,000 digits of 784 pixels in [0, 1], about 1,000 of each digit', async () => {
    const started = performance.now()
    const mnist = await loadBuiltinDataset('mnist')
    console.info(`mnist loaded in ${(performance.now() - started).toFixed(0)} ms`)
    expect(mnist.count).toBe(10_000)
    expect(mnist.featureCount).toBe(784)
    expect(mnist.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(mnist.featureNames[0]).toBe('pixel_0')
    expect(mnist.featureNames[783]).toBe('pixel_783')
    expectConsistent(mnist)
    let min = Infinity
    let max = -Infinity
    for (const value of mnist.features) {
      if (value < min) min = value
      if (value > max) max = value
    }
    expect(min).toBe(0)
    expect(max).toBe(1)
    const counts = classCounts(mnist)
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978])
    // Digits are images, not noise: every digit has ink, and most of a 28×28 frame is blank.
    const row = (i: number) => mnist.features.subarray(i * 784, (i + 1) * 784)
    for (const i of [0, 4321, 9999]) {
      const ink = row(i).reduce((sum, v) => sum + (v > 0.5 ? 1 : 0), 0)
      expect(ink).toBeGreaterThan(20)
      expect(ink).toBeLessThan(400)
    }
  })

  it('mnist-14x14: the same 10,000 digits, each 2×2 block of pixels averaged into one of 196', async () => {
    const [mnist, small] = await Promise.all([loadBuiltinDataset('mnist'), loadBuiltinDataset('mnist-14x14')])
    expect(small.count).toBe(10_000)
    expect(small.featureCount).toBe(196)
    expect(small.classNames).toEqual(mnist.classNames)
    expect(small.featureNames[0]).toBe('pixel_0')
    expect(small.featureNames[195]).toBe('pixel_195')
    expectConsistent(small)
    // Same rows in the same order: row r of one is row r of the other.
    expect(small.labels).toEqual(mnist.labels)
    expect(small.features.every((value) => value >= 0 && value <= 1)).toBe(true)
    // Pixel (y, x) of a 14×14 row is the mean of pixels (2y, 2x), (2y, 2x+1), (2y+1, 2x),
    // (2y+1, 2x+1) of the 28×28 row; both are float32, hence the tolerance.
    for (const r of [0, 4321, 9999]) {
      const big = mnist.features.subarray(r * 784, (r + 1) * 784)
      const row = small.features.subarray(r * 196, (r + 1) * 196)
      let worst = 0
      for (let y = 0; y < 14; y++) {
        for (let x = 0; x < 14; x++) {
          const source = [big[56 * y + 2 * x]!, big[56 * y + 2 * x + 1]!, big[56 * y + 28 + 2 * x]!, big[56 * y + 28 + 2 * x + 1]!]
          const mean = source.reduce((sum, v) => sum + v, 0) / 4
          worst = Math.max(worst, Math.abs(row[14 * y + x]! - mean))
        }
      }
      expect(worst).toBeLessThan(1e-6)
      // Averaging keeps the ink: the row's total is a quarter of the 28×28 row's.
      const total = (values: Float32Array) => values.reduce((sum, v) => sum + v, 0)
      expect(total(row)).toBeCloseTo(total(big) / 4, 2)
    }
  })

  it('loads each data set once and shares it', async () => {
    const [a, b] = await Promise.all([loadBuiltinDataset('iris'), loadBuiltinDataset('iris')])
    expect(a).toBe(b)
    expect(await loadBuiltinDataset('iris')).toBe(a)
  })

  it('iris: 150 flowers × 4 measurements, 50 of each of 3 species', async () => {
    const iris = await loadBuiltinDataset('iris')
    expect(iris.count).toBe(150)
    expect(iris.featureCount).toBe(4)
    expect(iris.classNames).toEqual(['setosa', 'versicolor', 'virginica'])
    expect(iris.featureNames).toEqual(['sepal_length_cm', 'sepal_width_cm', 'petal_length_cm', 'petal_width_cm'])
    expectConsistent(iris)
    expect(classCounts(iris)).toEqual([50, 50, 50])
    // The first row of Fisher's table: 5.1, 3.5, 1.4, 0.2, setosa.
    expect(Array.from(iris.features.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround))
    expect(iris.labels[0]).toBe(0)
  })

  it('penguins: the 342 birds with all four measurements, 3 species', async () => {
    const penguins = await loadBuiltinDataset('penguins')
    expect(penguins.count).toBe(342)
    expect(penguins.featureCount).toBe(4)
    expect(penguins.classNames).toEqual(['Adelie', 'Chinstrap', 'Gentoo'])
    expect(penguins.featureNames).toEqual(['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'])
    expectConsistent(penguins)
    expect(classCounts(penguins)).toEqual([151, 68, 123])
    expect(Array.from(penguins.features.subarray(0, 4))).toEqual([39.1, 18.7, 181, 3750].map(Math.fround))
    // Body mass is in grams (2,700 – 6,300): no row came through as a null turned 0.
    const bodyMasses = Array.from({ length: penguins.count }, (_, i) => penguins.features[i * 4 + 3]!)
    expect(Math.min(...bodyMasses)).toBeGreaterThan(2000)
  })
})
