/**
 * Claims/s and completions/s from network_stats' counters (tasks.claims, tasks.completed). The
 * counters are read whenever the coordinator pulses (and every 15 s without pulses), so samples
 * come at irregular times; the rate at t is what the counters grew by in the window (t − W, t],
 * divided by W. A counter that goes down (a requeue resets attempts, a refused update takes a
 * completion back) counts as no growth rather than a negative rate.
 */
export interface CounterSample {
  /** ms since the epoch, when the answer arrived. */
  t: number
  claims: number
  completed: number
}

export interface RatePoint {
  /** ms since the epoch, on a whole second. */
  t: number
  claims: number
  completions: number
}

/** The growth since the previous sample, kept per sample (never negative). */
export interface CounterHistory {
  readonly first: number | null
  readonly last: CounterSample | null
  readonly steps: ReadonlyArray<{ t: number; claims: number; completions: number }>
}

export const RATE_WINDOW_MS = 10_000
/** How far back the charts go. */
export const RATE_SPAN_MS = 5 * 60_000

export const EMPTY_HISTORY: CounterHistory = { first: null, last: null, steps: [] }

/** The history with a new sample, forgetting steps older than span + window. */
export function addSample(history: CounterHistory, sample: CounterSample, keepMs = RATE_SPAN_MS + RATE_WINDOW_MS): CounterHistory {
  const last = history.last
  if (last && sample.t < last.t) return history // out of order: ignore
  const steps = history.steps.filter((s) => s.t > sample.t - keepMs)
  if (last) {
    const claims = Math.max(0, sample.claims - last.claims)
    const completions = Math.max(0, sample.completed - last.completed)
    if (claims > 0 || completions > 0) steps.push({ t: sample.t, claims, completions })
  }
  return { first: history.first ?? sample.t, last: sample, steps }
}

/**
 * Per-second rates at whole seconds from now − span to now. Points before the first sample are
 * left out; in the first window after it, the rate is over the time since the first sample.
 */
export function rateSeries(history: CounterHistory, nowMs: number, spanMs = RATE_SPAN_MS, windowMs = RATE_WINDOW_MS): RatePoint[] {
  if (history.first === null) return []
  const points: RatePoint[] = []
  const end = Math.floor(nowMs / 1000) * 1000
  const start = Math.max(end - spanMs, Math.ceil(history.first / 1000) * 1000 + 1000)
  const steps = history.steps
  // Two pointers over the steps (sorted by time): those in (t − window, t].
  let lo = 0
  let hi = 0
  let claims = 0
  let completions = 0
  for (let t = start; t <= end; t += 1000) {
    while (hi < steps.length && steps[hi]!.t <= t) {
      claims += steps[hi]!.claims
      completions += steps[hi]!.completions
      hi++
    }
    while (lo < hi && steps[lo]!.t <= t - windowMs) {
      claims -= steps[lo]!.claims
      completions -= steps[lo]!.completions
      lo++
    }
    const seconds = Math.min(windowMs, t - history.first) / 1000
    points.push({ t, claims: round2(claims / seconds), completions: round2(completions / seconds) })
  }
  return points
}

const round2 = (value: number) => Math.round(value * 100) / 100
