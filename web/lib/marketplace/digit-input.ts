import { commitInput, downsample2x2, quantizeInput, randomSalt } from '@oblivion/model/zk'
import type { MarketManifest } from './market-rows.ts'

/**
 * From what the buyer draws (or picks) to what the contract and the proof bind: MNIST-like 28×28
 * pixels in [0, 1] → the model's input size (2×2 averaged to 14×14 for 196-input models, exactly
 * as the mnist-14x14 data set was made) → the manifest's fixed point (quantizeInput) → a Poseidon
 * commitment with a fresh salt (commitInput). All pure: the unit tests pin each step.
 */

export const DIGIT_SIDE = 28
/** MNIST fits each digit in a 20×20 box centred by its centre of mass in the 28×28 frame. */
const DIGIT_BOX = 20

/** Ink in [0, 1] of each pixel of an RGBA image: the brightest channel, times alpha (white strokes on a dark or transparent canvas). */
export function inkFromRgba(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  if (rgba.length !== width * height * 4) throw new RangeError(`expected ${width}×${height} RGBA pixels (${width * height * 4} values), got ${rgba.length}`)
  const ink = new Float32Array(width * height)
  for (let i = 0; i < width * height; i++) {
    const brightest = Math.max(rgba[4 * i]!, rgba[4 * i + 1]!, rgba[4 * i + 2]!)
    ink[i] = (brightest / 255) * (rgba[4 * i + 3]! / 255)
  }
  return ink
}

/**
 * A drawing (ink in [0, 1], any square-ish size) as an MNIST digit: the ink's bounding box scaled
 * (area-averaged) into a 20×20 box, then placed so its centre of mass sits at the frame's centre.
 * Without this, a digit drawn small or off-centre reads as another class: the models never saw one.
 * Returns 784 zeros for an empty drawing.
 */
export function drawingToDigit(ink: ArrayLike<number>, width: number, height: number): Float32Array {
  const out = new Float32Array(DIGIT_SIDE * DIGIT_SIDE)
  let minX = width, minY = height, maxX = -1, maxY = -1
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! > 0.05) {
        if (x < minX) minX = x
        if (x > maxX) maxX = x
        if (y < minY) minY = y
        if (y > maxY) maxY = y
      }
    }
  }
  if (maxX < 0) return out
  const boxW = maxX - minX + 1
  const boxH = maxY - minY + 1
  // Source pixels per output pixel, the same both ways (keeps the aspect ratio).
  const step = Math.max(boxW, boxH) / DIGIT_BOX
  const outW = Math.max(1, Math.round(boxW / step))
  const outH = Math.max(1, Math.round(boxH / step))
  const scaled = new Float32Array(outW * outH)
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) scaled[oy * outW + ox] = areaMean(ink, width, height, minX + ox * step, minY + oy * step, step)
  }
  // Centre of mass of the scaled digit → frame centre (integer shift, as MNIST's preprocessing).
  let mass = 0, cx = 0, cy = 0
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const v = scaled[y * outW + x]!
      mass += v
      cx += v * x
      cy += v * y
    }
  }
  const offsetX = Math.round(DIGIT_SIDE / 2 - (mass > 0 ? cx / mass : outW / 2) - 0.5)
  const offsetY = Math.round(DIGIT_SIDE / 2 - (mass > 0 ? cy / mass : outH / 2) - 0.5)
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const tx = x + offsetX
      const ty = y + offsetY
      if (tx >= 0 && tx < DIGIT_SIDE && ty >= 0 && ty < DIGIT_SIDE) out[ty * DIGIT_SIDE + tx] = Math.min(1, scaled[y * outW + x]!)
    }
  }
  return out
}

/** Mean of ink over the square [x0, x0+size) × [y0, y0+size), pixels weighted by their overlap. */
function areaMean(ink: ArrayLike<number>, width: number, height: number, x0: number, y0: number, size: number): number {
  let sum = 0
  let area = 0
  for (let y = Math.floor(y0); y < Math.min(height, Math.ceil(y0 + size)); y++) {
    const wy = Math.min(y + 1, y0 + size) - Math.max(y, y0)
    if (wy <= 0) continue
    for (let x = Math.floor(x0); x < Math.min(width, Math.ceil(x0 + size)); x++) {
      const wx = Math.min(x + 1, x0 + size) - Math.max(x, x0)
      if (wx <= 0) continue
      sum += ink[y * width + x]! * wx * wy
      area += wx * wy
    }
  }
  return area > 0 ? sum / area : 0
}

/**
 * A 28×28 digit as the model's raw features: as is for 784 inputs, 2×2-averaged to 14×14 for 196
 * (the model package's downsample2x2, the same code that made the mnist-14x14 training set).
 */
export function digitFeatures(digit: ArrayLike<number>, inputSize: number): Float32Array {
  if (digit.length !== DIGIT_SIDE * DIGIT_SIDE) throw new RangeError(`a digit has ${DIGIT_SIDE * DIGIT_SIDE} pixels, got ${digit.length}`)
  const features = Float32Array.from(digit)
  if (inputSize === DIGIT_SIDE * DIGIT_SIDE) return features
  if (inputSize === (DIGIT_SIDE / 2) ** 2) {
    return downsample2x2({ count: 1, featureCount: features.length, features, labels: new Int32Array(1), classNames: [], featureNames: [] }).features
  }
  throw new RangeError(`this model takes ${inputSize} inputs; the page draws 28×28 digits (784) and can downsample them to 14×14 (196) only`)
}

/** The committed pixels: the features in the manifest's fixed point, integers in [0, 2^inputBits − 1]. */
export function quantizeFeatures(manifest: Pick<MarketManifest, 'fracBits' | 'inputBits' | 'inputSize'>, features: ArrayLike<number>): number[] {
  return quantizeInput({ scale: 2 ** manifest.fracBits, inputBits: manifest.inputBits, inputSize: manifest.inputSize }, features)
}

export interface CommittedInput {
  /** What the owner receives (submit_inference_request's p_input.pixels) and the proof's private input. */
  pixels: number[]
  salt: bigint
  /** Poseidon(packed pixels, salt): requestInference's inputCommitment and the proof's public signal 1. */
  commitment: bigint
}

/** Quantize and commit with a fresh salt (or the given one, for tests). */
export function commitFeatures(manifest: Pick<MarketManifest, 'fracBits' | 'inputBits' | 'inputSize'>, features: ArrayLike<number>, salt: bigint = randomSalt()): CommittedInput {
  const pixels = quantizeFeatures(manifest, features)
  return { pixels, salt, commitment: commitInput({ inputSize: manifest.inputSize, inputBits: manifest.inputBits }, pixels, salt) }
}

/** True when nothing (or almost nothing) was drawn: the buy button waits for a digit. */
export function isBlank(features: ArrayLike<number>): boolean {
  let sum = 0
  for (let i = 0; i < features.length; i++) sum += features[i]!
  return sum < 1
}
