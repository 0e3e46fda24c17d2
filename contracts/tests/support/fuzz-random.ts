/**
 * A seeded PRNG for the invariant fuzz: the same seed replays the same operations, byte for byte.
 * sfc32 (Chris Doty-Humphrey's Small Fast Counter) seeded through splitmix32: 32-bit state words,
 * plain integer arithmetic, passes PractRand to 2^40 bytes, far more than 1,000 operations need.
 */
export class FuzzRandom {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(readonly seed: number) {
    let s = seed >>> 0
    const splitmix = () => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = splitmix()
    this.b = splitmix()
    this.c = splitmix()
    this.d = splitmix()
    for (let i = 0; i < 12; i++) this.nextUint32()
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0
    this.c = (this.c + t) >>> 0
    return t
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296
  }

  /** true with probability p. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** A bigint in [min, max], both included (uniform enough for amounts: 64 random bits, then mod). */
  bigint(min: bigint, max: bigint): bigint {
    const span = max - min + 1n
    const bits = (BigInt(this.nextUint32()) << 32n) | BigInt(this.nextUint32())
    return min + (bits % span)
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('FuzzRandom.pick: nothing to pick from')
    return items[Math.floor(this.next() * items.length)]!
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][]
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0)
    let roll = this.next() * total
    for (const [key, weight] of entries) {
      roll -= weight
      if (roll < 0) return key
    }
    return entries[entries.length - 1]![0]
  }

  /** `count` distinct items, in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items]
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
    }
    return pool.slice(0, Math.min(count, pool.length))
  }

  /** `bytes` random bytes as 0x-prefixed hex. */
  hex(bytes: number): string {
    let out = '0x'
    for (let i = 0; i < bytes; i++) out += this.int(0, 255).toString(16).padStart(2, '0')
    return out
  }
}

/** The seed to use: FUZZ_SEED when set (to replay a run), else a fresh one from the clock. */
export function fuzzSeed(env: string | undefined): number {
  if (env !== undefined && env !== '') {
    const seed = Number(env)
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`FUZZ_SEED must be an integer in [0, 4294967295], got ${JSON.stringify(env)}`)
    }
    return seed
  }
  return (Date.now() ^ Math.floor(Math.random() * 0x100000000)) >>> 0
}
