import { describe, expect, it } from 'vitest'
import type { ChainRequest } from '../../lib/chain/market.ts'
import {
  chainVerdict,
  durationText,
  probabilityBars,
  probabilityText,
  readPublicSignals,
  requestStage,
  statementProblems,
} from '../../lib/marketplace/inference-verdict.ts'
import { listModelCommand, ManifestError, readManifest, readSetup, shapeText } from '../../lib/marketplace/market-rows.ts'

const COMMITMENT = '1234567890123456789012345678901234567890'
const row = {
  status: 'fulfilled' as const,
  input_commitment: COMMITMENT,
  public_signals: ['7', COMMITMENT],
  output: { predicted: 7, floatPredicted: 7, probabilities: [0.01, 0, 0, 0, 0, 0, 0, 0.98, 0.01, 0], logits: [] },
}
const fulfilled: ChainRequest = { buyer: '0xb', modelId: 1n, priceWei: 10n, inputCommitment: BigInt(COMMITMENT), deadline: 1000, status: 'fulfilled', output: 7n }

describe('the public statement of an answer', () => {
  it('reads [predicted, inputCommitment] and refuses other shapes', () => {
    expect(readPublicSignals(['7', COMMITMENT])).toEqual({ predicted: 7, inputCommitment: COMMITMENT })
    expect(readPublicSignals(['7'])).toBeNull()
    expect(readPublicSignals(['x', COMMITMENT])).toBeNull()
    expect(readPublicSignals(null)).toBeNull()
  })

  it('names an answer about another input, another class or an out-of-range class', () => {
    expect(statementProblems(row, 10)).toEqual([])
    expect(statementProblems({ ...row, public_signals: ['7', '99'] }, 10)).toEqual(['the proof is about another input (its commitment is not yours)'])
    expect(statementProblems({ ...row, output: { ...row.output, predicted: 3 } }, 10)).toEqual(['the recorded class 3 differs from the proven one 7'])
    expect(statementProblems({ ...row, public_signals: ['12', COMMITMENT], output: null }, 10)).toEqual(['the proven class 12 is not one of the model’s 10 classes'])
  })
})

describe('the chain’s verdict', () => {
  it('is ok when the request is Fulfilled with the proven class and your commitment, and the fulfil transaction succeeded', () => {
    const verdict = chainVerdict(row, fulfilled, 'success')
    expect(verdict.ok).toBe(true)
    expect(verdict.checks.map((c) => c.ok)).toEqual([true, true, true, true])
  })

  it('fails on each thing the chain disagrees with', () => {
    expect(chainVerdict(row, { ...fulfilled, status: 'open' }, 'success').checks[0]).toEqual({ label: 'request status on chain: open', ok: false })
    expect(chainVerdict(row, { ...fulfilled, output: 3n }, 'success').ok).toBe(false)
    expect(chainVerdict(row, { ...fulfilled, inputCommitment: 5n }, 'success').ok).toBe(false)
    expect(chainVerdict(row, fulfilled, 'reverted').checks[3]).toEqual({ label: 'fulfil transaction: reverted', ok: false })
    expect(chainVerdict(row, fulfilled, null).ok).toBe(false)
  })
})

describe('how an answer is shown', () => {
  it('turns probabilities into bars named by class, the proven class marked', () => {
    const bars = probabilityBars(row.output, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(bars).toHaveLength(10)
    expect(bars[7]).toEqual({ label: '7', probability: 0.98, proven: true })
    expect(bars.filter((b) => b.proven)).toHaveLength(1)
    expect(probabilityBars(null, [])).toEqual([])
  })

  it('prints probabilities and durations for people', () => {
    expect(probabilityText(0.98765)).toBe('98.8 %')
    expect(probabilityText(0.00012)).toBe('< 0.1 %')
    expect(probabilityText(0)).toBe('0.0 %')
    expect(durationText(42)).toBe('42 s')
    expect(durationText(125)).toBe('2 min 05 s')
    expect(durationText(-3725)).toBe('1 h 02 min')
  })

  it('says where a request stands: waiting until the deadline, then expired (refundable)', () => {
    expect(requestStage({ status: 'pending' }, 100, 200)).toBe('waiting')
    expect(requestStage({ status: 'pending' }, 201, 200)).toBe('expired')
    expect(requestStage({ status: 'pending' }, null, null)).toBe('waiting')
    expect(requestStage({ status: 'failed' }, 100, 200)).toBe('failed')
    expect(requestStage({ status: 'fulfilled' }, 300, 200)).toBe('verifying')
    expect(requestStage({ status: 'refunded' }, 300, 200)).toBe('refunded')
  })
})

describe('a listing’s manifest', () => {
  const manifest = {
    format: 'oblivion-zk-model/1',
    shape: [196, 16, 10],
    classes: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    fracBits: 8,
    inputBits: 9,
    inputPacking: { inputSize: 196, inputBits: 9, valuesPerChunk: 28, chunks: 7, groups: 0 },
    publicSignals: ['predicted', 'inputCommitment'],
    constraints: { estimated: 3400, actual: 3328, wires: 3400 },
    accuracy: { float: 0.931, quantized: 0.929, testRows: 1000, maxAccuracyLoss: 0.01, scaleTrials: [] },
    setup: {
      contributions: [
        { name: 'oblivion coordinator', contributionHash: 'ab12', ms: 10 },
        { name: 'beacon', contributionHash: 'cd34', ms: 5, beacon: { hash: '0xfeed', numIterationsExp: 10 } },
      ],
      verification: { ok: true, circuitHash: 'x', contributions: [], ms: 1 },
    },
  }

  it('gives a buyer the input size, bits, scale, shape, constraints and accuracy', () => {
    const read = readManifest(manifest)
    expect(read).toMatchObject({ inputSize: 196, inputBits: 9, fracBits: 8, classes: 10, constraints: 3328, accuracy: { float: 0.931, quantized: 0.929, testRows: 1000 } })
    expect(shapeText(read.shape)).toBe('196 → 16 → 10')
    expect(read.setup.contribution).toEqual({ name: 'oblivion coordinator', hash: 'ab12' })
    expect(read.setup.beacon).not.toBeNull()
    expect(read.setup.verified).toBe(true)
  })

  it('takes the beacon’s block from the network’s beaconSource', () => {
    const read = readManifest({ ...manifest, beaconSource: { chainId: 8119, blockNumber: 57, blockHash: '0xabc' } })
    expect(read.setup.beacon).toEqual({ chainId: 8119, blockNumber: 57, blockHash: '0xabc' })
  })

  it('reads the network transcript (coordinator contribution + beacon block) too', () => {
    const setup = readSetup({ contribution: { name: 'oblivion coordinator', contributionHash: 'ab12' }, beacon: { chainId: 8119, blockNumber: 42, blockHash: '0xbeef' } })
    expect(setup.contribution).toEqual({ name: 'oblivion coordinator', hash: 'ab12' })
    expect(setup.beacon).toEqual({ chainId: 8119, blockNumber: 42, blockHash: '0xbeef' })
    expect(readSetup(undefined)).toMatchObject({ contribution: null, beacon: null })
  })

  it('refuses a manifest without what a commitment needs, saying what is missing', () => {
    expect(() => readManifest(null)).toThrow(ManifestError)
    expect(() => readManifest({ shape: [196, 10] })).toThrow(/inputBits, fracBits/)
  })

  it('gives the owner of an unlisted model the CLI command that lists it', () => {
    expect(listModelCommand('5c1f…')).toBe('oblivion model list 5c1f… --price 0.01')
  })
})
