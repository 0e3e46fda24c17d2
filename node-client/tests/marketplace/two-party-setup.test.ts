import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Dataset, MlpWeights } from '@oblivion/model'
import { mulberry32 } from '@oblivion/model'
import { applyBeacon, contribute, createProver, finishZkModel, prepareZkModel, redactZkey, releaseSnarkjs, verifyInference, WITHHELD_ZKEY_SECTIONS, zkeySections, type PreparedZkModel } from '@oblivion/model/zk/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The setup split the way `oblivion model list` and the coordinator run it (model/src/zk/
 * artifacts.node.ts): the owner prepares, someone else contributes and applies a beacon, the
 * owner's finishZkModel accepts only a zkey of its own circuit with a foreign contribution and
 * the announced beacon last. A tiny 8-4-3 model keeps each step around a second.
 */
const BEACON = `0x${'5f1c3a0e'.repeat(8)}`
let dir: string
let prepared: PreparedZkModel

function tinyModel(): { weights: MlpWeights; test: Dataset } {
  const random = mulberry32(7)
  const sizes = [8, 4, 3]
  const weights: MlpWeights = {
    inputSize: 8,
    layers: sizes.slice(1).map((units, l) => ({
      name: l === 0 ? 'dense' : `dense_${l}`,
      inputs: sizes[l]!,
      units,
      activation: l === 0 ? 'relu' : 'softmax',
      kernel: Float32Array.from({ length: sizes[l]! * units }, () => (random() * 2 - 1) * 0.5),
      bias: Float32Array.from({ length: units }, () => (random() * 2 - 1) * 0.1),
    })),
  }
  const count = 40
  const test: Dataset = {
    count,
    featureCount: 8,
    features: Float32Array.from({ length: count * 8 }, () => random()),
    labels: Int32Array.from({ length: count }, (_, i) => i % 3),
    classNames: ['a', 'b', 'c'],
    featureNames: Array.from({ length: 8 }, (_, i) => `f${i}`),
  }
  return { weights, test }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'oblivion-two-party-'))
  const { weights, test } = tinyModel()
  prepared = await prepareZkModel({
    weights,
    normalization: { kind: 'none', offset: new Float32Array(8), scale: new Float32Array(8).fill(1) },
    test,
    outDir: path.join(dir, 'model'),
    dataset: { source: 'builtin', name: 'tiny' },
  })
}, 120_000)

afterAll(async () => {
  await releaseSnarkjs()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/**
 * As `oblivion model list` and the coordinator do it: the network gets only the redacted copy,
 * contributes and applies the announced beacon; returns the file it sends back.
 */
async function networkSetup(name: string, beaconName: string): Promise<string> {
  const sent = path.join(dir, `${name}.sent.zkey`)
  const contributed = path.join(dir, `${name}.contributed.zkey`)
  const sealed = path.join(dir, `${name}.zkey`)
  await writeFile(sent, redactZkey(await readFile(prepared.initialZkey)))
  await contribute(sent, contributed, { name: 'oblivion coordinator' })
  await applyBeacon(contributed, sealed, { hash: BEACON, name: beaconName })
  return sealed
}

describe('a setup made by two parties', () => {
  it('refuses a zkey with only the beacon on top of the owner’s own: the owner alone could forge', async () => {
    const sealed = path.join(dir, 'beacon-only.zkey')
    await applyBeacon(prepared.initialZkey, sealed, { hash: BEACON })
    await expect(finishZkModel(prepared, { finalZkey: sealed, beaconHash: BEACON })).rejects.toThrow(/no secret contribution from anyone but the owner/)
  })

  it('refuses a zkey whose last step is not the announced beacon', async () => {
    const contributed = path.join(dir, 'contributed.zkey')
    const sealed = path.join(dir, 'other-beacon.zkey')
    await contribute(prepared.initialZkey, contributed, { name: 'oblivion coordinator' })
    await applyBeacon(contributed, sealed, { hash: `0x${'ab'.repeat(32)}` })
    await expect(finishZkModel(prepared, { finalZkey: sealed, beaconHash: BEACON })).rejects.toThrow(/is not the beacon/)
  })

  it('sends the network no section that holds the circuit: the coefficients and the A/B points are zeros, the rest as made', async () => {
    const own = await readFile(prepared.initialZkey)
    const sent = redactZkey(own)
    expect(sent.length).toBe(own.length)
    const ownSections = zkeySections(own)
    for (const section of zkeySections(sent)) {
      const bytes = (file: Uint8Array) => Buffer.from(file.subarray(section.start, section.start + section.size))
      if ((WITHHELD_ZKEY_SECTIONS as readonly number[]).includes(section.id)) {
        expect(bytes(sent).every((b) => b === 0), `section ${section.id}`).toBe(true)
        expect(bytes(own).some((b) => b !== 0), `section ${section.id} of the owner's zkey`).toBe(true)
      } else {
        expect(bytes(sent).equals(bytes(own)), `section ${section.id}`).toBe(true)
      }
    }
    expect(ownSections.map((s) => s.id).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })

  it('refuses a contribution that changed a withheld section', async () => {
    const sealed = await networkSetup('tampered', 'public beacon')
    const bytes = await readFile(sealed)
    const coefficients = zkeySections(bytes).find((s) => s.id === 4)!
    bytes[coefficients.start + 9] = 1
    await writeFile(sealed, bytes)
    await expect(finishZkModel(prepared, { finalZkey: sealed, beaconHash: BEACON })).rejects.toThrow(/section 4 of the contributed zkey was changed/)
  })

  it('accepts a foreign contribution to the redacted zkey sealed with the announced beacon, and records where the beacon came from', async () => {
    const sealed = await networkSetup('final', 'block 7 of chain 8119')
    const model = await finishZkModel(prepared, { finalZkey: sealed, beaconHash: BEACON, beaconSource: { chainId: 8119, blockNumber: 7, blockHash: BEACON } })
    expect(model.manifest.setup.verification.ok).toBe(true)
    expect(model.manifest.setup.contributions.map((c) => c.name)).toEqual(['oblivion coordinator', 'block 7 of chain 8119'])
    expect(model.manifest.beaconSource).toEqual({ chainId: 8119, blockNumber: 7, blockHash: BEACON })
    expect(model.manifest.dataset).toEqual({ source: 'builtin', name: 'tiny' })
    expect(model.verificationKey.nPublic).toBe(2)
    // The owner's own sections are back: the proving key proves, and the proof verifies.
    const prover = await createProver(model.dir)
    try {
      const proved = await prover.prove(Array.from({ length: 8 }, (_, i) => i % 4), 12345n)
      expect(await verifyInference(model.verificationKey, proved.publicSignals, proved.proof)).toBe(true)
    } finally {
      await prover.close()
    }
  })
})
