import type { MlpWeights } from '../../src/nn/mlp-weights.ts'

/**
 * A 2 → 2 → 1 MLP, 9 parameters: dense.kernel [0..3], dense.bias [4, 5], dense_1.kernel [6, 7],
 * dense_1.bias [8]; `value(i)` fills flat index i.
 */
export function tinyModel(value: (index: number) => number): MlpWeights {
  const fill = (from: number, count: number) => Float32Array.from({ length: count }, (_, k) => value(from + k))
  return {
    inputSize: 2,
    layers: [
      { name: 'dense', inputs: 2, units: 2, activation: 'relu', kernel: fill(0, 4), bias: fill(4, 2) },
      { name: 'dense_1', inputs: 2, units: 1, activation: 'softmax', kernel: fill(6, 2), bias: fill(8, 1) },
    ],
  }
}
