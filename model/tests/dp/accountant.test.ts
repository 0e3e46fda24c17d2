import { describe, expect, it } from 'vitest'
import { NoiseCalibrationError, noiseMultiplierForEpsilon } from '../../src/dp/noise-calibration.ts'
import {
  computeRdp,
  DEFAULT_ORDERS,
  epsilonForSteps,
  epsilonFromRdp,
  logErfc,
  OPACUS_ORDERS,
  TF_PRIVACY_ORDERS,
} from '../../src/dp/rdp-accountant.ts'

// MNIST: N = 60,000 training examples, δ = 1e-5, batch 256. TF Privacy's tutorial counts
// steps as epochs · N // batch and computes ε with the orders 1.1 … 10.9, 12 … 63 and the
// classic conversion; Opacus' example README table was computed the same way.
const N = 60_000
const DELTA = 1e-5
const mnist = (noiseMultiplier: number, epochs: number) => ({
  sampleRate: 256 / N,
  noiseMultiplier,
  steps: Math.floor((epochs * N) / 256),
  delta: DELTA,
})

describe('RDP accountant: published vectors', () => {
  it('TF Privacy tutorial README: σ 1.12 (its default), 60 epochs → ε 2.92; after epochs 1 and 2 → 1.00, 1.04', () => {
    expect(epsilonForSteps({ ...mnist(1.12, 60), conversion: 'classic', orders: OPACUS_ORDERS }).epsilon.toFixed(2)).toBe('2.92')
    expect(epsilonForSteps({ ...mnist(1.12, 1), conversion: 'classic', orders: OPACUS_ORDERS }).epsilon.toFixed(2)).toBe('1.00')
    expect(epsilonForSteps({ ...mnist(1.12, 2), conversion: 'classic', orders: OPACUS_ORDERS }).epsilon.toFixed(2)).toBe('1.04')
  })

  it('TF Privacy README: σ 1.2, 10 epochs → ε 1.20 (classic)', () => {
    const spent = epsilonForSteps({ ...mnist(1.2, 10), conversion: 'classic', orders: OPACUS_ORDERS })
    expect(spent.epsilon.toFixed(2)).toBe('1.20')
    expect(spent.order).toBe(15)
  })

  it('TF Privacy README: σ 0.6, 30 epochs → 9.77 with TF orders (README prints 9.74), 9.75 with Opacus orders', () => {
    const tf = epsilonForSteps({ ...mnist(0.6, 30), conversion: 'classic', orders: TF_PRIVACY_ORDERS })
    expect(tf.epsilon.toFixed(2)).toBe('9.77')
    expect(tf.order).toBe(3)
    const opacus = epsilonForSteps({ ...mnist(0.6, 30), conversion: 'classic', orders: OPACUS_ORDERS })
    expect(opacus.epsilon.toFixed(2)).toBe('9.75')
    expect(opacus.order).toBe(2.9)
  })

  it('Opacus MNIST README table: σ 1.1/60 epochs → 3.01, σ 1.3/15 → 1.19, σ 0.7/45 → 7.10 (batch 256, classic)', () => {
    const at = (sigma: number, epochs: number) =>
      epsilonForSteps({ ...mnist(sigma, epochs), conversion: 'classic', orders: OPACUS_ORDERS }).epsilon.toFixed(2)
    expect(at(1.1, 60)).toBe('3.01')
    expect(at(1.3, 15)).toBe('1.19')
    expect(at(0.7, 45)).toBe('7.10')
  })

  it('Opacus MNIST README training log: σ 1.3 → ε 0.71 at α 18 after 1 epoch, 1.18 at α 17 after 15 (batch 250)', () => {
    // 240 steps of q = 250/60000 per epoch, as its progress bar shows.
    const after = (epochs: number) =>
      epsilonForSteps({ sampleRate: 250 / N, noiseMultiplier: 1.3, steps: 240 * epochs, delta: DELTA, conversion: 'classic', orders: OPACUS_ORDERS })
    expect(after(1).epsilon.toFixed(2)).toBe('0.71')
    expect(after(1).order).toBe(18)
    expect(after(15).epsilon.toFixed(2)).toBe('1.18')
    expect(after(15).order).toBe(17)
  })

  it("Opacus' unit test (tight conversion): q 0.04, σ 1.5, 2250 steps → 7.32911117143", () => {
    const spent = epsilonForSteps({ sampleRate: 0.04, noiseMultiplier: 1.5, steps: 2250, delta: DELTA, conversion: 'tight', orders: OPACUS_ORDERS })
    expect(spent.epsilon).toBeCloseTo(7.32911117143, 7)
    expect(spent.order).toBe(3.9)
  })

  it('sample rate 0.004, σ 1.3, 3750 steps: 1.16 classic, 0.92 tight (the tight bound is what Opacus ≥ 1.0 prints)', () => {
    const run = { sampleRate: 0.004, noiseMultiplier: 1.3, steps: 3750, delta: DELTA, orders: OPACUS_ORDERS }
    expect(epsilonForSteps({ ...run, conversion: 'classic' }).epsilon).toBeCloseTo(1.1597494, 6)
    expect(epsilonForSteps({ ...run, conversion: 'tight' }).epsilon).toBeCloseTo(0.9220489, 6)
  })
})

describe('RDP accountant: per-order values', () => {
  // Reference values from TF Privacy's compute_rdp (scipy 1.17), one step.
  it('integer and fractional orders match TF Privacy to 1e-8 relative', () => {
    const orders = [1.1, 1.5, 2, 2.5, 3, 7.7, 10.9, 32, 512]
    const reference = [
      0.00032843787855268703, 0.00046922577706008835, 0.000669464839435923, 0.0009098691963504071,
      0.0012204873417287722, 2.564765317001223, 6.052110271140885, 27.899337161534355, 517.8347973311207,
    ]
    const rdp = computeRdp(0.01, 0.7, 1, orders)
    rdp.forEach((value, k) => expect(Math.abs(value - reference[k]!) / reference[k]!).toBeLessThan(1e-8))
  })

  it('q = 0 gives 0, q = 1 gives α/(2σ²), σ = 0 gives ∞, 0 steps give 0', () => {
    expect(computeRdp(0, 1, 100, [2, 2.5])).toEqual([0, 0])
    expect(computeRdp(1, 2, 3, [2, 2.5])).toEqual([3 * (2 / 8), 3 * (2.5 / 8)])
    expect(computeRdp(0.01, 0, 1, [2, 2.5])).toEqual([Infinity, Infinity])
    expect(computeRdp(0.01, 0, 0, [2])).toEqual([0])
    expect(epsilonFromRdp([2, 3], [Infinity, Infinity], DELTA)).toEqual({ epsilon: Infinity, order: null })
  })

  it('conversions: classic = rdp + log(1/δ)/(α−1); tight = rdp + log((α−1)/α) − (log δ + log α)/(α−1)', () => {
    expect(epsilonFromRdp([5], [1], DELTA, 'classic').epsilon).toBeCloseTo(1 + Math.log(1 / DELTA) / 4, 12)
    expect(epsilonFromRdp([5], [1], DELTA, 'tight').epsilon).toBeCloseTo(1 + Math.log(4 / 5) - (Math.log(DELTA) + Math.log(5)) / 4, 12)
  })

  it('logErfc is accurate where erfc underflows and for negative arguments', () => {
    expect(logErfc(0)).toBeCloseTo(0, 15)
    expect(logErfc(1)).toBeCloseTo(-1.8496055099332482, 14)
    expect(logErfc(-2)).toBeCloseTo(0.6908055736465877, 14)
    // mpmath: erfc(30) = 2.56e-393 (a double underflows); log(erfc(1000)) = −1000007.4801207…
    expect(logErfc(30)).toBeCloseTo(-903.974117110643878, 10)
    expect(logErfc(1000)).toBeCloseTo(-1000007.48012072190, 6)
  })

  it('default orders are the sorted union of both libraries (158 orders)', () => {
    expect(DEFAULT_ORDERS).toHaveLength(158)
    expect(new Set(DEFAULT_ORDERS)).toEqual(new Set([...OPACUS_ORDERS, ...TF_PRIVACY_ORDERS]))
    expect([...DEFAULT_ORDERS].sort((a, b) => a - b)).toEqual(DEFAULT_ORDERS)
  })

  it('rejects invalid arguments', () => {
    expect(() => computeRdp(1.5, 1, 1, [2])).toThrow(/sampleRate/)
    expect(() => computeRdp(0.1, -1, 1, [2])).toThrow(/noiseMultiplier/)
    expect(() => computeRdp(0.1, 1, 1, [1])).toThrow(/order/)
    expect(() => epsilonFromRdp([2], [1], 0)).toThrow(/delta/)
  })
})

describe('RDP accountant: properties', () => {
  const base = { sampleRate: 0.01, noiseMultiplier: 1, steps: 1000, delta: DELTA }

  it('ε grows with the number of steps', () => {
    let previous = 0
    for (const steps of [1, 10, 100, 1000, 10_000, 100_000]) {
      const { epsilon } = epsilonForSteps({ ...base, steps })
      expect(epsilon).toBeGreaterThan(previous)
      previous = epsilon
    }
  })

  it('ε falls as σ grows', () => {
    let previous = Infinity
    for (const noiseMultiplier of [0.3, 0.5, 0.8, 1, 1.5, 2, 4, 10, 50]) {
      const { epsilon } = epsilonForSteps({ ...base, noiseMultiplier })
      expect(epsilon).toBeLessThan(previous)
      previous = epsilon
    }
  })

  it('ε grows with the sampling rate, and tight is below classic', () => {
    let previous = 0
    for (const sampleRate of [0.001, 0.01, 0.1, 0.5, 1]) {
      const tight = epsilonForSteps({ ...base, sampleRate, conversion: 'tight' }).epsilon
      const classic = epsilonForSteps({ ...base, sampleRate, conversion: 'classic' }).epsilon
      expect(tight).toBeGreaterThan(previous)
      expect(tight).toBeLessThan(classic)
      previous = tight
    }
  })
})

describe('noise calibration', () => {
  it('finds the smallest σ on a 0.001 grid whose ε meets the target', () => {
    const run = { sampleRate: 256 / N, steps: Math.floor((60 * N) / 256), delta: DELTA }
    const sigma = noiseMultiplierForEpsilon({ ...run, targetEpsilon: 2.5 })
    expect(Number.isInteger(Math.round(sigma * 1000))).toBe(true)
    expect(epsilonForSteps({ ...run, noiseMultiplier: sigma }).epsilon).toBeLessThanOrEqual(2.5)
    expect(epsilonForSteps({ ...run, noiseMultiplier: sigma - 0.001 }).epsilon).toBeGreaterThan(2.5)
  })

  it('round-trips: the σ found for the ε of σ = 1.1 is 1.1', () => {
    const run = { sampleRate: 0.004, steps: 15_000, delta: DELTA }
    const { epsilon } = epsilonForSteps({ ...run, noiseMultiplier: 1.1 })
    expect(noiseMultiplierForEpsilon({ ...run, targetEpsilon: epsilon })).toBe(1.1)
  })

  it("agrees with Opacus' get_noise_multiplier test (ε 8, q 0.04, 90 epochs → σ ≈ 1.4253)", () => {
    const sigma = noiseMultiplierForEpsilon({ targetEpsilon: 8, sampleRate: 0.04, steps: 2250, delta: DELTA, orders: OPACUS_ORDERS })
    expect(Math.abs(sigma - 1.425307617)).toBeLessThan(0.01)
  })

  it('returns the lower bound 0.1 when even that meets the target', () => {
    expect(noiseMultiplierForEpsilon({ targetEpsilon: 100, sampleRate: 1e-4, steps: 1, delta: DELTA })).toBe(0.1)
  })

  it('says what to change when even σ = 100 is not enough', () => {
    const attempt = () => noiseMultiplierForEpsilon({ targetEpsilon: 0.01, sampleRate: 1, steps: 100_000, delta: DELTA })
    expect(attempt).toThrow(NoiseCalibrationError)
    expect(attempt).toThrow(/σ = 100 still gives ε = .*Raise the target ε, or lower the number of steps/)
  })
})
