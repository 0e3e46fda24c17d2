import { foldNormalization } from '../export/fold-normalization.ts'
import type { MlpWeights, Normalization } from '../nn/mlp-weights.ts'
import { inputPacking } from './input-commitment.ts'
import { poseidonConstraints } from './poseidon-cost.ts'

/**
 * Fixed-point quantization of a trained MLP for a zero-knowledge circuit (Groth16 over BN254).
 *
 * Everything is an integer. With S = 2^fracBits:
 *   input      x_q = clamp(round(x·S), 0, 2^inputBits − 1)          (raw features: the input
 *                                                                     normalisation is folded in)
 *   kernel     W_q = round(W·S),  bias b_q = round(b·S²)
 *   layer      z = Σ a_q·W_q + b_q                                    (scale S²)
 *   hidden     a = relu(floor(z / S))                                 (scale S again)
 *   output     logits = z of the last layer (scale S²); class = first index of the maximum.
 * Softmax is dropped: it does not change the argmax.
 *
 * Interval arithmetic over the accepted input range [0, 2^inputBits − 1] bounds every
 * pre-activation; those bounds size the circuit's bit decompositions, so the circuit is complete
 * for every input it accepts, and the integer reference (reference.ts) stays exact in float64.
 */
export interface QuantizedLayer {
  inputs: number
  units: number
  activation: 'relu' | 'output'
  /** Row-major [inputs, units] like MlpWeights (Keras Dense layout), scale S. */
  kernel: number[]
  /** Scale S². */
  bias: number[]
  /** Bounds of z = Σ a·W + b over every accepted input (scale S²). */
  zMin: number
  zMax: number
  /** Bits of the decomposition that makes ReLU (hidden) or compares logits (output). */
  bits: number
}

export interface QuantizedMlp {
  fracBits: number
  /** S = 2^fracBits. */
  scale: number
  inputSize: number
  /** Accepted quantized inputs are integers in [0, 2^inputBits − 1]; the circuit range-checks them. */
  inputBits: number
  layers: QuantizedLayer[]
  classes: number
  /** Constraint count of the marketplace circuit (input commitment included), estimated before compiling (see estimateConstraints). */
  estimatedConstraints: number
}

export interface ZkLimits {
  /** Upper bound on estimated constraints (2^14 = the project's default powers-of-tau file). */
  maxConstraints: number
  maxLayers: number
  maxUnitsPerLayer: number
  maxInputs: number
  /** Largest |z| bit length: the reference computes in float64 safe integers. */
  maxBits: number
}

export const defaultZkLimits: ZkLimits = {
  maxConstraints: 16_384,
  maxLayers: 4,
  maxUnitsPerLayer: 256,
  maxInputs: 1024,
  maxBits: 52,
}

export interface QuantizeOptions {
  /** S = 2^fracBits; 8 per the measured notes. */
  fracBits?: number
  /** Largest raw feature value (features are assumed ≥ 0; MNIST pixels are in [0, 1]). */
  inputMax?: number
  limits?: Partial<ZkLimits>
}

export const zkRefusalCodes = ['activation', 'layers', 'units', 'inputs', 'bits', 'constraints', 'shape', 'scale', 'input-range'] as const
export type ZkRefusalCode = (typeof zkRefusalCodes)[number]

/** A model the ZK compiler will not take, and why. */
export class ZkModelError extends Error {
  override readonly name = 'ZkModelError'
  constructor(
    readonly code: ZkRefusalCode,
    message: string,
  ) {
    super(message)
  }
}

export function quantizeMlp(weights: MlpWeights, normalization: Normalization, options: QuantizeOptions = {}): QuantizedMlp {
  const limits = { ...defaultZkLimits, ...options.limits }
  const fracBits = options.fracBits ?? 8
  const inputMax = options.inputMax ?? 1
  if (!Number.isInteger(fracBits) || fracBits < 1 || fracBits > 20) {
    throw new ZkModelError('scale', `fracBits must be an integer from 1 to 20, got ${fracBits}`)
  }
  if (!(inputMax > 0) || !Number.isFinite(inputMax)) {
    throw new ZkModelError('input-range', `inputMax must be a positive finite number (features are taken as non-negative), got ${inputMax}`)
  }
  checkShape(weights, limits)

  const folded = foldNormalization(weights, normalization)
  const scale = 2 ** fracBits
  const inputBits = bitLength(Math.round(inputMax * scale))
  const layers: QuantizedLayer[] = []
  // Range of the current layer's (non-negative) inputs.
  let aMax = 2 ** inputBits - 1
  folded.layers.forEach((layer, index) => {
    const last = index === folded.layers.length - 1
    // `+ 0` turns Math.round's −0 into 0, so the model survives a JSON round trip unchanged.
    const kernel = Array.from(layer.kernel, (w) => Math.round(w * scale) + 0)
    const bias = Array.from(layer.bias, (b) => Math.round(b * scale * scale) + 0)
    let zMin = Infinity
    let zMax = -Infinity
    for (let j = 0; j < layer.units; j++) {
      let lo = bias[j]!
      let hi = bias[j]!
      for (let i = 0; i < layer.inputs; i++) {
        const w = kernel[i * layer.units + j]!
        if (w > 0) hi += w * aMax
        else lo += w * aMax
      }
      zMin = Math.min(zMin, lo)
      zMax = Math.max(zMax, hi)
    }
    if (!Number.isFinite(zMin) || !Number.isFinite(zMax)) {
      throw new ZkModelError('bits', `${layer.name} has non-finite weights: it cannot be quantized`)
    }
    const maxAbs = Math.max(Math.abs(zMin), Math.abs(zMax), 1)
    // Hidden: z + 2^(bits−1) ∈ [0, 2^bits) and bits − 1 ≥ fracBits. Output: |logit_i − logit_j| < 2^bits.
    const bits = last ? bitLength(zMax - zMin) + 1 : Math.max(bitLength(maxAbs) + 1, fracBits + 1)
    if (bits > limits.maxBits || bitLength(maxAbs) > limits.maxBits) {
      throw new ZkModelError(
        'bits',
        `${layer.name} needs ${bits}-bit pre-activations at fracBits ${fracBits} (limit ${limits.maxBits}): its weights or inputs are too large; use a smaller scale or inputMax`,
      )
    }
    layers.push({ inputs: layer.inputs, units: layer.units, activation: last ? 'output' : 'relu', kernel, bias, zMin, zMax, bits })
    aMax = last ? 0 : Math.max(0, Math.floor(zMax / scale))
  })

  const quantized: QuantizedMlp = {
    fracBits,
    scale,
    inputSize: weights.inputSize,
    inputBits,
    layers,
    classes: layers[layers.length - 1]!.units,
    estimatedConstraints: 0,
  }
  quantized.estimatedConstraints = estimateConstraints(quantized)
  if (quantized.estimatedConstraints > limits.maxConstraints) {
    throw new ZkModelError(
      'constraints',
      `the circuit would have about ${quantized.estimatedConstraints} constraints, over the limit of ${limits.maxConstraints} ` +
        `(a 2^${Math.ceil(Math.log2(limits.maxConstraints))} powers-of-tau file): use fewer inputs or hidden units`,
    )
  }
  return quantized
}

/**
 * Constraints after circom's --O2 (linear constraints are substituted away, so dense layers with
 * constant weights are free): Num2Bits(n) costs n, ReLU one more multiplication, each argmax
 * step a GreaterThan (bits + 1) and two selections. The input commitment (default on: the
 * marketplace circuit) adds its Poseidon hashes (poseidon-cost.ts): 196 inputs at 5 bits (2^4,
 * what chooseScale picks for MNIST 14×14) = 4 chunks → Poseidon(5), 321 of 1,779; 784 at 5 bits
 * = 16 chunks → Poseidon(16) + Poseidon(2), 849 of 5,519; 784 at 9 bits (2^8) = 28 chunks →
 * Poseidon(16) + Poseidon(12) + Poseidon(3), 1,374. Measured: estimate − actual = 1 for both MNIST models.
 */
export function estimateConstraints(
  model: Pick<QuantizedMlp, 'inputSize' | 'inputBits' | 'layers'>,
  options: { inputCommitment?: boolean } = {},
): number {
  let total = model.inputSize * model.inputBits
  for (const layer of model.layers) {
    total += layer.activation === 'relu' ? layer.units * (layer.bits + 1) : (layer.units - 1) * (layer.bits + 1 + 2)
  }
  if (options.inputCommitment ?? true) total += inputCommitmentConstraints(model)
  return total
}

/** The Poseidon hashes of commitInput's scheme (input-commitment.ts); the packing itself is linear. */
export function inputCommitmentConstraints(model: { inputSize: number; inputBits: number }): number {
  const packing = inputPacking(model)
  if (packing.groups === 0) return poseidonConstraints(packing.chunks + 1)
  let total = poseidonConstraints(packing.groups + 1)
  for (let g = 0; g < packing.groups; g++) total += poseidonConstraints(Math.min(16, packing.chunks - 16 * g))
  return total
}

/** Quantized input: round(x·S), clamped to the circuit's accepted range [0, 2^inputBits − 1]. */
export function quantizeInput(model: Pick<QuantizedMlp, 'scale' | 'inputBits' | 'inputSize'>, features: ArrayLike<number>): number[] {
  if (features.length !== model.inputSize) {
    throw new RangeError(`the model takes ${model.inputSize} features, got ${features.length}`)
  }
  const max = 2 ** model.inputBits - 1
  return Array.from(features, (x) => Math.min(max, Math.max(0, Math.round(x * model.scale))))
}

function checkShape(weights: MlpWeights, limits: ZkLimits): void {
  const { layers } = weights
  if (layers.length === 0) throw new ZkModelError('shape', 'the model has no layers')
  if (layers.length > limits.maxLayers) {
    throw new ZkModelError('layers', `the model has ${layers.length} dense layers; the limit is ${limits.maxLayers}`)
  }
  if (weights.inputSize > limits.maxInputs) {
    throw new ZkModelError('inputs', `the model takes ${weights.inputSize} inputs; the limit is ${limits.maxInputs}`)
  }
  let width = weights.inputSize
  layers.forEach((layer, index) => {
    const last = index === layers.length - 1
    if (layer.inputs !== width || layer.kernel.length !== layer.inputs * layer.units || layer.bias.length !== layer.units) {
      throw new ZkModelError('shape', `${layer.name}'s shape does not match: expected ${width} inputs`)
    }
    if (layer.units > limits.maxUnitsPerLayer) {
      throw new ZkModelError('units', `${layer.name} has ${layer.units} units; the limit is ${limits.maxUnitsPerLayer} per layer`)
    }
    if (!last && layer.activation !== 'relu') {
      throw new ZkModelError(
        'activation',
        `${layer.name} uses ${layer.activation}: hidden layers must use relu (the only activation the circuit computes exactly)`,
      )
    }
    if (last && layer.activation !== 'softmax' && layer.activation !== 'linear') {
      throw new ZkModelError('activation', `the output layer uses ${layer.activation}: it must be softmax or linear (the circuit outputs the argmax)`)
    }
    if (last && layer.units < 2) throw new ZkModelError('shape', 'the output layer needs at least 2 classes')
    width = layer.units
  })
}

function bitLength(n: number): number {
  let bits = 0
  let v = Math.abs(Math.round(n))
  while (v >= 1) {
    v = Math.floor(v / 2)
    bits++
  }
  return Math.max(bits, 1)
}
