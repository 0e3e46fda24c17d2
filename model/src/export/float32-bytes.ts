const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * float32 arrays as one run of little-endian bytes: the layout of TF.js' weights.bin, ONNX
 * `rawData` and PyTorch storages alike, whatever the host's byte order.
 */
export function float32LittleEndian(...arrays: Float32Array[]): Uint8Array {
  const total = arrays.reduce((sum, a) => sum + a.length, 0)
  const bytes = new Uint8Array(total * 4)
  const view = new DataView(bytes.buffer)
  let offset = 0
  for (const values of arrays) {
    if (hostIsLittleEndian) {
      bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset)
    } else {
      for (let i = 0; i < values.length; i++) view.setFloat32(offset + i * 4, values[i]!, true)
    }
    offset += values.byteLength
  }
  return bytes
}
