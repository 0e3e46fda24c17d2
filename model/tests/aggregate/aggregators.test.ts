import { describe, expect, it } from 'vitest'
import { coordinateMedian } from '../../src/aggregate/coordinate-median.ts'
import { flattenWeights, parameterCount, weightsFromFlat } from '../../src/aggregate/flat-parameters.ts'
import { trimmedMean } from '../../src/aggregate/trimmed-mean.ts'
import { weightedFedAvg } from '../../src/aggregate/weighted-fedavg.ts'
import { tinyModel } from './tiny-model.ts'

const f32 = (...values: number[]) => Float32Array.from(values)

describe('weightedFedAvg', () => {
  it('weights each update by its sample count', () => {
    // (1·[0, 4, 8] + 3·[4, 0, -8]) / 4 = [3, 1, -4]
    expect(weightedFedAvg([f32(0, 4, 8), f32(4, 0, -8)], [1, 3])).toEqual(f32(3, 1, -4))
  })

  it('is the plain mean when counts are equal, and the update itself when alone', () => {
    expect(weightedFedAvg([f32(1, 2), f32(3, 6)], [50, 50])).toEqual(f32(2, 4))
    expect(weightedFedAvg([f32(0.1, -7)], [12])).toEqual(f32(0.1, -7))
  })

  it('rejects mismatched lengths and non-positive counts', () => {
    expect(() => weightedFedAvg([f32(1, 2), f32(1)], [1, 1])).toThrow(/update 1 has 1 parameters/)
    expect(() => weightedFedAvg([f32(1)], [0])).toThrow(/sample count 0 must be > 0/)
  })
})

describe('coordinateMedian', () => {
  it('takes the middle value of an odd count, per coordinate', () => {
    expect(coordinateMedian([f32(1, 30), f32(3, 10), f32(2, 20)])).toEqual(f32(2, 20))
  })

  it('averages the two middle values of an even count (as numpy.median)', () => {
    expect(coordinateMedian([f32(1, -1), f32(4, -4), f32(2, -2), f32(10, -10)])).toEqual(f32(3, -3))
  })

  it('is not moved past the honest values by one huge outlier', () => {
    const honest = [f32(1.0, -0.5), f32(1.1, -0.4), f32(0.9, -0.6), f32(1.05, -0.55)]
    const median = coordinateMedian([...honest, f32(1e30, -1e30)])
    expect(median[0]).toBeCloseTo(1.05, 6)
    expect(median[1]).toBeCloseTo(-0.55, 6)
  })

  it('sorts with the typed-array sort beyond 32 updates', () => {
    const updates = Array.from({ length: 41 }, (_, k) => f32((k * 17) % 41, -k))
    expect(coordinateMedian(updates)).toEqual(f32(20, -20))
  })
})

describe('trimmedMean', () => {
  it('cuts ⌊trimFraction·n⌋ values from each side and averages the rest', () => {
    const updates = [f32(1), f32(2), f32(3), f32(4), f32(100)]
    // 5 · 0.2 = 1 from each side: mean(2, 3, 4) = 3
    expect(trimmedMean(updates, 0.2)).toEqual(f32(3))
    // 5 · 0.1 = 0.5 → 0 cut: the plain mean 22
    expect(trimmedMean(updates, 0.1)).toEqual(f32(22))
    // 5 · 0.45 = 2.25 → 2 from each side: the median
    expect(trimmedMean(updates, 0.45)).toEqual(f32(3))
  })

  it('trims every coordinate on its own', () => {
    const updates = [f32(0, 9), f32(10, 1), f32(5, 5), f32(-100, 100)]
    // n = 4, trim 0.25 → 1 each side: [0, 5] → 2.5 and [5, 9] → 7
    expect(trimmedMean(updates, 0.25)).toEqual(f32(2.5, 7))
  })

  it('rejects a trim fraction of a half or more', () => {
    expect(() => trimmedMean([f32(1)], 0.5)).toThrow(/trimFraction must be in \[0, 0.5\)/)
  })
})

describe('median and trimmed mean against a full sort', () => {
  // Quickselect replaces the sort beyond 16 updates; ties (values rounded to 0.1) included.
  const sortedMean = (values: number[], cut: number) => {
    const kept = [...values].sort((a, b) => a - b).slice(cut, values.length - cut)
    return kept.reduce((sum, v) => sum + v, 0) / kept.length
  }
  let seed = 12345
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 20 - 10
  for (const count of [1, 2, 3, 16, 17, 18, 33, 64, 101]) {
    it(`${count} updates`, () => {
      const updates = Array.from({ length: count }, () => Float32Array.from({ length: 50 }, () => Math.round(random() * 10) / 10))
      const median = coordinateMedian(updates)
      const trimmed = trimmedMean(updates, 0.3)
      const cut = Math.floor(0.3 * count)
      for (let i = 0; i < 50; i++) {
        const column = updates.map((u) => u[i]!)
        expect(median[i]).toBeCloseTo(sortedMean(column, Math.floor((count - 1) / 2)), 5)
        expect(trimmed[i]).toBeCloseTo(sortedMean(column, cut), 5)
      }
    })
  }
})

describe('flat parameters', () => {
  it('lays out layer by layer, kernel then bias, and back', () => {
    const model = tinyModel((i) => i)
    expect(parameterCount(model)).toBe(9)
    expect(flattenWeights(model)).toEqual(f32(0, 1, 2, 3, 4, 5, 6, 7, 8))
    expect(weightsFromFlat(model, flattenWeights(model))).toEqual(model)
    expect(() => weightsFromFlat(model, f32(1, 2))).toThrow(/2 values; the model has 9/)
  })
})
