import type { QuantizedMlp } from './quantize.ts'

/** What the circuit computes, exactly. */
export interface QuantizedInference {
  /** The last layer's pre-activations (scale S²); may be negative. */
  logits: number[]
  /** The first index of the largest logit (the circuit breaks ties the same way). */
  predicted: number
  /** Every layer's pre-activations z, for tests and debugging (scale S²). */
  preActivations: number[][]
}

/**
 * The integer reference of a quantized MLP: exactly the circuit's arithmetic. Values stay below
 * 2^maxBits ≤ 2^52 (quantize.ts bounds every partial sum), so float64 integers are exact; the
 * rescale is FLOOR division by S (as the circuit's bit decomposition does; BigInt `/` would
 * truncate toward zero and differ on negatives).
 */
export function inferQuantized(model: QuantizedMlp, input: ArrayLike<number>): QuantizedInference {
  if (input.length !== model.inputSize) throw new RangeError(`the model takes ${model.inputSize} inputs, got ${input.length}`)
  const max = 2 ** model.inputBits - 1
  let a = Array.from(input, (x) => {
    if (!Number.isInteger(x) || x < 0 || x > max) throw new RangeError(`quantized inputs are integers in [0, ${max}], got ${x}`)
    return x
  })
  const preActivations: number[][] = []
  let z: number[] = []
  for (const layer of model.layers) {
    z = new Array<number>(layer.units)
    for (let j = 0; j < layer.units; j++) {
      let sum = layer.bias[j]!
      for (let i = 0; i < layer.inputs; i++) sum += a[i]! * layer.kernel[i * layer.units + j]!
      z[j] = sum
    }
    preActivations.push(z)
    if (layer.activation === 'relu') a = z.map((v) => Math.max(0, Math.floor(v / model.scale)))
  }
  return { logits: z, predicted: argmax(z), preActivations }
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i
  return best
}
