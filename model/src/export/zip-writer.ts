/**
 * A minimal zip writer: STORED (uncompressed) entries only, no zip64. Enough for PyTorch's
 * checkpoint container, which never compresses (torch.load memory-maps or reads records in
 * place) and which aligns each record's payload so that tensors can be mapped directly.
 */

export interface ZipEntry {
  /** Path inside the archive, `/`-separated, ASCII. */
  name: string
  data: Uint8Array
}

export interface ZipOptions {
  /**
   * Start every entry's payload at a multiple of this many bytes by padding the local header's
   * extra field, the way PyTorch's writer does (64): an extra field `FB`, u16 length, then 'Z's.
   */
  alignment?: number
}

const LOCAL_HEADER_SIZE = 30
const CENTRAL_HEADER_SIZE = 46
const END_RECORD_SIZE = 22
const EXTRA_FIELD_HEADER_SIZE = 4
/** 1980-01-01 00:00, the earliest DOS date: fixed so that the same model gives the same bytes. */
const DOS_TIME = 0
const DOS_DATE = (0 << 9) | (1 << 5) | 1

export function createStoredZip(entries: ZipEntry[], options: ZipOptions = {}): Uint8Array {
  const alignment = options.alignment ?? 1
  const names = entries.map((entry) => new TextEncoder().encode(entry.name))
  const placed: { offset: number; extra: Uint8Array; crc: number }[] = []

  let cursor = 0
  entries.forEach((entry, i) => {
    const extra = alignmentPadding(cursor + LOCAL_HEADER_SIZE + names[i]!.length, alignment)
    placed.push({ offset: cursor, extra, crc: crc32(entry.data) })
    cursor += LOCAL_HEADER_SIZE + names[i]!.length + extra.length + entry.data.length
  })
  const centralStart = cursor
  const centralSize = names.reduce((sum, name) => sum + CENTRAL_HEADER_SIZE + name.length, 0)
  const total = centralStart + centralSize + END_RECORD_SIZE
  if (total > 0xffffffff || entries.length > 0xffff) {
    throw new Error(`zip of ${entries.length} entries and ${total} bytes needs zip64, not supported`)
  }

  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  entries.forEach((entry, i) => {
    const { offset, extra, crc } = placed[i]!
    const name = names[i]!
    view.setUint32(offset, 0x04034b50, true) // local file header signature
    writeCommonFields(view, offset + 4, crc, entry.data.length, name.length)
    view.setUint16(offset + 28, extra.length, true)
    out.set(name, offset + LOCAL_HEADER_SIZE)
    out.set(extra, offset + LOCAL_HEADER_SIZE + name.length)
    out.set(entry.data, offset + LOCAL_HEADER_SIZE + name.length + extra.length)
  })

  // The central directory repeats each header without the padding: readers find payloads
  // through the local header, whose own extra-field length they read there.
  let at = centralStart
  entries.forEach((entry, i) => {
    const { offset, crc } = placed[i]!
    const name = names[i]!
    view.setUint32(at, 0x02014b50, true) // central directory header signature
    view.setUint16(at + 4, 20, true) // version made by: 2.0, MS-DOS attributes
    writeCommonFields(view, at + 6, crc, entry.data.length, name.length)
    // +30 extra length, +32 comment length, +34 disk number, +36 internal, +38 external attrs: 0
    view.setUint32(at + 42, offset, true)
    out.set(name, at + CENTRAL_HEADER_SIZE)
    at += CENTRAL_HEADER_SIZE + name.length
  })

  view.setUint32(at, 0x06054b50, true) // end of central directory signature
  view.setUint16(at + 8, entries.length, true) // entries on this disk
  view.setUint16(at + 10, entries.length, true) // entries in total
  view.setUint32(at + 12, centralSize, true)
  view.setUint32(at + 16, centralStart, true)
  return out
}

/** Fields shared by local and central headers, from "version needed" to the name length. */
function writeCommonFields(view: DataView, at: number, crc: number, size: number, nameLength: number): void {
  view.setUint16(at, 20, true) // version needed to extract: 2.0
  view.setUint16(at + 2, 0, true) // flags: sizes and CRC are in the header, no data descriptor
  view.setUint16(at + 4, 0, true) // method: STORED
  view.setUint16(at + 6, DOS_TIME, true)
  view.setUint16(at + 8, DOS_DATE, true)
  view.setUint32(at + 10, crc, true)
  view.setUint32(at + 14, size, true) // compressed size
  view.setUint32(at + 18, size, true) // uncompressed size
  view.setUint16(at + 22, nameLength, true)
}

/** The extra field that moves a payload starting at `start` (with no extra field) onto the next
 *  multiple of `alignment`; empty when no alignment is asked for. */
function alignmentPadding(start: number, alignment: number): Uint8Array {
  if (alignment <= 1) return new Uint8Array(0)
  const headerEnd = start + EXTRA_FIELD_HEADER_SIZE
  const padding = (alignment - (headerEnd % alignment)) % alignment
  const extra = new Uint8Array(EXTRA_FIELD_HEADER_SIZE + padding).fill(0x5a) // 'Z'
  extra[0] = 0x46 // 'F'
  extra[1] = 0x42 // 'B'
  new DataView(extra.buffer).setUint16(2, padding, true)
  return extra
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32 (IEEE 802.3, as zip and gzip use it). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
