/**
 * Content ids for stored bytes (model weights, updates, artifacts): CIDv1, multicodec raw (0x55),
 * multihash sha2-256 (0x12, 32-byte digest), multibase base32 lower-case without padding ('b').
 * That is what `ipfs add --cid-version 1 --raw-leaves` and web3.storage print for a single
 * block, so an id can be checked against any IPFS tool: always 59 characters, always `bafkrei…`.
 */

const CID_PREFIX = Uint8Array.of(0x01, 0x55, 0x12, 0x20)
const CID_BYTES = CID_PREFIX.length + 32
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

export async function contentId(bytes: Uint8Array): Promise<string> {
  // A copy into a plain ArrayBuffer: subtle.digest refuses views of a SharedArrayBuffer.
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', Uint8Array.from(bytes)))
  const cid = new Uint8Array(CID_BYTES)
  cid.set(CID_PREFIX, 0)
  cid.set(digest, CID_PREFIX.length)
  return 'b' + base32Encode(cid)
}

/** True for the ids contentId produces: CIDv1 raw sha2-256 in lower-case base32, canonical. */
export function isContentId(value: string): boolean {
  if (value.length !== 59 || !value.startsWith('bafkrei')) return false
  const decoded = base32Decode(value.slice(1))
  if (decoded === null || decoded.length !== CID_BYTES) return false
  // Canonical: the 2 bits left over in the last character must be zero (re-encoding agrees).
  return base32Encode(decoded) === value.slice(1)
}

/** RFC 4648 base32, lower-case alphabet, no padding. */
export function base32Encode(bytes: Uint8Array): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += BASE32_ALPHABET.charAt((buffer >> bits) & 31)
    }
  }
  if (bits > 0) out += BASE32_ALPHABET.charAt((buffer << (5 - bits)) & 31)
  return out
}

/** The inverse of base32Encode; null for a character outside the lower-case alphabet. */
export function base32Decode(text: string): Uint8Array | null {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8))
  let buffer = 0
  let bits = 0
  let length = 0
  for (const char of text) {
    const value = BASE32_ALPHABET.indexOf(char)
    if (value < 0) return null
    buffer = ((buffer << 5) | value) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[length++] = (buffer >> bits) & 0xff
    }
  }
  return out
}
