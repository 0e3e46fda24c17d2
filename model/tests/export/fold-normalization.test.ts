import { beforeAll, describe, expect, it } from 'vitest'
import { weightsForExport } from '../../src/export/export-weights.ts'
import { foldNormalization } from '../../src/export/fold-normalization.ts'
import type { MlpWeights, Normalization } from '../../src/nn/mlp-weights.ts'
import { maxAbsDifference } from '../support/array-compare.ts'
import { forwardMlp } from '../support/mlp-forward.ts'
import { predictTrained, trainMnistFixture, type MnistFixture } from '../support/mnist-trained-model.ts'

const tiny: MlpWeights = {
  inputSize: 2,
  layers: [
    // kernel [inputs=2, units=2], row-major: row i holds input i's weights to both units.
    {
      name: 'dense',
      inputs: 2,
      units: 2,
      activation: 'linear',
      kernel: Float32Array.of(1, 2, 3, 4),
      bias: Float32Array.of(0.5, -1),
    },
    {
      name: 'dense_1',
      inputs: 2,
      units: 1,
      activation: 'sigmoid',
      kernel: Float32Array.of(1, -1),
      bias: Float32Array.of(0),
    },
  ],
}
const standard: Normalization = {
  kind: 'standard',
  offset: Float32Array.of(10, -2),
  scale: Float32Array.of(0.5, 4),
}

describe('folding the input normalisation into the first layer', () => {
  it('scales kernel rows by scale and shifts the bias by (offset ⊙ scale)·W', () => {
    const folded = foldNormalization(tiny, standard)
    // W' = diag(0.5, 4)·[[1, 2], [3, 4]] = [[0.5, 1], [12, 16]]
    expect(Array.from(folded.layers[0]!.kernel)).toEqual([0.5, 1, 12, 16])
    // offset ⊙ scale = (5, −8); (5, −8)·W = (5 − 24, 10 − 32) = (−19, −22); b' = (19.5, 21)
    expect(Array.from(folded.layers[0]!.bias)).toEqual([19.5, 21])
    expect(folded.layers[1]).toBe(tiny.layers[1])
  })

  it('gives on raw x what the original gives on normalised x', () => {
    const raw = Float32Array.of(12, 1, -3, 0.25, 0, 0)
    const normalized = raw.map((x, k) => (x - standard.offset[k % 2]!) * standard.scale[k % 2]!)
    const folded = forwardMlp(foldNormalization(tiny, standard), raw, 3)
    const original = forwardMlp(tiny, normalized, 3)
    folded.forEach((v, i) => expect(v).toBeCloseTo(original[i]!, 12))
  })

  it('leaves the weights alone when there is no normalisation', () => {
    const none: Normalization = { kind: 'none', offset: new Float32Array(0), scale: new Float32Array(0) }
    expect(foldNormalization(tiny, none)).toBe(tiny)
  })

  it('rejects a normalisation fitted on a different number of features, saying so', () => {
    const wrong: Normalization = { kind: 'minmax', offset: new Float32Array(3), scale: new Float32Array(3) }
    expect(() => foldNormalization(tiny, wrong)).toThrow(
      /3 offsets and 3 scales but the model takes 2 features/,
    )
  })
})

describe('folding a trained MNIST model', () => {
  let fixture: MnistFixture
  beforeAll(async () => {
    fixture = await trainMnistFixture({ epochs: 1 })
  })

  it('changes the first layer (the normalisation is not the identity)', () => {
    const folded = weightsForExport(fixture.trained)
    expect(folded.layers[0]!.kernel).not.toEqual(fixture.trained.weights.layers[0]!.kernel)
    expect(folded.layers[0]!.bias).not.toEqual(fixture.trained.weights.layers[0]!.bias)
  })

  it('first-layer pre-activations on raw pixels equal the original ones on normalised pixels', () => {
    const { count, raw, normalized } = fixture.test
    const linear = (weights: MlpWeights): MlpWeights => ({
      inputSize: weights.inputSize,
      layers: [{ ...weights.layers[0]!, activation: 'linear' }],
    })
    const folded = forwardMlp(linear(weightsForExport(fixture.trained)), raw, count)
    const original = forwardMlp(linear(fixture.trained.weights), normalized, count)
    const scale = original.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    const worst = maxAbsDifference(folded, original)
    // float32 weights and inputs: agreement to float32 rounding of the largest activation.
    expect(worst / scale).toBeLessThan(1e-5)
  })

  it('class probabilities on raw pixels match the tfjs model on normalised pixels', () => {
    const { count, raw } = fixture.test
    const folded = forwardMlp(weightsForExport(fixture.trained), raw, count)
    const expected = predictTrained(fixture)
    expect(maxAbsDifference(folded, expected)).toBeLessThan(1e-5)
  })
})

describe('shape checks before export', () => {
  it('refuses weights whose kernel does not match the declared layer size', () => {
    const broken: MlpWeights = {
      inputSize: 2,
      layers: [{ ...tiny.layers[0]!, kernel: new Float32Array(3) }, tiny.layers[1]!],
    }
    expect(() =>
      weightsForExport({
        name: 'broken',
        weights: broken,
        normalization: standard,
        classNames: ['a'],
        featureNames: ['x', 'y'],
        privacy: { epsilon: null, delta: null },
        metrics: {},
      }),
    ).toThrow(/layer dense declares 2×2 .* kernel has 3 values/)
  })

  it('refuses layers that do not chain (units of one ≠ inputs of the next)', () => {
    const broken: MlpWeights = {
      inputSize: 2,
      layers: [tiny.layers[0]!, { ...tiny.layers[1]!, inputs: 3, kernel: new Float32Array(3) }],
    }
    expect(() =>
      weightsForExport({
        name: 'broken',
        weights: broken,
        normalization: standard,
        classNames: ['a'],
        featureNames: ['x', 'y'],
        privacy: { epsilon: null, delta: null },
        metrics: {},
      }),
    ).toThrow(/layer dense_1 declares 3×1 and receives 2 inputs/)
  })
})
