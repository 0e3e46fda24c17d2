import type { Activation } from '../../src/spec/job-spec.ts'
import type { MlpWeights } from '../../src/nn/mlp-weights.ts'

/** A plain float64 forward pass over MlpWeights, independent of tfjs: the tests' reference. */
export function forwardMlp(weights: MlpWeights, inputs: ArrayLike<number>, count: number): Float64Array {
  let x = Float64Array.from(inputs)
  let width = weights.inputSize
  for (const layer of weights.layers) {
    const y = new Float64Array(count * layer.units)
    for (let r = 0; r < count; r++) {
      for (let j = 0; j < layer.units; j++) {
        let sum = layer.bias[j]!
        for (let i = 0; i < width; i++) sum += x[r * width + i]! * layer.kernel[i * layer.units + j]!
        y[r * layer.units + j] = sum
      }
      activate(y.subarray(r * layer.units, (r + 1) * layer.units), layer.activation)
    }
    x = y
    width = layer.units
  }
  return x
}

function activate(row: Float64Array, activation: Activation): void {
  switch (activation) {
    case 'relu':
      return row.forEach((v, i) => (row[i] = Math.max(0, v)))
    case 'sigmoid':
      return row.forEach((v, i) => (row[i] = 1 / (1 + Math.exp(-v))))
    case 'tanh':
      return row.forEach((v, i) => (row[i] = Math.tanh(v)))
    case 'linear':
      return
    case 'softmax': {
      const max = Math.max(...row)
      let sum = 0
      row.forEach((v, i) => (sum += row[i] = Math.exp(v - max)))
      return row.forEach((v, i) => (row[i] = v / sum))
    }
  }
}
