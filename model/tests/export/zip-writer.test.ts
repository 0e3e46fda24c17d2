import { crc32 as nodeCrc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { createStoredZip, crc32 } from '../../src/export/zip-writer.ts'
import { readZip } from '../support/zip-reader.ts'

const text = (s: string) => new TextEncoder().encode(s)

describe('zip writer (STORED)', () => {
  it('computes CRC-32 like zlib', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926) // the standard check value
    const random = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 251)
    expect(crc32(random)).toBe(nodeCrc32(random))
    expect(crc32(new Uint8Array(0))).toBe(0)
  })

  it('round-trips names and payloads through the central directory', () => {
    const entries = [
      { name: 'a.txt', data: text('hello') },
      { name: 'dir/empty', data: new Uint8Array(0) },
      { name: 'dir/binary', data: Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff) },
    ]
    const records = readZip(createStoredZip(entries))
    expect(records.map((r) => [r.name, Array.from(r.data), r.crc32, r.localExtra.length])).toEqual(
      entries.map((e) => [e.name, Array.from(e.data), nodeCrc32(e.data), 0]),
    )
  })

  it('aligns payloads to the requested boundary whatever the name lengths', () => {
    const entries = Array.from({ length: 70 }, (_, i) => ({
      name: 'x'.repeat(i + 1),
      data: text('y'.repeat(i)),
    }))
    for (const alignment of [4, 64, 4096]) {
      const records = readZip(createStoredZip(entries, { alignment }))
      for (const r of records) expect(r.dataOffset % alignment).toBe(0)
      expect(records.map((r) => new TextDecoder().decode(r.data))).toEqual(
        entries.map((e) => new TextDecoder().decode(e.data)),
      )
    }
  })
})
