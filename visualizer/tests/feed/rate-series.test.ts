import { describe, expect, it } from 'vitest'
import { addSample, EMPTY_HISTORY, rateSeries, type CounterSample } from '../../src/feed/rate-series.ts'

const T0 = Date.parse('2026-11-22T12:00:00Z')
const history = (samples: CounterSample[]) => samples.reduce((h, s) => addSample(h, s), EMPTY_HISTORY)

describe('claims/s and completions/s from the counters', () => {
  it('is what the counters grew by in the last 10 s, per second, at whole seconds', () => {
    const h = history([
      { t: T0, claims: 100, completed: 50 },
      { t: T0 + 10_000, claims: 120, completed: 60 },
      { t: T0 + 20_000, claims: 170, completed: 60 },
    ])
    const at = (t: number) => rateSeries(h, T0 + 20_000).find((p) => p.t === T0 + t)
    expect(at(10_000)).toEqual({ t: T0 + 10_000, claims: 2, completions: 1 }) // 20 and 10 over the first 10 s
    expect(at(15_000)).toEqual({ t: T0 + 15_000, claims: 2, completions: 1 }) // the step at +10 s is still in the window
    expect(at(20_000)).toEqual({ t: T0 + 20_000, claims: 5, completions: 0 }) // 50 claims in (10 s, 20 s]
  })

  it('holds the last reading between samples: no pulse means nothing changed', () => {
    const h = history([
      { t: T0, claims: 0, completed: 0 },
      { t: T0 + 2_000, claims: 30, completed: 10 },
    ])
    const points = rateSeries(h, T0 + 30_000)
    expect(points.find((p) => p.t === T0 + 5_000)).toMatchObject({ claims: 6, completions: 2 }) // over the 5 s since the first reading
    expect(points.find((p) => p.t === T0 + 10_000)).toMatchObject({ claims: 3, completions: 1 })
    expect(points.find((p) => p.t === T0 + 12_000)).toMatchObject({ claims: 0, completions: 0 }) // the step left the window
    expect(points.at(-1)).toMatchObject({ t: T0 + 30_000, claims: 0 })
  })

  it('divides by the time since the first reading while it is shorter than the window', () => {
    const h = history([
      { t: T0, claims: 10, completed: 0 },
      { t: T0 + 1_000, claims: 14, completed: 2 },
    ])
    expect(rateSeries(h, T0 + 2_000)).toEqual([
      { t: T0 + 1_000, claims: 4, completions: 2 },
      { t: T0 + 2_000, claims: 2, completions: 1 },
    ])
  })

  it('counts a counter going down (attempts reset by a requeue) as no growth, not a negative rate', () => {
    const h = history([
      { t: T0, claims: 100, completed: 40 },
      { t: T0 + 1_000, claims: 90, completed: 39 },
      { t: T0 + 2_000, claims: 95, completed: 41 },
    ])
    const last = rateSeries(h, T0 + 2_000).at(-1)!
    expect(last).toEqual({ t: T0 + 2_000, claims: 2.5, completions: 1 }) // +5 and +2 over 2 s
  })

  it('has no points before two readings, ignores readings out of order, and keeps only the span', () => {
    expect(rateSeries(EMPTY_HISTORY, T0)).toEqual([])
    expect(rateSeries(history([{ t: T0, claims: 1, completed: 1 }]), T0 + 500)).toEqual([])
    const h = history([
      { t: T0, claims: 0, completed: 0 },
      { t: T0 + 5_000, claims: 10, completed: 0 },
    ])
    expect(addSample(h, { t: T0 + 1_000, claims: 99, completed: 99 })).toBe(h)
    const long = rateSeries(h, T0 + 20 * 60_000)
    expect(long).toHaveLength(301) // 5 minutes at one point a second, both ends included
    expect(long[0]!.t).toBe(T0 + 15 * 60_000)
    // Steps older than the span and the window are forgotten.
    expect(addSample(h, { t: T0 + 20 * 60_000, claims: 10, completed: 0 }).steps).toEqual([])
  })
})
