import * as ort from 'onnxruntime-node'

/** The job's ONNX export in ONNX Runtime: the float model the quantized circuit approximates. */
export interface FloatModel {
  /** Softmax probabilities for one input of raw features. */
  probabilities(features: Float32Array): Promise<number[]>
  close(): Promise<void>
}

/**
 * Loads the ONNX file (model/src/export/onnx.ts: input `input` [n, features] of RAW features,
 * the normalisation folded into the first Gemm; output `probabilities` after Softmax).
 */
export async function loadFloatModel(onnxBytes: Uint8Array): Promise<FloatModel> {
  const session = await ort.InferenceSession.create(onnxBytes)
  const input = session.inputNames[0]!
  const output = session.outputNames[0]!
  return {
    async probabilities(features) {
      const result = await session.run({ [input]: new ort.Tensor('float32', features, [1, features.length]) })
      return Array.from(result[output]!.data as Float32Array)
    },
    close: () => session.release(),
  }
}

/** The buyer's integers back to the raw features the float model takes: pixels / 2^fracBits. */
export function dequantize(pixels: readonly number[], fracBits: number): Float32Array {
  const scale = 2 ** fracBits
  return Float32Array.from(pixels, (p) => p / scale)
}

export function argmax(values: readonly number[]): number {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i
  return best
}
