import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Dataset, MlpWeights } from '@oblivion/model'
import { mulberry32 } from '@oblivion/model'
import { applyBeacon, contribute, finishZkModel, prepareZkModel, releaseSnarkjs, type PreparedZkModel } from '@oblivion/model/zk/node'
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

  it('accepts a foreign contribution sealed with the announced beacon, and records where the beacon came from', async () => {
    const contributed = path.join(dir, 'contributed-2.zkey')
    const sealed = path.join(dir, 'final.zkey')
    await contribute(prepared.initialZkey, contributed, { name: 'oblivion coordinator' })
    await applyBeacon(contributed, sealed, { hash: BEACON, name: 'block 7 of chain 8119' })
    const model = await finishZkModel(prepared, { finalZkey: sealed, beaconHash: BEACON, beaconSource: { chainId: 8119, blockNumber: 7, blockHash: BEACON } })
    expect(model.manifest.setup.verification.ok).toBe(true)
    expect(model.manifest.setup.contributions.map((c) => c.name)).toEqual(['oblivion coordinator', 'block 7 of chain 8119'])
    expect(model.manifest.beaconSource).toEqual({ chainId: 8119, blockNumber: 7, blockHash: BEACON })
    expect(model.manifest.dataset).toEqual({ source: 'builtin', name: 'tiny' })
    expect(model.verificationKey.nPublic).toBe(2)
  })
})
