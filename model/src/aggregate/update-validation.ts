import type { DenseLayerWeights, MlpWeights } from '../nn/mlp-weights.ts'

export interface UpdateValidationOptions {
  /**
   * The largest L2 norm of (update − global) accepted. An update beyond it is REJECTED, not
   * clipped: an honest worker trains a few local epochs from the global weights and lands near
   * them; one far away is broken or hostile, and scaling it down would still let it steer the
   * round. (DP-FedAvg's clipping of client updates is a different step with its own norm.)
   */
  updateNormBound?: number
}

export type UpdateCheck =
  | { ok: true; deltaNorm: number }
  | { ok: false; reason: string }

/**
 * Checks a worker's weights against the round's global weights: the same architecture (input
 * size, layer names, shapes, activations), every value finite, and, given a bound, the L2 norm of
 * the difference within it. Reasons name the layer and the index of the first bad value.
 */
export function validateUpdate(global: MlpWeights, update: MlpWeights, options: UpdateValidationOptions = {}): UpdateCheck {
  // Checked against itself, the global model's arrays must fit its own declared shapes.
  const globalProblem = architectureMismatch(global, global)
  if (globalProblem) throw new RangeError(`the global weights are inconsistent: ${globalProblem}`)
  const shape = architectureMismatch(global, update)
  if (shape) return { ok: false, reason: shape }
  let sumOfSquares = 0
  for (const [l, layer] of update.layers.entries()) {
    const reference = global.layers[l]!
    for (const part of ['kernel', 'bias'] as const) {
      const values = layer[part]
      const base = reference[part]
      for (let i = 0; i < values.length; i++) {
        const value = values[i]!
        if (!Number.isFinite(value)) {
          return { ok: false, reason: `${layer.name}.${part}[${i}] is ${value}; every weight must be a finite number` }
        }
        const difference = value - base[i]!
        sumOfSquares += difference * difference
      }
    }
  }
  const deltaNorm = Math.sqrt(sumOfSquares)
  const bound = options.updateNormBound
  // `!(≤)` so that a NaN norm (a non-finite global weight) is rejected too.
  if (bound !== undefined && !(deltaNorm <= bound)) {
    return {
      ok: false,
      reason: `the update moves the weights by an L2 norm of ${formatNorm(deltaNorm)}, over the bound of ${bound} (updateNormBound); it is rejected, not clipped`,
    }
  }
  return { ok: true, deltaNorm }
}

/** What differs between the two architectures, or null when they match (array lengths included). */
export function architectureMismatch(global: MlpWeights, update: MlpWeights): string | null {
  if (update.inputSize !== global.inputSize) {
    return `input size is ${update.inputSize}; the global model's is ${global.inputSize}`
  }
  if (update.layers.length !== global.layers.length) {
    return `has ${update.layers.length} layers; the global model has ${global.layers.length}`
  }
  for (const [l, layer] of update.layers.entries()) {
    const reference = global.layers[l]!
    if (layer.name !== reference.name) return `layer ${l} is named "${layer.name}"; the global model's is "${reference.name}"`
    const problem = layerMismatch(layer, reference)
    if (problem) return `layer ${layer.name}: ${problem}`
  }
  return null
}

function layerMismatch(layer: DenseLayerWeights, reference: DenseLayerWeights): string | null {
  if (layer.inputs !== reference.inputs || layer.units !== reference.units) {
    return `shape is [${layer.inputs}, ${layer.units}]; the global model's is [${reference.inputs}, ${reference.units}]`
  }
  if (layer.activation !== reference.activation) {
    return `activation is ${layer.activation}; the global model's is ${reference.activation}`
  }
  if (layer.kernel.length !== reference.inputs * reference.units) {
    return `kernel has ${layer.kernel.length} values; [${reference.inputs}, ${reference.units}] needs ${reference.inputs * reference.units}`
  }
  if (layer.bias.length !== reference.units) return `bias has ${layer.bias.length} values; it needs ${reference.units}`
  return null
}

function formatNorm(norm: number): string {
  return norm >= 1e6 || norm < 1e-3 ? norm.toExponential(3) : norm.toPrecision(6)
}
