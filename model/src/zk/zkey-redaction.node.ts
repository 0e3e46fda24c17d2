// Node-only: what the model owner sends the network for its phase-2 contribution, and how the
// owner puts the answer back together. A snarkjs Groth16 zkey is a binary file of numbered
// sections (magic "zkey", version, section count, then per section: id u32, size u64, bytes):
//   1 header   2 Groth16 header (vk, δ)   3 IC   4 coefficients   5 A   6 B1   7 B2   8 L   9 H   10 contributions
// A contribution (snarkjs zkey_contribute.js, and zkey_beacon.js alike) multiplies δ in section
// 2 and every point of sections 8 and 9 by its secret, appends to section 10, and COPIES sections
// 3–7 byte for byte without reading them. Section 4 is the R1CS coefficients in the clear: with
// the weights as circuit constants, the weights themselves; 5–7 are the A/B query points, which
// encode the same coefficients in the exponent. So the owner sends sections 4–7 as zeros of the
// same length, the network contributes as usual, and the owner writes its own 4–7 back into the
// result before verifySetup checks the whole zkey against its r1cs. Sections 8 and 9 must travel
// (they are what a contribution changes); they hold the circuit only in the exponent, and the
// weights cannot be read back from them without the setup's secrets.

/** The sections a contribution copies without reading and that carry the circuit: never sent. */
export const WITHHELD_ZKEY_SECTIONS = [4, 5, 6, 7] as const

interface Section {
  id: number
  /** Offset of the section's bytes in the file. */
  start: number
  size: number
}

export class ZkeyFormatError extends Error {
  override readonly name = 'ZkeyFormatError'
}

/** The section table of a zkey file (throws ZkeyFormatError for anything else). */
export function zkeySections(zkey: Uint8Array): Section[] {
  const view = new DataView(zkey.buffer, zkey.byteOffset, zkey.byteLength)
  if (zkey.byteLength < 12 || String.fromCharCode(...zkey.subarray(0, 4)) !== 'zkey') throw new ZkeyFormatError('not a zkey file (no "zkey" magic)')
  const count = view.getUint32(8, true)
  const sections: Section[] = []
  let at = 12
  for (let i = 0; i < count; i++) {
    if (at + 12 > zkey.byteLength) throw new ZkeyFormatError(`the zkey ends inside the header of section ${i + 1} of ${count}`)
    const id = view.getUint32(at, true)
    const size = Number(view.getBigUint64(at + 4, true))
    const start = at + 12
    if (start + size > zkey.byteLength) throw new ZkeyFormatError(`section ${id} runs ${start + size - zkey.byteLength} bytes past the end of the zkey`)
    sections.push({ id, start, size })
    at = start + size
  }
  return sections
}

function withheld(zkey: Uint8Array): Section[] {
  const sections = zkeySections(zkey)
  return WITHHELD_ZKEY_SECTIONS.map((id) => {
    const found = sections.filter((s) => s.id === id)
    if (found.length !== 1) throw new ZkeyFormatError(`a Groth16 zkey has exactly one section ${id}; this one has ${found.length}`)
    return found[0]!
  })
}

/** A copy of `zkey` with sections 4–7 zeroed: what the owner uploads for the network to contribute to. */
export function redactZkey(zkey: Uint8Array): Uint8Array {
  const copy = new Uint8Array(zkey) // a copy (a Buffer's slice() would be a view of the owner's bytes)
  for (const section of withheld(copy)) copy.fill(0, section.start, section.start + section.size)
  return copy
}

/**
 * The network's zkey (made from redactZkey's output) with the owner's sections 4–7 written back.
 * Refused when those sections were not passed through as sent (zeros; or the owner's own bytes,
 * when a contributor had the whole zkey): a contribution never changes them.
 */
export function restoreZkey(own: Uint8Array, contributed: Uint8Array): Uint8Array {
  const mine = withheld(own)
  const theirs = withheld(contributed)
  const restored = new Uint8Array(contributed)
  for (const [i, section] of theirs.entries()) {
    const original = own.subarray(mine[i]!.start, mine[i]!.start + mine[i]!.size)
    const received = contributed.subarray(section.start, section.start + section.size)
    if (section.size !== original.length) {
      throw new ZkeyFormatError(`section ${section.id} of the contributed zkey is ${section.size} bytes, not the ${original.length} of the owner's`)
    }
    if (!received.every((byte) => byte === 0) && !Buffer.from(received).equals(Buffer.from(original))) {
      throw new ZkeyFormatError(`section ${section.id} of the contributed zkey was changed: a contribution copies it as it was sent`)
    }
    restored.set(original, section.start)
  }
  return restored
}
