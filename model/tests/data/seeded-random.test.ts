import { describe, expect, it } from 'vitest'
import { mulberry32, randomFromSeed, seedFromString, shuffledIndices } from '../../src/data/seeded-random.ts'

// The coordinator and every worker (Node CLI, browsers) must draw the same numbers from a job's
// seed, across releases too: these values were cross-checked with an independent Python port.
describe('seeded randomness', () => {
  it('hashes text seeds as FNV-1a over UTF-8, finished with fmix32', () => {
    expect(seedFromString('')).toBe(2872998923)
    expect(seedFromString('a')).toBe(444641715)
    expect(seedFromString('job-1')).toBe(2094670749)
    expect(seedFromString('héllo')).toBe(4198468525)
  })

  it('draws mulberry32 numbers in [0, 1)', () => {
    const random = mulberry32(42)
    expect([random(), random(), random()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099])
    for (let i = 0; i < 10_000; i++) {
      const x = random()
      expect(x >= 0 && x < 1).toBe(true)
    }
  })

  it('keeps exact 32-bit state past the 2^53 limit of the usual one-liner', () => {
    // The common `a += 0x6D2B79F5` form lets `a` grow as a double; ours wraps, so a stream stays
    // exact however long it runs. Both agree on the first draws.
    let a = 7
    const reference = () => {
      let t = (a += 0x6d2b79f5)
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    const random = mulberry32(7)
    for (let i = 0; i < 1000; i++) expect(random()).toBe(reference())
  })

  it('looks uniform: mean near 1/2 and every decile near 10 %', () => {
    const random = randomFromSeed('uniformity')
    const deciles = new Array<number>(10).fill(0)
    let sum = 0
    const n = 100_000
    for (let i = 0; i < n; i++) {
      const x = random()
      sum += x
      deciles[Math.floor(x * 10)]!++
    }
    expect(sum / n).toBeCloseTo(0.5, 2)
    for (const count of deciles) expect(Math.abs(count - n / 10)).toBeLessThan(500)
  })

  it('shuffles into a permutation that depends on the seed only', () => {
    expect(Array.from(shuffledIndices(10, randomFromSeed('job-1/train-test-split')))).toEqual([4, 5, 0, 1, 7, 8, 6, 2, 3, 9])
    const a = shuffledIndices(1000, randomFromSeed('x'))
    expect(shuffledIndices(1000, randomFromSeed('x'))).toEqual(a)
    expect(shuffledIndices(1000, randomFromSeed('y'))).not.toEqual(a)
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 1000 }, (_, i) => i))
    expect(shuffledIndices(0, randomFromSeed('x'))).toHaveLength(0)
  })

  it('puts each index in each position about equally often', () => {
    const n = 5
    const trials = 50_000
    const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0))
    const random = randomFromSeed('fisher-yates')
    for (let t = 0; t < trials; t++) {
      shuffledIndices(n, random).forEach((value, position) => counts[value]![position]!++)
    }
    for (const row of counts) for (const count of row) expect(Math.abs(count - trials / n)).toBeLessThan(400)
  })
})
