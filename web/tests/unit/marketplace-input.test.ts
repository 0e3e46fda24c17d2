import { loadBuiltinDataset } from '@oblivion/model'
import { BN254_PRIME, commitInput, inputPacking, quantizeInput, unpackInput, packInput } from '@oblivion/model/zk'
import { describe, expect, it } from 'vitest'
import { commitFeatures, digitFeatures, drawingToDigit, inkFromRgba, isBlank, quantizeFeatures } from '../../lib/marketplace/digit-input.ts'
import { loadTestDigits } from '../../lib/marketplace/test-digits.ts'

/** The sample ZK model's numbers (sample_job/jobs/mnist-zk.json: 196 inputs, fixed point 2^8). */
const MANIFEST = { inputSize: 196, fracBits: 8, inputBits: 9 }

/** A white square of `size` pixels at (x, y) on a black w×h RGBA canvas. */
function squareOnCanvas(w: number, h: number, x: number, y: number, size: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(w * h * 4)
  for (let i = 0; i < w * h; i++) rgba[4 * i + 3] = 255
  for (let yy = y; yy < y + size; yy++) for (let xx = x; xx < x + size; xx++) rgba.set([255, 255, 255, 255], 4 * (yy * w + xx))
  return rgba
}

function centreOfMass(pixels: ArrayLike<number>, side: number): { x: number; y: number } {
  let mass = 0, x = 0, y = 0
  for (let i = 0; i < side * side; i++) {
    mass += pixels[i]!
    x += pixels[i]! * (i % side)
    y += pixels[i]! * Math.floor(i / side)
  }
  return { x: x / mass, y: y / mass }
}

describe('a drawing becomes an MNIST digit', () => {
  it('reads white strokes on black (or on transparent) as ink in [0, 1]', () => {
    const ink = inkFromRgba(new Uint8ClampedArray([255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 0, 128, 128, 128, 255]), 4, 1)
    expect([...ink].map((v) => Number(v.toFixed(2)))).toEqual([1, 0, 0, 0.5])
    expect(() => inkFromRgba(new Uint8ClampedArray(8), 4, 1)).toThrow(/4×1 RGBA/)
  })

  it('scales a small off-centre drawing into MNIST’s 20×20 box, centred by mass in the 28×28 frame', () => {
    const ink = inkFromRgba(squareOnCanvas(280, 280, 10, 20, 40), 280, 280)
    const digit = drawingToDigit(ink, 280, 280)
    expect(digit).toHaveLength(784)
    let inked = 0
    for (const v of digit) if (v > 0.5) inked++
    expect(inked).toBe(400) // 40×40 source pixels → exactly the 20×20 box
    const { x, y } = centreOfMass(digit, 28)
    expect(Math.abs(x - 13.5)).toBeLessThanOrEqual(0.5)
    expect(Math.abs(y - 13.5)).toBeLessThanOrEqual(0.5)
    expect(Math.max(...digit)).toBeLessThanOrEqual(1)
  })

  it('keeps the aspect ratio of a tall stroke (a 1 stays thin)', () => {
    const rgba = new Uint8ClampedArray(280 * 280 * 4)
    for (let y = 40; y < 240; y++) for (let x = 130; x < 150; x++) rgba.set([255, 255, 255, 255], 4 * (y * 280 + x))
    const digit = drawingToDigit(inkFromRgba(rgba, 280, 280), 280, 280)
    const columns = new Set<number>()
    const rows = new Set<number>()
    digit.forEach((v, i) => {
      if (v > 0.5) {
        columns.add(i % 28)
        rows.add(Math.floor(i / 28))
      }
    })
    expect(rows.size).toBe(20)
    expect(columns.size).toBe(2)
  })

  it('gives zeros for an empty canvas, and the buy button waits for ink', () => {
    const digit = drawingToDigit(new Float32Array(280 * 280), 280, 280)
    expect(digit.every((v) => v === 0)).toBe(true)
    expect(isBlank(digit)).toBe(true)
    expect(isBlank(drawingToDigit(inkFromRgba(squareOnCanvas(280, 280, 100, 100, 60), 280, 280), 280, 280))).toBe(false)
  })
})

describe('the model’s input and the committed pixels', () => {
  it('downsamples a 28×28 MNIST digit exactly as the mnist-14x14 data set was made', async () => {
    const [digits, mnist14] = await Promise.all([loadTestDigits(3, 2), loadBuiltinDataset('mnist-14x14')])
    // loadTestDigits takes the last rows of the class; the data set keeps the classes in order (0s, 1s, …).
    const lastThree = mnist14.labels.lastIndexOf(3)
    expect(mnist14.labels[lastThree]).toBe(3)
    const features = digitFeatures(digits[0]!, 196)
    expect(features).toHaveLength(196)
    expect([...features]).toEqual([...mnist14.features.subarray(lastThree * 196, (lastThree + 1) * 196)])
  }, 60_000)

  it('passes 784-input models the 28×28 pixels as they are, and refuses other sizes', () => {
    const digit = Float32Array.from({ length: 784 }, (_, i) => (i % 7) / 7)
    expect([...digitFeatures(digit, 784)]).toEqual([...digit])
    expect(() => digitFeatures(digit, 100)).toThrow(/takes 100 inputs/)
    expect(() => digitFeatures(new Float32Array(10), 196)).toThrow(/784 pixels/)
  })

  it('quantizes to the manifest’s fixed point: round(x·2^fracBits), clamped to inputBits', () => {
    const features = new Float32Array(196)
    features.set([0, 0.5, 1, 0.001953125, 0.3])
    const pixels = quantizeFeatures(MANIFEST, features)
    expect(pixels.slice(0, 5)).toEqual([0, 128, 256, 1, 77])
    expect(pixels).toEqual(quantizeInput({ scale: 256, inputBits: 9, inputSize: 196 }, features))
    expect(quantizeFeatures({ ...MANIFEST, inputBits: 8 }, features)[2]).toBe(255)
  })

  it('commits exactly as the model package’s commitInput (the proof’s public input), salt by salt', () => {
    const features = Float32Array.from({ length: 196 }, (_, i) => (i * 37 % 101) / 100)
    const salt = 123456789012345678901234567890n
    const committed = commitFeatures(MANIFEST, features, salt)
    expect(committed.salt).toBe(salt)
    expect(committed.commitment).toBe(commitInput({ inputSize: 196, inputBits: 9 }, quantizeInput({ scale: 256, inputBits: 9, inputSize: 196 }, features), salt))
    // The pixels sent to the owner are the committed ones.
    const packing = inputPacking(MANIFEST)
    expect(unpackInput(packing, packInput(packing, committed.pixels))).toEqual(committed.pixels)
    // A fresh salt per purchase: the same digit gives unlinkable commitments.
    const a = commitFeatures(MANIFEST, features)
    const b = commitFeatures(MANIFEST, features)
    expect(a.pixels).toEqual(b.pixels)
    expect(a.commitment).not.toBe(b.commitment)
    expect(a.commitment).toBeLessThan(BN254_PRIME)
    expect(a.salt).toBeLessThan(BN254_PRIME)
  })
})
