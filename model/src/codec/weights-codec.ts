import type { DenseLayerWeights, MlpWeights } from '../nn/mlp-weights.ts'
import type { Activation } from '../spec/job-spec.ts'

/**
 * OBW1, the binary form of MlpWeights that workers upload and the server stores by content id:
 *
 *   offset 0   4 bytes  magic "OBW1"
 *   offset 4   uint32   header length H, little-endian; always a multiple of 4
 *   offset 8   H bytes  UTF-8 JSON {"version":1,"inputSize":…,"layers":[{name,inputs,units,activation}],"meta"?:{…}},
 *                       padded with spaces to H
 *   offset 8+H          per layer: kernel (inputs·units float32, row-major [inputs, units]), then
 *                       bias (units float32), all little-endian
 *
 * Data starts 4-byte aligned; the file ends exactly after the last bias. Encoding is
 * deterministic (same weights and meta, same bytes, same content id). The decoder trusts
 * nothing in the header: every field is checked, and the sizes it implies must match the byte
 * length exactly before anything is read. Non-finite weights are not its business; the
 * aggregator's update validation rejects them with the layer and index.
 */

export const WEIGHTS_MAGIC = 'OBW1'
export const MAX_LAYERS = 16
/** The job spec's cap on units per layer; input size shares it (its featureColumns cap is 4096). */
export const MAX_UNITS = 4096
export const MAX_INPUT_SIZE = 4096
/** 64 MiB: the largest model the spec allows (16 layers of 4096×4096) would be 1 GiB, far beyond what a browser worker trains. */
export const MAX_ENCODED_BYTES = 64 * 1024 * 1024
/** Layer names and metadata are small; 64 KiB bounds the JSON the decoder will parse. */
export const MAX_HEADER_BYTES = 64 * 1024
const MAX_NAME_LENGTH = 128

const ACTIVATIONS: Record<Activation, true> = { relu: true, sigmoid: true, tanh: true, softmax: true, linear: true }

export type WeightsCodecErrorCode =
  | 'truncated'
  | 'bad_magic'
  | 'header_too_large'
  | 'bad_header'
  | 'unsupported_version'
  | 'too_large'
  | 'size_mismatch'
  | 'bad_weights'

export class WeightsCodecError extends Error {
  constructor(
    readonly code: WeightsCodecErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'WeightsCodecError'
  }
}

/** JSON-serialisable metadata carried in the header (round, sample count, job id…). */
export type WeightsMeta = Record<string, unknown>

export interface DecodedWeights {
  weights: MlpWeights
  meta: WeightsMeta | undefined
}

interface LayerHeader {
  name: string
  inputs: number
  units: number
  activation: Activation
}

const LITTLE_ENDIAN_PLATFORM = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export function encodeWeights(weights: MlpWeights, meta?: WeightsMeta): Uint8Array {
  const layers = weights.layers.map((layer): LayerHeader => ({
    name: layer.name,
    inputs: layer.inputs,
    units: layer.units,
    activation: layer.activation,
  }))
  const structure = checkStructure(weights.inputSize, layers)
  if (structure) throw new WeightsCodecError('bad_weights', `Cannot encode these weights: ${structure}.`)
  for (const layer of weights.layers) {
    if (layer.kernel.length !== layer.inputs * layer.units || layer.bias.length !== layer.units) {
      throw new WeightsCodecError(
        'bad_weights',
        `Cannot encode layer ${layer.name}: kernel has ${layer.kernel.length} values and bias ${layer.bias.length}; ` +
          `[${layer.inputs}, ${layer.units}] needs ${layer.inputs * layer.units} and ${layer.units}.`,
      )
    }
  }
  if (meta !== undefined && !isPlainObject(meta)) {
    throw new WeightsCodecError('bad_weights', 'Cannot encode: meta must be a plain object.')
  }

  const header: Record<string, unknown> = { version: 1, inputSize: weights.inputSize, layers }
  if (meta !== undefined) header.meta = meta
  let headerText: string
  try {
    headerText = JSON.stringify(header)
  } catch (error) {
    throw new WeightsCodecError('bad_weights', `Cannot encode: meta is not JSON-serialisable (${(error as Error).message}).`)
  }
  const json = new TextEncoder().encode(headerText)
  const headerLength = align4(json.length)
  if (headerLength > MAX_HEADER_BYTES) {
    throw new WeightsCodecError('header_too_large', `Cannot encode: the header is ${headerLength} bytes, over ${MAX_HEADER_BYTES}; keep meta small.`)
  }
  const total = 8 + headerLength + 4 * floatCount(layers)
  if (total > MAX_ENCODED_BYTES) {
    throw new WeightsCodecError('too_large', `Cannot encode: ${total} bytes, over the ${MAX_ENCODED_BYTES}-byte limit.`)
  }

  const bytes = new Uint8Array(total)
  const view = new DataView(bytes.buffer)
  bytes.set(new TextEncoder().encode(WEIGHTS_MAGIC), 0)
  view.setUint32(4, headerLength, true)
  bytes.set(json, 8)
  bytes.fill(0x20, 8 + json.length, 8 + headerLength)
  let offset = 8 + headerLength
  for (const layer of weights.layers) {
    offset = writeFloats(bytes, view, offset, layer.kernel)
    offset = writeFloats(bytes, view, offset, layer.bias)
  }
  return bytes
}

export function decodeWeights(bytes: Uint8Array): DecodedWeights {
  if (bytes.length > MAX_ENCODED_BYTES) {
    throw new WeightsCodecError('too_large', `Weights file is ${bytes.length} bytes, over the ${MAX_ENCODED_BYTES}-byte limit.`)
  }
  if (bytes.length < 8) throw new WeightsCodecError('truncated', `Weights file is ${bytes.length} bytes; even the OBW1 preamble needs 8.`)
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!)
  if (magic !== WEIGHTS_MAGIC) {
    throw new WeightsCodecError('bad_magic', `Not an OBW1 weights file (it starts with ${hex(bytes.subarray(0, 4))}, not "OBW1").`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = view.getUint32(4, true)
  if (headerLength > MAX_HEADER_BYTES) {
    throw new WeightsCodecError('header_too_large', `OBW1 header claims ${headerLength} bytes; at most ${MAX_HEADER_BYTES} are allowed.`)
  }
  if (headerLength % 4 !== 0) {
    throw new WeightsCodecError('bad_header', `OBW1 header length ${headerLength} is not a multiple of 4; the weights would be misaligned.`)
  }
  if (8 + headerLength > bytes.length) {
    throw new WeightsCodecError('truncated', `OBW1 header claims ${headerLength} bytes but only ${bytes.length - 8} follow the preamble.`)
  }

  const header = parseHeader(bytes.subarray(8, 8 + headerLength))
  const expected = 8 + headerLength + 4 * floatCount(header.layers)
  if (bytes.length !== expected) {
    throw new WeightsCodecError(
      bytes.length < expected ? 'truncated' : 'size_mismatch',
      `OBW1 header describes ${expected} bytes in all but the file has ${bytes.length}.`,
    )
  }

  let offset = 8 + headerLength
  const layers: DenseLayerWeights[] = header.layers.map((layer) => {
    const kernel = readFloats(bytes, view, offset, layer.inputs * layer.units)
    offset += 4 * kernel.length
    const bias = readFloats(bytes, view, offset, layer.units)
    offset += 4 * bias.length
    return { ...layer, kernel, bias }
  })
  return { weights: { inputSize: header.inputSize, layers }, meta: header.meta }
}

function parseHeader(raw: Uint8Array): { inputSize: number; layers: LayerHeader[]; meta: WeightsMeta | undefined } {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw)
  } catch {
    throw new WeightsCodecError('bad_header', 'OBW1 header is not valid UTF-8.')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new WeightsCodecError('bad_header', `OBW1 header is not valid JSON (${(error as Error).message}).`)
  }
  if (!isPlainObject(value)) throw new WeightsCodecError('bad_header', 'OBW1 header must be a JSON object.')
  const unknownKey = Object.keys(value).find((key) => !['version', 'inputSize', 'layers', 'meta'].includes(key))
  if (unknownKey !== undefined) throw new WeightsCodecError('bad_header', `OBW1 header has an unknown field "${unknownKey}".`)
  if (value.version !== 1) {
    throw new WeightsCodecError('unsupported_version', `OBW1 header version is ${JSON.stringify(value.version)}; this decoder reads version 1. Update the client.`)
  }
  const { inputSize, layers, meta } = value
  if (!Array.isArray(layers)) throw new WeightsCodecError('bad_header', 'OBW1 header field "layers" must be an array.')
  const layerHeaders = layers.map((layer: unknown, l): LayerHeader => {
    if (!isPlainObject(layer)) throw new WeightsCodecError('bad_header', `OBW1 layers[${l}] must be an object.`)
    const unknown = Object.keys(layer).find((key) => !['name', 'inputs', 'units', 'activation'].includes(key))
    if (unknown !== undefined) throw new WeightsCodecError('bad_header', `OBW1 layers[${l}] has an unknown field "${unknown}".`)
    return layer as unknown as LayerHeader
  })
  const problem = checkStructure(inputSize, layerHeaders)
  if (problem) throw new WeightsCodecError('bad_header', `OBW1 header: ${problem}.`)
  if (meta !== undefined && !isPlainObject(meta)) throw new WeightsCodecError('bad_header', 'OBW1 header field "meta" must be an object.')
  return { inputSize: inputSize as number, layers: layerHeaders, meta }
}

/**
 * What is wrong with a layer list (types included: the header is untrusted JSON), or null.
 * Each layer's inputs must be the previous layer's units, the first layer's the input size.
 */
function checkStructure(inputSize: unknown, layers: readonly LayerHeader[]): string | null {
  if (!isWhole(inputSize, 1, MAX_INPUT_SIZE)) return `inputSize must be a whole number in [1, ${MAX_INPUT_SIZE}], got ${JSON.stringify(inputSize)}`
  if (layers.length < 1 || layers.length > MAX_LAYERS) return `there must be 1 to ${MAX_LAYERS} layers, got ${layers.length}`
  const names = new Set<string>()
  let previousUnits = inputSize
  for (const [l, layer] of layers.entries()) {
    const { name, inputs, units, activation } = layer as unknown as Record<string, unknown>
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
      return `layers[${l}].name must be a string of 1 to ${MAX_NAME_LENGTH} characters`
    }
    if (names.has(name)) return `layer name "${name}" appears twice`
    names.add(name)
    if (!isWhole(units, 1, MAX_UNITS)) return `layer ${name}: units must be a whole number in [1, ${MAX_UNITS}], got ${JSON.stringify(units)}`
    if (inputs !== previousUnits) {
      return `layer ${name}: inputs is ${JSON.stringify(inputs)} but the ${l === 0 ? 'input size' : 'previous layer\'s units'} is ${previousUnits}`
    }
    if (typeof activation !== 'string' || !Object.hasOwn(ACTIVATIONS, activation)) {
      return `layer ${name}: activation ${JSON.stringify(activation)} is not one of ${Object.keys(ACTIVATIONS).join(', ')}`
    }
    previousUnits = units
  }
  return null
}

function floatCount(layers: readonly LayerHeader[]): number {
  let count = 0
  for (const layer of layers) count += layer.inputs * layer.units + layer.units
  return count
}

function writeFloats(bytes: Uint8Array, view: DataView, offset: number, values: Float32Array): number {
  if (LITTLE_ENDIAN_PLATFORM) {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset)
  } else {
    for (let i = 0; i < values.length; i++) view.setFloat32(offset + 4 * i, values[i]!, true)
  }
  return offset + 4 * values.length
}

/** A copy, never a view: decoded weights must not alias (or pin) the received buffer. */
function readFloats(bytes: Uint8Array, view: DataView, offset: number, count: number): Float32Array {
  if (LITTLE_ENDIAN_PLATFORM) {
    const start = bytes.byteOffset + offset
    return new Float32Array(bytes.buffer.slice(start, start + 4 * count))
  }
  const out = new Float32Array(count)
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true)
  return out
}

function isWhole(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function align4(n: number): number {
  return (n + 3) & ~3
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')
}
