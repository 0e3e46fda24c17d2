import { describe, expect, it } from 'vitest'
import type { Dataset } from '../../src/data/dataset.ts'
import { DatasetError } from '../../src/data/dataset-error.ts'
import { shardOf, shardRange, shardSizes, splitTrainTest } from '../../src/data/split.ts'

/** Row i has features [i, −i] and label i mod 3, so every row can be traced back to its origin. */
function numberedRows(count: number): Dataset {
  const features = new Float32Array(count * 2)
  for (let i = 0; i < count; i++) {
    features[2 * i] = i
    features[2 * i + 1] = -i
  }
  return {
    count,
    featureCount: 2,
    features,
    labels: Int32Array.from({ length: count }, (_, i) => i % 3),
    classNames: ['a', 'b', 'c'],
    featureNames: ['i', 'minus_i'],
  }
}

/** The original row numbers of `dataset`'s rows, checking that each row moved whole. */
function origins(dataset: Dataset): number[] {
  return Array.from({ length: dataset.count }, (_, r) => {
    const i = dataset.features[2 * r]!
    expect(dataset.features[2 * r + 1]).toBe(-i)
    expect(dataset.labels[r]).toBe(i % 3)
    return i
  })
}

describe('splitTrainTest', () => {
  const data = numberedRows(1000)

  it('holds out round(count × testFraction) rows, disjoint from train, together all rows', () => {
    const { train, test } = splitTrainTest(data, 0.2, 'job-1')
    expect(test.count).toBe(200)
    expect(train.count).toBe(800)
    const testRows = origins(test)
    const trainRows = origins(train)
    expect(new Set([...testRows, ...trainRows]).size).toBe(1000)
    expect(train.classNames).toEqual(data.classNames)
    expect(train.featureNames).toEqual(data.featureNames)
  })

  it('gives the same split for the same seed, and a different one for another seed', () => {
    const first = splitTrainTest(data, 0.1, 'job-1')
    const again = splitTrainTest(numberedRows(1000), 0.1, 'job-1')
    expect(origins(again.test)).toEqual(origins(first.test))
    expect(origins(again.train)).toEqual(origins(first.train))
    expect(origins(splitTrainTest(data, 0.1, 'job-2').test)).not.toEqual(origins(first.test))
  })

  it('is pinned across releases: coordinator and workers of different versions must agree', () => {
    // An independent Python port of seeded-random.ts gives the same permutation.
    expect(origins(splitTrainTest(numberedRows(10), 0.3, 'job-1').test)).toEqual([4, 5, 0])
  })

  it('shuffles: the test set is spread over the whole data set', () => {
    const testRows = origins(splitTrainTest(data, 0.1, 'job-1').test)
    expect(Math.min(...testRows)).toBeLessThan(50)
    expect(Math.max(...testRows)).toBeGreaterThan(950)
    expect(testRows).not.toEqual([...testRows].sort((a, b) => a - b))
  })

  it('holds out nothing for testFraction 0 and at least one row for any positive fraction', () => {
    expect(splitTrainTest(data, 0, 'job-1').test.count).toBe(0)
    expect(splitTrainTest(numberedRows(5), 0.01, 'job-1').test.count).toBe(1)
  })

  it('refuses a split that leaves nothing to train on', () => {
    expect(() => splitTrainTest(numberedRows(1), 0.5, 'job-1')).toThrow(DatasetError)
    expect(() => splitTrainTest(data, 1, 'job-1')).toThrow(RangeError)
  })

  it('copies rows: the split does not share buffers with the data set', () => {
    const { train } = splitTrainTest(data, 0.1, 'job-1')
    expect(train.features.buffer).not.toBe(data.features.buffer)
    expect(train.features.buffer.byteLength).toBe(900 * 2 * 4)
  })
})

describe('shards', () => {
  it('have sizes that differ by at most one and add up to the train set', () => {
    expect(shardSizes(10, 3)).toEqual([4, 3, 3])
    expect(shardSizes(9, 3)).toEqual([3, 3, 3])
    expect(shardSizes(5, 5)).toEqual([1, 1, 1, 1, 1])
    for (const [count, shards] of [[1000, 7], [12345, 100], [3, 1]] as const) {
      const sizes = shardSizes(count, shards)
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(count)
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
    }
  })

  it('are contiguous, disjoint and cover the train set in order', () => {
    const { train } = splitTrainTest(numberedRows(1000), 0.1, 'job-1')
    const shards = Array.from({ length: 7 }, (_, index) => shardOf(train, 7, index))
    expect(shards.map((shard) => shard.count)).toEqual(shardSizes(900, 7))
    expect(shards.flatMap(origins)).toEqual(origins(train))
    expect(shardRange(900, 7, 0)).toEqual({ start: 0, end: 129 })
    expect(shardRange(900, 7, 6)).toEqual({ start: 900 - 128, end: 900 })
  })

  it('are copies, so posting one to a Web Worker does not clone the whole train set', () => {
    const train = numberedRows(100)
    const shard = shardOf(train, 4, 1)
    expect(shard.features.buffer.byteLength).toBe(25 * 2 * 4)
    expect(shard.labels.buffer.byteLength).toBe(25 * 4)
  })

  it('refuse to leave a shard empty, saying how many shards would fit', () => {
    let error: unknown
    try {
      shardSizes(3, 5)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(DatasetError)
    expect((error as DatasetError).code).toBe('OB046')
    expect((error as DatasetError).message).toBe('5 shards of 3 training rows would leave 2 shards empty. Use at most 3 shards, or more data.')
    expect(() => shardOf(numberedRows(3), 4, 0)).toThrow(DatasetError)
  })

  it('reject a shard index outside 0 … shards − 1', () => {
    expect(() => shardOf(numberedRows(10), 3, 3)).toThrow(RangeError)
    expect(() => shardOf(numberedRows(10), 3, -1)).toThrow(RangeError)
    expect(() => shardSizes(10, 0)).toThrow(RangeError)
  })
})
