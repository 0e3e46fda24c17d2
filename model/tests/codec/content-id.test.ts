import { describe, expect, it } from 'vitest'
import { base32Decode, base32Encode, contentId, isContentId } from '../../src/codec/content-id.ts'

describe('contentId', () => {
  it('gives the CIDv1 (raw, sha2-256, base32) that IPFS tools print', async () => {
    expect(await contentId(new Uint8Array(0))).toBe('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
    expect(await contentId(new TextEncoder().encode('hello world'))).toBe('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
  })

  it('hashes only the bytes of a view, not the whole underlying buffer', async () => {
    const padded = new TextEncoder().encode('xxhello worldxx')
    expect(await contentId(padded.subarray(2, 13))).toBe('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
  })
})

describe('isContentId', () => {
  it('accepts what contentId produces', async () => {
    expect(isContentId(await contentId(Uint8Array.of(1, 2, 3)))).toBe(true)
    expect(isContentId('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')).toBe(true)
  })

  it('rejects other lengths, cases, codecs and non-canonical endings', () => {
    const good = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
    expect(isContentId(good.slice(0, -1))).toBe(false)
    expect(isContentId(good.toUpperCase())).toBe(false)
    expect(isContentId(`${good.slice(0, 20)}1${good.slice(21)}`)).toBe(false)
    // dag-pb CIDv1 (bafybei…) and CIDv0 (Qm…) are not the raw-leaf ids this project issues.
    expect(isContentId('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')).toBe(false)
    expect(isContentId('QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o')).toBe(false)
    // Last character 'u' = 0b10100 carries two zero pad bits; 'v' = 0b10101 does not.
    expect(isContentId(`${good.slice(0, -1)}v`)).toBe(false)
  })
})

describe('base32', () => {
  it('matches RFC 4648 test vectors (lower case, no padding)', () => {
    const vectors: [string, string][] = [
      ['', ''], ['f', 'my'], ['fo', 'mzxq'], ['foo', 'mzxw6'], ['foob', 'mzxw6yq'], ['fooba', 'mzxw6ytb'], ['foobar', 'mzxw6ytboi'],
    ]
    for (const [plain, encoded] of vectors) {
      expect(base32Encode(new TextEncoder().encode(plain))).toBe(encoded)
      expect(new TextDecoder().decode(base32Decode(encoded)!)).toBe(plain)
    }
    expect(base32Decode('MZXW6')).toBeNull()
  })
})
