import { describe, expect, it } from 'vitest'
import { decodeWeights, encodeWeights, MAX_ENCODED_BYTES, WeightsCodecError } from '../../src/codec/weights-codec.ts'
import type { WeightsCodecErrorCode } from '../../src/codec/weights-codec.ts'
import type { MlpWeights } from '../../src/nn/mlp-weights.ts'

function model(): MlpWeights {
  return {
    inputSize: 3,
    layers: [
      { name: 'dense', inputs: 3, units: 2, activation: 'relu', kernel: Float32Array.of(1, 2, 3, 4, 5, 6), bias: Float32Array.of(0.5, -0.5) },
      { name: 'dense_1', inputs: 2, units: 2, activation: 'softmax', kernel: Float32Array.of(-1, 1e-30, 3.4e38, -0), bias: Float32Array.of(7, 8) },
    ],
  }
}

/** Builds an OBW1 file by hand, so the decoder can be fed headers the encoder would never write. */
function handmade(header: unknown, floats: number, options: { magic?: string; headerLength?: number } = {}): Uint8Array {
  let json = JSON.stringify(header)
  while ((json.length % 4) !== 0) json += ' '
  const body = new TextEncoder().encode(json)
  const bytes = new Uint8Array(8 + body.length + 4 * floats)
  bytes.set(new TextEncoder().encode(options.magic ?? 'OBW1'), 0)
  new DataView(bytes.buffer).setUint32(4, options.headerLength ?? body.length, true)
  bytes.set(body, 8)
  return bytes
}

const layerHeader = (name: string, inputs: number, units: number, activation = 'relu') => ({ name, inputs, units, activation })
const validHeader = { version: 1, inputSize: 3, layers: [layerHeader('dense', 3, 2), layerHeader('dense_1', 2, 2, 'softmax')] }
const FLOATS = 3 * 2 + 2 + 2 * 2 + 2

function codeOf(attempt: () => unknown): WeightsCodecErrorCode {
  try {
    attempt()
  } catch (error) {
    expect(error).toBeInstanceOf(WeightsCodecError)
    return (error as WeightsCodecError).code
  }
  throw new Error('expected a WeightsCodecError')
}

describe('OBW1 weights codec', () => {
  it('round-trips weights bit for bit, with meta', () => {
    const weights = model()
    const bytes = encodeWeights(weights, { round: 3, jobId: 'j-1', sampleCount: 1200 })
    const decoded = decodeWeights(bytes)
    expect(decoded.weights).toEqual(weights)
    expect(Object.is(decoded.weights.layers[1]!.kernel[3], -0)).toBe(true)
    expect(decoded.meta).toEqual({ round: 3, jobId: 'j-1', sampleCount: 1200 })
    expect(decodeWeights(encodeWeights(weights)).meta).toBeUndefined()
  })

  it('lays out magic, header length, space-padded JSON header, then little-endian floats, 4-byte aligned', () => {
    const bytes = encodeWeights(model())
    const view = new DataView(bytes.buffer)
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('OBW1')
    const headerLength = view.getUint32(4, true)
    expect(headerLength % 4).toBe(0)
    expect(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)))).toEqual(validHeader)
    expect(bytes.length).toBe(8 + headerLength + 4 * FLOATS)
    // dense.kernel then dense.bias then dense_1.kernel …
    expect(view.getFloat32(8 + headerLength, true)).toBe(1)
    expect(view.getFloat32(8 + headerLength + 4 * 6, true)).toBe(0.5)
    expect(view.getFloat32(8 + headerLength + 4 * 8, true)).toBe(-1)
  })

  it('is deterministic and keeps NaN (rejecting it is update validation’s job)', () => {
    const weights = model()
    weights.layers[0]!.kernel[0] = Number.NaN
    expect(encodeWeights(weights)).toEqual(encodeWeights(weights))
    expect(decodeWeights(encodeWeights(weights)).weights.layers[0]!.kernel[0]).toBeNaN()
  })

  it('decodes from a view at an odd offset into a larger buffer, and does not alias it', () => {
    const bytes = encodeWeights(model())
    const big = new Uint8Array(bytes.length + 7)
    big.set(bytes, 3)
    const decoded = decodeWeights(big.subarray(3, 3 + bytes.length))
    expect(decoded.weights).toEqual(model())
    big.fill(0)
    expect(decoded.weights.layers[0]!.kernel[0]).toBe(1)
  })

  it('rejects a wrong magic, a truncated file and trailing bytes', () => {
    const bytes = encodeWeights(model())
    expect(codeOf(() => decodeWeights(new Uint8Array(5)))).toBe('truncated')
    expect(codeOf(() => decodeWeights(handmade(validHeader, FLOATS, { magic: 'OBW2' })))).toBe('bad_magic')
    expect(() => decodeWeights(handmade(validHeader, FLOATS, { magic: 'PK\u0003\u0004' }))).toThrow(/starts with 50 4b 03 04, not "OBW1"/)
    expect(codeOf(() => decodeWeights(bytes.subarray(0, bytes.length - 4)))).toBe('truncated')
    const longer = new Uint8Array(bytes.length + 4)
    longer.set(bytes)
    expect(codeOf(() => decodeWeights(longer))).toBe('size_mismatch')
    expect(() => decodeWeights(longer)).toThrow(/describes \d+ bytes in all but the file has \d+/)
  })

  it('never trusts the header length', () => {
    expect(codeOf(() => decodeWeights(handmade(validHeader, FLOATS, { headerLength: 0xffffffff })))).toBe('header_too_large')
    expect(codeOf(() => decodeWeights(handmade(validHeader, 0, { headerLength: 4096 })))).toBe('truncated')
    expect(codeOf(() => decodeWeights(handmade(validHeader, FLOATS, { headerLength: 6 })))).toBe('bad_header')
  })

  it('rejects malformed headers with the field named', () => {
    const cases: [unknown, RegExp][] = [
      [[1, 2], /must be a JSON object/],
      [{ ...validHeader, extra: true }, /unknown field "extra"/],
      [{ ...validHeader, inputSize: 2.5 }, /inputSize must be a whole number/],
      [{ ...validHeader, inputSize: 5000 }, /inputSize must be a whole number in \[1, 4096\]/],
      [{ ...validHeader, layers: [] }, /1 to 16 layers, got 0/],
      [{ ...validHeader, layers: 'dense' }, /"layers" must be an array/],
      [{ ...validHeader, layers: [layerHeader('dense', 3, 2), layerHeader('dense', 2, 2)] }, /"dense" appears twice/],
      [{ ...validHeader, layers: [layerHeader('dense', 3, 2), layerHeader('dense_1', 3, 2)] }, /inputs is 3 but the previous layer's units is 2/],
      [{ ...validHeader, layers: [layerHeader('dense', 3, 5000)] }, /units must be a whole number in \[1, 4096\], got 5000/],
      [{ ...validHeader, layers: [layerHeader('dense', 3, 2, 'gelu')] }, /activation "gelu" is not one of/],
      [{ ...validHeader, layers: [{ ...layerHeader('dense', 3, 2), kernel: [] }] }, /layers\[0\] has an unknown field "kernel"/],
      [{ ...validHeader, layers: [{ ...layerHeader('dense', 3, 2), units: '2' }] }, /units must be a whole number/],
      [{ ...validHeader, meta: [1] }, /"meta" must be an object/],
      [JSON.parse('{"__proto__": {"version": 1}, "version": 1, "inputSize": 3, "layers": []}'), /unknown field "__proto__"/],
    ]
    for (const [header, message] of cases) {
      expect(() => decodeWeights(handmade(header, FLOATS))).toThrow(message)
      expect(codeOf(() => decodeWeights(handmade(header, FLOATS)))).toBe('bad_header')
    }
    expect(codeOf(() => decodeWeights(handmade({ ...validHeader, version: 2 }, FLOATS)))).toBe('unsupported_version')
    const tooManyLayers = Array.from({ length: 17 }, (_, l) => layerHeader(`d${l}`, l === 0 ? 3 : 1, 1))
    expect(() => decodeWeights(handmade({ ...validHeader, layers: tooManyLayers }, 17 * 2))).toThrow(/1 to 16 layers, got 17/)
  })

  it('rejects a header that is not UTF-8 or not JSON', () => {
    const bytes = handmade(validHeader, FLOATS)
    bytes[8] = 0xff
    expect(() => decodeWeights(bytes)).toThrow(/not valid UTF-8/)
    bytes[8] = 0x7b
    bytes[9] = 0x7b
    expect(() => decodeWeights(bytes)).toThrow(/not valid JSON/)
  })

  it('rejects a file over 64 MiB before reading it, and a header whose sizes imply more', () => {
    expect(codeOf(() => decodeWeights(new Uint8Array(MAX_ENCODED_BYTES + 1)))).toBe('too_large')
    // 4 layers of 4096×4096 would be 256 MiB: the file cannot match it.
    const huge = { version: 1, inputSize: 4096, layers: [0, 1, 2, 3].map((l) => layerHeader(`d${l}`, 4096, 4096)) }
    expect(codeOf(() => decodeWeights(handmade(huge, 16)))).toBe('truncated')
  })

  it('refuses to encode inconsistent weights', () => {
    const short = model()
    short.layers[0]!.kernel = new Float32Array(5)
    expect(() => encodeWeights(short)).toThrow(/layer dense: kernel has 5 values and bias 2; \[3, 2\] needs 6 and 2/)
    const unchained = model()
    unchained.layers[1]!.inputs = 4
    expect(codeOf(() => encodeWeights(unchained))).toBe('bad_weights')
    expect(codeOf(() => encodeWeights(model(), { n: 10n } as unknown as Record<string, unknown>))).toBe('bad_weights')
    expect(codeOf(() => encodeWeights(model(), { blob: 'x'.repeat(70_000) }))).toBe('header_too_large')
  })

  it('encodes and decodes the 784 → 128 → 64 → 10 MNIST MLP (109,386 floats)', () => {
    const shapes = [[784, 128], [128, 64], [64, 10]] as const
    const weights: MlpWeights = {
      inputSize: 784,
      layers: shapes.map(([inputs, units], l) => ({
        name: l === 0 ? 'dense' : `dense_${l}`,
        inputs,
        units,
        activation: l === 2 ? 'softmax' : 'relu',
        kernel: Float32Array.from({ length: inputs * units }, (_, i) => Math.fround(Math.cos(i))),
        bias: Float32Array.from({ length: units }, (_, i) => i / 7),
      })),
    }
    const bytes = encodeWeights(weights, { round: 1 })
    expect(bytes.length).toBeLessThan(8 + 512 + 4 * 109_386)
    expect(decodeWeights(bytes).weights).toEqual(weights)
  })
})
