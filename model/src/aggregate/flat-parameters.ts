import type { MlpWeights } from '../nn/mlp-weights.ts'

/**
 * An MLP's parameters as one Float32Array, layer by layer, kernel then bias (the order the
 * update codec writes them): the aggregators work coordinate by coordinate on ~100k floats
 * and need not know about layers.
 */
export function parameterCount(weights: MlpWeights): number {
  let count = 0
  for (const layer of weights.layers) count += layer.kernel.length + layer.bias.length
  return count
}

export function flattenWeights(weights: MlpWeights): Float32Array {
  const flat = new Float32Array(parameterCount(weights))
  let offset = 0
  for (const layer of weights.layers) {
    flat.set(layer.kernel, offset)
    offset += layer.kernel.length
    flat.set(layer.bias, offset)
    offset += layer.bias.length
  }
  return flat
}

/** The inverse of flattenWeights: `flat` laid out as `template`'s layers (names, shapes, activations). */
export function weightsFromFlat(template: MlpWeights, flat: Float32Array): MlpWeights {
  const expected = parameterCount(template)
  if (flat.length !== expected) {
    throw new RangeError(`flat parameters have ${flat.length} values; the model has ${expected}`)
  }
  let offset = 0
  const take = (count: number): Float32Array => flat.slice(offset, (offset += count))
  return {
    inputSize: template.inputSize,
    layers: template.layers.map((layer) => ({
      name: layer.name,
      inputs: layer.inputs,
      units: layer.units,
      activation: layer.activation,
      kernel: take(layer.kernel.length),
      bias: take(layer.bias.length),
    })),
  }
}
