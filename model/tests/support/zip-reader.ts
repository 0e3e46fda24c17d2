/**
 * Reads a zip through its central directory, the way torch.load's miniz reader does, and
 * reports what a test needs to check a writer: names, where each payload starts, the stored
 * CRC and method, and the local header's extra field.
 */
export interface ZipRecord {
  name: string
  method: number
  crc32: number
  /** Offset of the payload in the archive (after the local header, name and extra field). */
  dataOffset: number
  data: Uint8Array
  localExtra: Uint8Array
}

export function readZip(bytes: Uint8Array): ZipRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const end = bytes.length - 22 // no archive comment
  if (view.getUint32(end, true) !== 0x06054b50) throw new Error('no end of central directory record')
  const count = view.getUint16(end + 10, true)
  let at = view.getUint32(end + 16, true)
  const records: ZipRecord[] = []
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error(`bad central header ${i}`)
    const method = view.getUint16(at + 10, true)
    const crc32 = view.getUint32(at + 16, true)
    const compressedSize = view.getUint32(at + 20, true)
    const size = view.getUint32(at + 24, true)
    const nameLength = view.getUint16(at + 28, true)
    const centralExtraLength = view.getUint16(at + 30, true)
    const commentLength = view.getUint16(at + 32, true)
    const localOffset = view.getUint32(at + 42, true)
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength))
    if (compressedSize !== size) throw new Error(`${name}: compressed, not STORED`)

    if (view.getUint32(localOffset, true) !== 0x04034b50) throw new Error(`${name}: bad local header`)
    const localNameLength = view.getUint16(localOffset + 26, true)
    const localExtraLength = view.getUint16(localOffset + 28, true)
    const localName = new TextDecoder().decode(
      bytes.subarray(localOffset + 30, localOffset + 30 + localNameLength),
    )
    if (localName !== name) throw new Error(`central name ${name} but local name ${localName}`)
    if (view.getUint32(localOffset + 14, true) !== crc32)
      throw new Error(`${name}: local and central CRC differ`)
    const extraStart = localOffset + 30 + localNameLength
    const dataOffset = extraStart + localExtraLength
    records.push({
      name,
      method,
      crc32,
      dataOffset,
      data: bytes.subarray(dataOffset, dataOffset + size),
      localExtra: bytes.subarray(extraStart, dataOffset),
    })
    at += 46 + nameLength + centralExtraLength + commentLength
  }
  return records
}
