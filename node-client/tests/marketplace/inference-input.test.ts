import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { commitInput, inputPacking } from '@oblivion/model/zk'
import { describe, expect, it } from 'vitest'
import { argmax, dequantize } from '../../src/marketplace/float-answer.ts'
import { commitFeatures, fileFeatures, testRowFeatures, type BuyerManifest } from '../../src/marketplace/inference-input.ts'

// What a buyer reads of a 196-16-10 model's public manifest (scale 2^6, 7-bit inputs).
const manifest: BuyerManifest = {
  fracBits: 6,
  inputBits: 7,
  inputPacking: inputPacking({ inputSize: 196, inputBits: 7 }),
  dataset: { source: 'builtin', name: 'mnist-14x14' },
}

describe("a buyer's input", () => {
  it('quantizes raw features to round(x·2^fracBits), clamped to the circuit range, and commits with the salt', () => {
    const features = Array.from({ length: 196 }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0.5 : 2))
    const input = commitFeatures(manifest, features, 'test', 42n)
    expect(input.pixels.slice(0, 3)).toEqual([64, 32, 127]) // 2 · 64 = 128 is clamped to 2^7 − 1
    expect(input.commitment).toBe(commitInput({ inputSize: 196, inputBits: 7 }, input.pixels, 42n))
    expect(input.salt).toBe(42n)
  })

  it('draws a fresh salt each time, so the same input gives unlinkable commitments', () => {
    const features = new Array(196).fill(0.25)
    const a = commitFeatures(manifest, features, 'a')
    const b = commitFeatures(manifest, features, 'b')
    expect(a.pixels).toEqual(b.pixels)
    expect(a.salt).not.toBe(b.salt)
    expect(a.commitment).not.toBe(b.commitment)
  })

  it('refuses an input of the wrong length or with a non-finite feature (usage errors, exit 2)', () => {
    expect(() => commitFeatures(manifest, [0.1, 0.2], 'short')).toThrow(expect.objectContaining({ code: 'CLI_USAGE', message: 'the model takes 196 features, the input has 2' }))
    const features = new Array(196).fill(0)
    features[5] = Number.NaN
    expect(() => commitFeatures(manifest, features, 'nan')).toThrow(/feature 5 is NaN/)
  })

  it("takes --test-row from the model's built-in data set, with its label", async () => {
    const row = await testRowFeatures(manifest, 0)
    expect(row.features).toHaveLength(196)
    expect(row.source).toBe('row 0 of mnist-14x14')
    expect(row.label).toBeGreaterThanOrEqual(0)
    expect(Math.max(...row.features)).toBeLessThanOrEqual(1)
    await expect(testRowFeatures({ ...manifest, dataset: { source: 'csv' } }, 0)).rejects.toThrow(/--test-row needs a model trained on a built-in data set/)
    await expect(testRowFeatures(manifest, 10_000_000)).rejects.toThrow(/has rows 0–/)
  })

  it('reads --input files holding an array (or {"features": [...]}) and refuses anything else', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'oblivion-input-'))
    try {
      await writeFile(path.join(dir, 'a.json'), JSON.stringify([0, 0.5, 1]))
      await writeFile(path.join(dir, 'b.json'), JSON.stringify({ features: [1, 2] }))
      await writeFile(path.join(dir, 'c.json'), JSON.stringify({ pixels: 'no' }))
      expect(await fileFeatures(path.join(dir, 'a.json'))).toEqual([0, 0.5, 1])
      expect(await fileFeatures(path.join(dir, 'b.json'))).toEqual([1, 2])
      await expect(fileFeatures(path.join(dir, 'c.json'))).rejects.toThrow(/must hold a JSON array of numbers/)
      await expect(fileFeatures(path.join(dir, 'missing.json'))).rejects.toThrow(/could not read/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe("the owner's float answer", () => {
  it('gives the float model back the features the buyer quantized: pixels / 2^fracBits', () => {
    expect(Array.from(dequantize([0, 32, 64, 127], 6))).toEqual([0, 0.5, 1, 127 / 64])
  })

  it('names the first of equal maxima, as the circuit does', () => {
    expect(argmax([0.1, 0.4, 0.4, 0.1])).toBe(1)
  })
})
