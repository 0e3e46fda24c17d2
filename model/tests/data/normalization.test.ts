import { describe, expect, it } from 'vitest'
import type { Dataset } from '../../src/data/dataset.ts'
import { fitNormalization, normalizeFeatures } from '../../src/data/normalization.ts'

/** Three rows of three features: one that varies, one constant, one negative. */
const train: Dataset = {
  count: 3,
  featureCount: 3,
  features: Float32Array.from([
    [1, 5, -2],
    [2, 5, -4],
    [4, 5, -6],
  ].flat()),
  labels: Int32Array.from([0, 1, 0]),
  classNames: ['no', 'yes'],
  featureNames: ['a', 'constant', 'negative'],
}

describe('fitNormalization', () => {
  it('minmax: offset is the minimum, scale is 1/(max − min), or 1 for a constant feature', () => {
    const normalization = fitNormalization('minmax', train)
    expect(normalization.kind).toBe('minmax')
    expect(Array.from(normalization.offset)).toEqual([1, 5, -6])
    expect(Array.from(normalization.scale)).toEqual([1 / 3, 1, 1 / 4].map(Math.fround))
    const normalized = normalizeFeatures(train, normalization)
    expect(Array.from(normalized.features)).toEqual([0, 0, 1, 1 / 3, 0, 0.5, 1, 0, 0].map(Math.fround))
  })

  it('standard: offset is the mean, scale is 1/(population std), or 1 for a constant feature', () => {
    const normalization = fitNormalization('standard', train)
    // a: mean 7/3, variance ((4/3)² + (1/3)² + (5/3)²)/3 = 42/27; negative: mean −4, variance 8/3.
    expect(normalization.offset[0]).toBeCloseTo(7 / 3, 6)
    expect(normalization.offset[1]).toBe(5)
    expect(normalization.offset[2]).toBe(-4)
    expect(normalization.scale[0]).toBeCloseTo(1 / Math.sqrt(42 / 27), 6)
    expect(normalization.scale[1]).toBe(1)
    expect(normalization.scale[2]).toBeCloseTo(1 / Math.sqrt(8 / 3), 6)
    const normalized = normalizeFeatures(train, normalization)
    for (const feature of [0, 2]) {
      const column = [0, 1, 2].map((row) => normalized.features[row * 3 + feature]!)
      const mean = column.reduce((a, b) => a + b) / 3
      const variance = column.reduce((sum, x) => sum + (x - mean) ** 2, 0) / 3
      expect(mean).toBeCloseTo(0, 6)
      expect(variance).toBeCloseTo(1, 5)
    }
    expect([0, 1, 2].map((row) => normalized.features[row * 3 + 1])).toEqual([0, 0, 0])
  })

  it('none: offset 0 and scale 1, so the features come through unchanged', () => {
    const normalization = fitNormalization('none', train)
    expect(Array.from(normalization.offset)).toEqual([0, 0, 0])
    expect(Array.from(normalization.scale)).toEqual([1, 1, 1])
    expect(normalizeFeatures(train, normalization).features).toEqual(train.features)
  })

  it('uses scale 1 when 1/spread would overflow float32', () => {
    const tiny: Dataset = { ...train, count: 2, featureCount: 1, features: Float32Array.from([0, 1e-45]), labels: Int32Array.from([0, 1]) }
    expect(fitNormalization('minmax', tiny).scale[0]).toBe(1)
  })
})

describe('normalizeFeatures', () => {
  it('returns a new data set and leaves the input alone', () => {
    const before = Array.from(train.features)
    const normalized = normalizeFeatures(train, fitNormalization('minmax', train))
    expect(normalized).not.toBe(train)
    expect(normalized.features).not.toBe(train.features)
    expect(Array.from(train.features)).toEqual(before)
    expect(normalized.labels).toEqual(train.labels)
    expect(normalized.count).toBe(3)
  })

  it('applies a normalization fitted elsewhere (the test set gets the train set’s)', () => {
    const test: Dataset = { ...train, count: 1, features: Float32Array.from([7, 5, 0]), labels: Int32Array.from([1]) }
    const normalized = normalizeFeatures(test, fitNormalization('minmax', train))
    expect(Array.from(normalized.features)).toEqual([2, 0, 1.5])
  })

  it('rejects a normalization for another number of features', () => {
    const other = { kind: 'minmax' as const, offset: new Float32Array(2), scale: new Float32Array(2) }
    expect(() => normalizeFeatures(train, other)).toThrow(/2 offsets and 2 scales for 3 features/)
  })
})
