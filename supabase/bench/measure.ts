import { performance } from 'node:perf_hooks'
import { Backlog } from './backlog.ts'
import type { CpuMeter } from './cpu.ts'

/** One claim+complete cycle run by worker slot `worker`; returns how long its claim took (ms). */
export type Cycle = (worker: number) => Promise<{ claimMs: number }>

/** What the benchmark needs from a queue implementation. */
export interface QueueUnderTest {
  /** Items waiting to be claimed now. */
  queued(): Promise<number>
  /** Queues one batch as a producer would (its own connection); resolves to how many. */
  refill(): Promise<number>
  /** vacuum analyze between levels: every level starts from fresh statistics and a clean heap. */
  tidy(): Promise<void>
  /** `level` workers, each with its own connection; `cycle` reports each claim to `backlog`. */
  openLevel(level: number, backlog: Backlog): Promise<{ cycle: Cycle; close(): Promise<void> }>
}

export interface MeasureOptions {
  concurrency: number
  warmupMs: number
  windowMs: number
  cpu: CpuMeter
}

export interface Measurement {
  /** Cycles that finished inside the timed window. */
  cycles: number
  cycles_per_s: number
  /** Claim latency of those cycles (ms), nearest-rank percentiles. */
  claim_ms: { p50: number; p99: number }
  /** CPU time per cycle (ms) in this process (PGlite runs here) and in the PostgreSQL server. */
  cpu_ms_per_cycle: { node: number; postgres: number | null }
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

const round = (value: number, digits: number) => Number(value.toFixed(digits))

/**
 * Runs `concurrency` loops of `cycle` back to back: a warm-up (connections open, plans cached),
 * then a timed window in which every cycle that *finishes* counts. The loops stop after the
 * window and the slowest in-flight cycle is awaited, so nothing is left half done (no lease held)
 * when the next level starts. The first error stops every loop and is rethrown.
 */
export async function measureThroughput(cycle: Cycle, options: MeasureOptions): Promise<Measurement> {
  const start = performance.now()
  const windowStart = start + options.warmupMs
  const windowEnd = windowStart + options.windowMs
  const claimTimes: number[] = []
  let failure: unknown
  let stop = false
  // CPU is sampled by the first cycle to finish past each edge of the window.
  const cpuAt: Array<{ sample: ReturnType<CpuMeter>; cycles: number }> = []

  async function loop(worker: number) {
    while (!stop) {
      const { claimMs } = await cycle(worker)
      const now = performance.now()
      if (now >= windowStart && cpuAt.length === 0) cpuAt.push({ sample: options.cpu(), cycles: claimTimes.length })
      if (now >= windowStart && now <= windowEnd) claimTimes.push(claimMs)
      if (now > windowEnd) {
        if (cpuAt.length === 1) cpuAt.push({ sample: options.cpu(), cycles: claimTimes.length })
        stop = true
      }
    }
  }

  const loops = Array.from({ length: options.concurrency }, (_, worker) =>
    loop(worker).catch((error: unknown) => {
      failure ??= error
      stop = true
    }),
  )
  await Promise.all(loops)
  if (failure !== undefined) throw failure
  const [first, last] = cpuAt as [(typeof cpuAt)[number], (typeof cpuAt)[number]]
  const cycles = Math.max(1, last.cycles - first.cycles)
  const perCycle = (a: number | null, b: number | null) => (a === null || b === null ? null : round((b - a) / cycles, 3))

  claimTimes.sort((a, b) => a - b)
  return {
    cycles: claimTimes.length,
    cycles_per_s: round(claimTimes.length / (options.windowMs / 1000), 1),
    claim_ms: { p50: round(percentile(claimTimes, 50), 2), p99: round(percentile(claimTimes, 99), 2) },
    cpu_ms_per_cycle: {
      node: perCycle(first.sample.node_ms, last.sample.node_ms)!,
      postgres: perCycle(first.sample.postgres_ms, last.sample.postgres_ms),
    },
  }
}

export interface LevelOptions {
  warmupMs: number
  windowMs: number
  /** Items kept queued during the level (see Backlog). */
  backlog: number
  cpu: CpuMeter
}

/** Fills and tidies `queue`, then measures `level` concurrent workers draining it. */
export async function measureLevel(queue: QueueUnderTest, level: number, options: LevelOptions): Promise<Measurement> {
  const backlog = new Backlog(() => queue.refill(), options.backlog)
  await backlog.fill(await queue.queued())
  await queue.tidy()
  const { cycle, close } = await queue.openLevel(level, backlog)
  try {
    const measurement = await measureThroughput(cycle, { ...options, concurrency: level })
    await backlog.settle()
    return measurement
  } finally {
    await backlog.settle().catch(() => {})
    await close()
  }
}
