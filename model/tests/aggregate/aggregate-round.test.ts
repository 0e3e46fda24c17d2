import { describe, expect, it } from 'vitest'
import { AggregationError, aggregateUpdates } from '../../src/aggregate/aggregate-round.ts'
import type { WorkerUpdate } from '../../src/aggregate/aggregate-round.ts'
import { flattenWeights } from '../../src/aggregate/flat-parameters.ts'
import { validateUpdate } from '../../src/aggregate/update-validation.ts'
import { tinyModel } from './tiny-model.ts'

const global = tinyModel(() => 0)
const constant = (value: number, label: string, sampleCount = 10): WorkerUpdate => ({
  weights: tinyModel(() => value),
  sampleCount,
  label,
})
const flat = (values: number[]) => Float32Array.from(values)
const nine = (value: number) => flat(Array.from({ length: 9 }, () => value))

describe('aggregateUpdates', () => {
  it('fedavg weights by sample counts and lists every update as accepted', () => {
    const round = aggregateUpdates(global, [constant(1, 'a', 100), constant(4, 'b', 50)], { strategy: 'fedavg' })
    // (100·1 + 50·4) / 150 = 2
    expect(flattenWeights(round.weights)).toEqual(nine(2))
    expect(round.accepted).toEqual(['a', 'b'])
    expect(round.rejected).toEqual([])
    expect(round.weights.layers.map((l) => [l.name, l.inputs, l.units, l.activation])).toEqual([
      ['dense', 2, 2, 'relu'],
      ['dense_1', 2, 1, 'softmax'],
    ])
  })

  it('median ignores one worker sending enormous weights', () => {
    const round = aggregateUpdates(global, [constant(1, 'a'), constant(2, 'b'), constant(3, 'c'), constant(1e20, 'evil')], { strategy: 'median' })
    expect(flattenWeights(round.weights)).toEqual(nine(2.5))
    expect(round.accepted).toEqual(['a', 'b', 'c', 'evil'])
  })

  it('trimmed_mean cuts the extremes on each side', () => {
    const updates = [constant(-50, 'low'), constant(1, 'a'), constant(2, 'b'), constant(3, 'c'), constant(50, 'high')]
    const round = aggregateUpdates(global, updates, { strategy: 'trimmed_mean', trimFraction: 0.2 })
    expect(flattenWeights(round.weights)).toEqual(nine(2))
  })

  it('rejects an update containing NaN, naming the layer and the index', () => {
    const poisoned = constant(1, 'nan')
    poisoned.weights.layers[1]!.kernel[1] = Number.NaN
    const round = aggregateUpdates(global, [constant(3, 'ok'), poisoned], { strategy: 'fedavg' })
    expect(round.accepted).toEqual(['ok'])
    expect(round.rejected).toEqual([{ label: 'nan', reason: 'dense_1.kernel[1] is NaN; every weight must be a finite number' }])
    expect(flattenWeights(round.weights)).toEqual(nine(3))
  })

  it('rejects an update containing Infinity', () => {
    const infinite = constant(1, 'inf')
    infinite.weights.layers[0]!.bias[0] = Number.POSITIVE_INFINITY
    expect(aggregateUpdates(global, [constant(1, 'ok'), infinite], { strategy: 'median' }).rejected).toEqual([
      { label: 'inf', reason: 'dense.bias[0] is Infinity; every weight must be a finite number' },
    ])
  })

  it('rejects (does not clip) an update farther from the global weights than updateNormBound', () => {
    // All 9 weights at 1 from a zero global: ‖Δ‖ = 3. All at 0.5: ‖Δ‖ = 1.5.
    const round = aggregateUpdates(global, [constant(0.5, 'near'), constant(1, 'far')], { strategy: 'fedavg', updateNormBound: 2 })
    expect(round.accepted).toEqual(['near'])
    expect(round.rejected).toEqual([
      { label: 'far', reason: 'the update moves the weights by an L2 norm of 3.00000, over the bound of 2 (updateNormBound); it is rejected, not clipped' },
    ])
    expect(flattenWeights(round.weights)).toEqual(nine(0.5))
  })

  it('rejects updates whose architecture differs from the global model', () => {
    const wide = constant(1, 'wide')
    wide.weights.layers[0] = { ...wide.weights.layers[0]!, units: 3, kernel: new Float32Array(6), bias: new Float32Array(3) }
    const renamed = constant(1, 'renamed')
    renamed.weights.layers[1]!.name = 'output'
    const shortKernel = constant(1, 'short')
    shortKernel.weights.layers[0]!.kernel = new Float32Array(3)
    const otherInput = constant(1, 'input')
    otherInput.weights.inputSize = 3
    const relu = constant(1, 'activation')
    relu.weights.layers[1]!.activation = 'relu'
    const round = aggregateUpdates(global, [constant(7, 'ok'), wide, renamed, shortKernel, otherInput, relu], { strategy: 'fedavg' })
    expect(round.accepted).toEqual(['ok'])
    expect(round.rejected).toEqual([
      { label: 'wide', reason: "layer dense: shape is [2, 3]; the global model's is [2, 2]" },
      { label: 'renamed', reason: `layer 1 is named "output"; the global model's is "dense_1"` },
      { label: 'short', reason: 'layer dense: kernel has 3 values; [2, 2] needs 4' },
      { label: 'input', reason: "input size is 3; the global model's is 2" },
      { label: 'activation', reason: "layer dense_1: activation is relu; the global model's is softmax" },
    ])
  })

  it('rejects a repeated label and a sample count that is not a positive whole number', () => {
    const round = aggregateUpdates(global, [constant(1, 'a'), constant(9, 'a'), constant(1, 'zero', 0), constant(1, 'half', 2.5)], { strategy: 'fedavg' })
    expect(round.accepted).toEqual(['a'])
    expect(round.rejected.map((r) => r.label)).toEqual(['a', 'zero', 'half'])
    expect(round.rejected[0]!.reason).toMatch(/same label "a"; only the first one counts/)
    expect(round.rejected[1]!.reason).toMatch(/sampleCount must be a whole number > 0, got 0/)
  })

  it('throws no_valid_updates when every update is rejected, quoting the reasons', () => {
    const broken = constant(1, 'w1')
    broken.weights.layers[0]!.kernel[2] = Number.NaN
    const attempt = () => aggregateUpdates(global, [broken], { strategy: 'fedavg' })
    expect(attempt).toThrow(AggregationError)
    expect(attempt).toThrow(/All 1 updates were rejected \(w1: dense\.kernel\[2\] is NaN.*global weights are unchanged/)
    try {
      attempt()
    } catch (error) {
      expect((error as AggregationError).code).toBe('no_valid_updates')
    }
    expect(() => aggregateUpdates(global, [], { strategy: 'median' })).toThrow(/No updates to aggregate/)
  })

  it('refuses trimmed_mean without a trimFraction, and a non-positive bound', () => {
    expect(() => aggregateUpdates(global, [constant(1, 'a')], { strategy: 'trimmed_mean' })).toThrow(/needs a trimFraction/)
    expect(() => aggregateUpdates(global, [constant(1, 'a')], { strategy: 'fedavg', updateNormBound: 0 })).toThrow(/updateNormBound must be > 0/)
  })

  it('aggregates ~110k parameters from 8 workers with every strategy', () => {
    // 784 → 128 → 64 → 10: the MNIST MLP, 109,386 parameters.
    const shapes = [[784, 128], [128, 64], [64, 10]] as const
    const model = (offset: number) => ({
      inputSize: 784,
      layers: shapes.map(([inputs, units], l) => ({
        name: l === 0 ? 'dense' : `dense_${l}`,
        inputs,
        units,
        activation: l === 2 ? ('softmax' as const) : ('relu' as const),
        kernel: Float32Array.from({ length: inputs * units }, (_, i) => Math.sin(i) * 0.01 + offset),
        bias: new Float32Array(units).fill(offset),
      })),
    })
    const updates = Array.from({ length: 8 }, (_, k) => ({ weights: model(k * 1e-3), sampleCount: 100 + k, label: `w${k}` }))
    for (const strategy of ['fedavg', 'median', 'trimmed_mean'] as const) {
      const round = aggregateUpdates(model(0), updates, { strategy, trimFraction: strategy === 'trimmed_mean' ? 0.25 : undefined })
      expect(round.accepted).toHaveLength(8)
      // Every worker is offset by k·0.001 (k = 0..7): the median and the trimmed mean sit at 0.0035.
      if (strategy !== 'fedavg') expect(round.weights.layers[2]!.bias[0]).toBeCloseTo(0.0035, 6)
    }
  })
})

describe('validateUpdate', () => {
  it('reports the L2 norm of the difference from the global weights', () => {
    expect(validateUpdate(global, tinyModel((i) => (i === 3 ? 3 : i === 7 ? -4 : 0)))).toEqual({ ok: true, deltaNorm: 5 })
  })
})
