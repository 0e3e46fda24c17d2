/**
 * Seeded randomness that gives the same numbers in Node, browsers and Web Workers, so that the
 * coordinator and every worker derive the same shuffle from a job's seed. Math.random cannot be
 * seeded; these use 32-bit integer arithmetic only (Math.imul, >>>), which is exact everywhere.
 */

/** A source of uniform numbers in [0, 1), each a multiple of 2^−32. */
export type Random = () => number

/**
 * mulberry32 (Tommy Ettinger): one 32-bit state word, passes PractRand up to 2^32 outputs, a few
 * ns per number. Its 2^32 streams are plenty for shuffling and sampling; it is not cryptographic.
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * 32-bit FNV-1a over the UTF-8 bytes of `text` (UTF-8 rather than UTF-16 code units so that a
 * Python or Rust port hashes the same bytes), finished with murmur3's fmix32 so that seeds which
 * differ in one character give unrelated streams.
 */
export function seedFromString(text: string): number {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193)
  }
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  hash = Math.imul(hash, 0xc2b2ae35)
  hash ^= hash >>> 16
  return hash >>> 0
}

/** The PRNG for a text seed, e.g. `${jobId}/initial-weights`: `mulberry32(seedFromString(seed))`. */
export function randomFromSeed(seed: string): Random {
  return mulberry32(seedFromString(seed))
}

/** 0 … n − 1 in a uniformly random order (Fisher–Yates, drawing from the end). */
export function shuffledIndices(n: number, random: Random): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`n must be a whole number in [0, 2^32), got ${n}`)
  const indices = new Uint32Array(n)
  for (let i = 0; i < n; i++) indices[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const swap = indices[i]!
    indices[i] = indices[j]!
    indices[j] = swap
  }
  return indices
}
