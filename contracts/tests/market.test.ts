// InferenceMarket with real Groth16 proofs of tests/fixtures/tiny-statement.circom (out = x², input
// committed with Poseidon): a valid proof pays the owner; everything else that could move the price
// to someone not owed it is refused. Every test ends with address(market).balance == accountedBalance().
import { ZeroHash, id, keccak256 } from 'ethers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { BN254_BASE_FIELD, SNARK_SCALAR_FIELD, verificationKeyBytes, verificationKeyHash } from '../src/groth16/encoding.ts'
import { buildProofAnchorTree } from '../src/market/proof-anchor-tree.ts'
import { mined, startTestChain, type TestChain } from './support/chain.ts'
import { MarketFixture, PRICE, REQUEST_TIMEOUT, RequestStatus, expectMarketRevert, marketEventsOf } from './support/market-fixture.ts'
import { expectBalanceDelta } from './support/settlement-fixture.ts'
import { commitInput, loadTinyStatement, releaseSnarkjs, snarkjs, type TinyProof, type TinyStatement } from './support/tiny-statement.ts'

let chain: TestChain
let fixture: MarketFixture
let statement: TinyStatement
/** Proofs under setup a (model 1's key) for distinct inputs, and one under setup b. */
let proofA: TinyProof
let proofB: TinyProof
let proofOtherSetup: TinyProof

beforeAll(async () => {
  chain = await startTestChain()
  fixture = new MarketFixture(chain)
  statement = await loadTinyStatement()
  proofA = await statement.prove(statement.setups[0], 3n, 1001n)
  proofB = await statement.prove(statement.setups[0], 5n, 2002n)
  proofOtherSetup = await statement.prove(statement.setups[1], 3n, 3003n)
})
afterEach(async () => fixture.expectAllAccounted())
afterAll(async () => {
  await chain?.stop()
  await releaseSnarkjs()
})

describe('a valid proof', () => {
  it('fulfils the request and pays the owner exactly the price; snarkjs agrees off chain', async () => {
    const d = await fixture.deploy()
    const { modelId, receipt: listed } = await fixture.list(d, statement.setups[0])
    expect(modelId).toBe(1n)
    const model = await d.market.getModel(modelId)
    expect(model.owner).toBe(d.owner.address)
    expect(model.price).toBe(PRICE)
    expect(model.verificationKeyHash).toBe(verificationKeyHash(statement.setups[0].vk))
    expect(model.active).toBe(true)
    expect(await d.market.verificationKeyOf(modelId)).toBe(verificationKeyBytes(statement.setups[0].vk))
    expect(marketEventsOf(d, listed)[0]!.name).toBe('ModelListed')
    // The key lives in a data contract: STOP, then the 640 key bytes.
    expect(await chain.provider.getCode(model.keyPointer)).toBe(`0x00${verificationKeyBytes(statement.setups[0].vk).slice(2)}`)

    expect(await snarkjs.groth16.verify(statement.setups[0].vk, proofA.publicSignals, proofA.proof)).toBe(true)
    expect(proofA.publicSignals).toEqual(['9', proofA.inputCommitment.toString()])
    expect(await d.market.verifyInference(modelId, proofA.inputCommitment, proofA.output, proofA.words)).toBe(true)

    const { requestId, receipt: requested } = await fixture.request(d, modelId, proofA.inputCommitment)
    const deadline = BigInt((await chain.provider.getBlock(requested.blockNumber))!.timestamp) + REQUEST_TIMEOUT
    expect(marketEventsOf(d, requested)).toEqual([
      { name: 'InferenceRequested', args: { requestId, modelId, buyer: d.buyer.address, inputCommitment: proofA.inputCommitment, price: PRICE, deadline } },
    ])
    expect(await d.market.accountedBalance()).toBe(PRICE)

    const fulfilled = await expectBalanceDelta(chain, d.owner, PRICE, () => mined(d.as(d.owner).fulfil(requestId, proofA.output, proofA.words)))
    expect(marketEventsOf(d, fulfilled)).toEqual([
      { name: 'InferenceFulfilled', args: { requestId, modelId, output: 9n, proofHash: proofA.proofHash } },
    ])
    expect(proofA.proofHash).toBe(keccak256(`0x${proofA.words.map((w) => w.toString(16).padStart(64, '0')).join('')}`))
    expect((await d.market.getRequest(requestId)).toObject()).toEqual({
      buyer: d.buyer.address,
      modelId,
      price: PRICE,
      inputCommitment: proofA.inputCommitment,
      deadline,
      status: RequestStatus.Fulfilled,
      output: 9n,
    })
    expect((await d.market.getModel(modelId)).fulfilled).toBe(1n)
    expect(await d.market.accountedBalance()).toBe(0n)
  })
})

describe('refused proofs', () => {
  async function openRequest(proof: TinyProof) {
    const d = await fixture.deploy()
    const { modelId } = await fixture.list(d, statement.setups[0])
    const { requestId } = await fixture.request(d, modelId, proof.inputCommitment)
    return { d, modelId, requestId }
  }

  it('a changed output', async () => {
    const { d, requestId } = await openRequest(proofA)
    for (const output of [proofA.output + 1n, proofA.output - 1n, 0n, 4n]) {
      await expectMarketRevert(d.as(d.owner).fulfil(requestId, output, proofA.words), 'InvalidProof')
    }
  })

  it('any changed proof word (off the curve, another point, or not below q)', async () => {
    const { d, requestId } = await openRequest(proofA)
    for (let i = 0; i < 8; i++) {
      for (const tampered of [proofA.words[i]! + 1n, proofA.words[i]! ^ 2n, proofA.words[i]! + BN254_BASE_FIELD]) {
        const words = [...proofA.words]
        words[i] = tampered
        await expectMarketRevert(d.as(d.owner).fulfil(requestId, proofA.output, words), 'InvalidProof')
      }
    }
    // A and C swapped, B's coordinates in snarkjs' JSON order (the un-swapped G2 encoding).
    const w = proofA.words
    await expectMarketRevert(d.as(d.owner).fulfil(requestId, proofA.output, [w[6]!, w[7]!, w[2]!, w[3]!, w[4]!, w[5]!, w[0]!, w[1]!]), 'InvalidProof')
    await expectMarketRevert(d.as(d.owner).fulfil(requestId, proofA.output, [w[0]!, w[1]!, w[3]!, w[2]!, w[5]!, w[4]!, w[6]!, w[7]!]), 'InvalidProof')
    // Untouched, it still pays.
    await mined(d.as(d.owner).fulfil(requestId, proofA.output, proofA.words))
  })

  it("a proof for request A does not fulfil request B (B's commitment is in the statement)", async () => {
    const { d, modelId, requestId: requestA } = await openRequest(proofA)
    const { requestId: requestB } = await fixture.request(d, modelId, proofB.inputCommitment, { buyer: d.otherBuyer })
    await expectMarketRevert(d.as(d.owner).fulfil(requestB, proofA.output, proofA.words), 'InvalidProof')
    await expectMarketRevert(d.as(d.owner).fulfil(requestA, proofB.output, proofB.words), 'InvalidProof')
    await mined(d.as(d.owner).fulfil(requestB, proofB.output, proofB.words))
    await mined(d.as(d.owner).fulfil(requestA, proofA.output, proofA.words))
  })

  it('a replayed fulfilment: the second fulfil of the same request', async () => {
    const { d, requestId } = await openRequest(proofA)
    await mined(d.as(d.owner).fulfil(requestId, proofA.output, proofA.words))
    await expectMarketRevert(d.as(d.owner).fulfil(requestId, proofA.output, proofA.words), 'WrongStatus', [RequestStatus.Fulfilled])
  })

  it('a commitment already used: refused when the new request is made, by anyone, even after fulfilment', async () => {
    const { d, modelId, requestId } = await openRequest(proofA)
    for (const buyer of [d.buyer, d.otherBuyer]) {
      await expectMarketRevert(d.as(buyer).requestInference(modelId, proofA.inputCommitment, { value: PRICE }), 'CommitmentUsed', [requestId])
    }
    await mined(d.as(d.owner).fulfil(requestId, proofA.output, proofA.words))
    await expectMarketRevert(d.as(d.otherBuyer).requestInference(modelId, proofA.inputCommitment, { value: PRICE }), 'CommitmentUsed', [requestId])
  })

  it("another model's key: a proof under one setup does not verify under another", async () => {
    const d = await fixture.deploy()
    const { modelId: model1 } = await fixture.list(d, statement.setups[0])
    const { modelId: model2 } = await fixture.list(d, statement.setups[1], { owner: d.otherOwner })
    expect((await d.market.getModel(model1)).verificationKeyHash).not.toBe((await d.market.getModel(model2)).verificationKeyHash)
    // Same circuit, same x: the outputs agree, the keys do not.
    const { requestId: onModel2 } = await fixture.request(d, model2, proofA.inputCommitment)
    await expectMarketRevert(d.as(d.otherOwner).fulfil(onModel2, proofA.output, proofA.words), 'InvalidProof')
    const { requestId: onModel1 } = await fixture.request(d, model1, proofOtherSetup.inputCommitment)
    await expectMarketRevert(d.as(d.owner).fulfil(onModel1, proofOtherSetup.output, proofOtherSetup.words), 'InvalidProof')
    expect(await d.market.verifyInference(model2, proofOtherSetup.inputCommitment, proofOtherSetup.output, proofOtherSetup.words)).toBe(true)
    expect(await d.market.verifyInference(model1, proofOtherSetup.inputCommitment, proofOtherSetup.output, proofOtherSetup.words)).toBe(false)
  })

  it("a fulfilment by anyone but the model's owner, even with a valid proof", async () => {
    const { d, requestId } = await openRequest(proofA)
    for (const wallet of [d.buyer, d.stranger, d.otherOwner]) {
      await expectMarketRevert(d.as(wallet).fulfil(requestId, proofA.output, proofA.words), 'NotModelOwner')
    }
  })

  it('a fulfilment after the deadline (at the deadline it still pays)', async () => {
    const { d, requestId } = await openRequest(proofA)
    const { deadline } = await d.market.getRequest(requestId)
    await chain.setNextTimestamp(deadline + 1n)
    await expectMarketRevert(d.as(d.owner).fulfil(requestId, proofA.output, proofA.words), 'RequestExpired', [deadline])

    const { d: d2, requestId: r2 } = await openRequest(proofB)
    const { deadline: deadline2 } = await d2.market.getRequest(r2)
    await chain.setNextTimestamp(deadline2)
    await mined(d2.as(d2.owner).fulfil(r2, proofB.output, proofB.words))
  })

  it('a public signal not below r: output + r, and a commitment >= r at request time', async () => {
    const { d, modelId, requestId } = await openRequest(proofA)
    // The precompile multiplies modulo the group order, so output + r would pass without the check.
    await expectMarketRevert(d.as(d.owner).fulfil(requestId, proofA.output + SNARK_SCALAR_FIELD, proofA.words), 'InvalidProof')
    expect(await d.market.verifyInference(modelId, proofA.inputCommitment, proofA.output + SNARK_SCALAR_FIELD, proofA.words)).toBe(false)
    expect(await d.market.verifyInference(modelId, proofA.inputCommitment + SNARK_SCALAR_FIELD, proofA.output, proofA.words)).toBe(false)
    await expectMarketRevert(
      d.as(d.otherBuyer).requestInference(modelId, proofB.inputCommitment + SNARK_SCALAR_FIELD, { value: PRICE }),
      'CommitmentOutOfField',
    )
    await expectMarketRevert(d.as(d.otherBuyer).requestInference(modelId, SNARK_SCALAR_FIELD, { value: PRICE }), 'CommitmentOutOfField')
  })
})

describe('models and requests', () => {
  it('a request pays exactly the price of an active, listed model', async () => {
    const d = await fixture.deploy()
    const { modelId } = await fixture.list(d, statement.setups[0])
    const commitment = commitInput(11n, 12n)
    for (const value of [0n, PRICE - 1n, PRICE + 1n]) {
      await expectMarketRevert(d.as(d.buyer).requestInference(modelId, commitment, { value }), 'WrongPayment', [PRICE])
    }
    await expectMarketRevert(d.as(d.buyer).requestInference(2n, commitment, { value: PRICE }), 'UnknownModel')
    await expectMarketRevert(d.as(d.buyer).requestInference(0n, commitment, { value: PRICE }), 'UnknownModel')

    await expectMarketRevert(d.as(d.stranger).setActive(modelId, false), 'NotModelOwner')
    await expectMarketRevert(d.as(d.stranger).setPrice(modelId, 1n), 'NotModelOwner')
    await mined(d.as(d.owner).setActive(modelId, false))
    await expectMarketRevert(d.as(d.buyer).requestInference(modelId, commitment, { value: PRICE }), 'ModelInactive')
    await mined(d.as(d.owner).setActive(modelId, true))
    await mined(d.as(d.owner).setPrice(modelId, PRICE * 2n))
    await expectMarketRevert(d.as(d.buyer).requestInference(modelId, commitment, { value: PRICE }), 'WrongPayment', [PRICE * 2n])
    await fixture.request(d, modelId, commitment, { value: PRICE * 2n })
    await expectMarketRevert(d.as(d.owner).setPrice(modelId, 1n << 96n), 'AmountTooLarge')
  })

  it('an open request keeps what it paid when the price changes, and can be fulfilled after deactivation', async () => {
    const d = await fixture.deploy()
    const { modelId } = await fixture.list(d, statement.setups[0])
    const { requestId } = await fixture.request(d, modelId, proofA.inputCommitment)
    await mined(d.as(d.owner).setPrice(modelId, PRICE * 3n))
    await mined(d.as(d.owner).setActive(modelId, false))
    await expectBalanceDelta(chain, d.owner, PRICE, () => mined(d.as(d.owner).fulfil(requestId, proofA.output, proofA.words)))
  })

  it('a key must be 640 bytes (2 public signals) of coordinates below q', async () => {
    const d = await fixture.deploy()
    const key = verificationKeyBytes(statement.setups[0].vk)
    const words = key.slice(2).match(/.{64}/g)!
    const hex = (w: string[]) => `0x${w.join('')}`
    await expectMarketRevert(d.as(d.owner).listModel(hex(words.slice(0, 18)), PRICE, ZeroHash), 'InvalidVerificationKey')
    await expectMarketRevert(d.as(d.owner).listModel(hex([...words, ...words.slice(16, 18)]), PRICE, ZeroHash), 'InvalidVerificationKey')
    await expectMarketRevert(d.as(d.owner).listModel(`${key}00`, PRICE, ZeroHash), 'InvalidVerificationKey')
    await expectMarketRevert(d.as(d.owner).listModel('0x', PRICE, ZeroHash), 'InvalidVerificationKey')
    for (const at of [0, 5, 13, 19]) {
      const tampered = [...words]
      tampered[at] = (BigInt(`0x${words[at]}`) + BN254_BASE_FIELD).toString(16).padStart(64, '0')
      await expectMarketRevert(d.as(d.owner).listModel(hex(tampered), PRICE, ZeroHash), 'InvalidVerificationKey')
    }
    await expectMarketRevert(d.as(d.owner).listModel(key, 1n << 96n, ZeroHash), 'AmountTooLarge')
    await expectMarketRevert(d.market.verificationKeyOf(1n), 'UnknownModel')
    expect((await d.market.getModel(1n)).owner).toBe('0x0000000000000000000000000000000000000000')
  })
})

describe('timeout refunds', () => {
  it('after the deadline the buyer gets the price back: not before, not twice, not by anyone else', async () => {
    const d = await fixture.deploy()
    const { modelId } = await fixture.list(d, statement.setups[0])
    const { requestId } = await fixture.request(d, modelId, proofA.inputCommitment)
    const { deadline } = await d.market.getRequest(requestId)

    await expectMarketRevert(d.as(d.buyer).refund(requestId), 'NotExpired', [deadline])
    await chain.setNextTimestamp(deadline)
    await expectMarketRevert(d.as(d.buyer).refund(requestId), 'NotExpired', [deadline])
    // A second later: anvil keeps the set timestamp for the next block, so every call below sees deadline + 1.
    await chain.setNextTimestamp(deadline + 1n)
    for (const wallet of [d.owner, d.otherBuyer, d.stranger]) await expectMarketRevert(d.as(wallet).refund(requestId), 'NotBuyer')

    const refunded = await expectBalanceDelta(chain, d.buyer, PRICE, () => mined(d.as(d.buyer).refund(requestId)))
    expect(marketEventsOf(d, refunded)).toEqual([{ name: 'InferenceRefunded', args: { requestId, buyer: d.buyer.address, amount: PRICE } }])
    expect((await d.market.getRequest(requestId)).status).toBe(RequestStatus.Refunded)
    await expectMarketRevert(d.as(d.buyer).refund(requestId), 'WrongStatus', [RequestStatus.Refunded])
    await expectMarketRevert(d.as(d.owner).fulfil(requestId, proofA.output, proofA.words), 'WrongStatus', [RequestStatus.Refunded])
    await expectMarketRevert(d.as(d.buyer).refund(99n), 'UnknownRequest')
  })

  it('a fulfilled request is never refunded', async () => {
    const d = await fixture.deploy()
    const { modelId } = await fixture.list(d, statement.setups[0])
    const { requestId } = await fixture.request(d, modelId, proofA.inputCommitment)
    await mined(d.as(d.owner).fulfil(requestId, proofA.output, proofA.words))
    await chain.increaseTime(REQUEST_TIMEOUT + 1n)
    await expectMarketRevert(d.as(d.buyer).refund(requestId), 'WrongStatus', [RequestStatus.Fulfilled])
  })
})

describe('proof anchoring', () => {
  it('anchors 64 inferences in one transaction; isAnchored holds for each and fails for a tampered leaf', async () => {
    const d = await fixture.deploy()
    const { modelId } = await fixture.list(d, statement.setups[0])
    const leaves = Array.from({ length: 64 }, (_, i) => ({
      modelId,
      inputCommitment: commitInput(BigInt(i), 777n),
      output: BigInt(i * i),
      proofHash: i === 0 ? proofA.proofHash : id(`proof ${i}`),
    }))
    const tree = buildProofAnchorTree(leaves)
    const receipt = await mined(d.as(d.owner).anchorProofs(modelId, tree.root, tree.count))
    const anchorId = await d.market.anchorCount()
    expect(marketEventsOf(d, receipt)).toEqual([{ name: 'ProofsAnchored', args: { anchorId, modelId, root: tree.root, count: 64n } }])
    const anchor = await d.market.getAnchor(anchorId)
    expect([anchor.modelId, anchor.root, anchor.count]).toEqual([modelId, tree.root, 64n])

    for (const [i, leaf] of leaves.entries()) {
      expect(await d.market.isAnchored(anchorId, modelId, leaf.inputCommitment, leaf.output, leaf.proofHash, tree.proofs[i]!)).toBe(true)
    }
    const leaf = leaves[5]!
    const proof = tree.proofs[5]!
    const anchored = (overrides: Partial<typeof leaf>, p = proof, anchor = anchorId) => {
      const l = { ...leaf, ...overrides }
      return d.market.isAnchored(anchor, l.modelId, l.inputCommitment, l.output, l.proofHash, p)
    }
    expect(await anchored({ output: leaf.output + 1n })).toBe(false)
    expect(await anchored({ inputCommitment: leaf.inputCommitment + 1n })).toBe(false)
    expect(await anchored({ proofHash: id('forged') })).toBe(false)
    expect(await anchored({ modelId: modelId + 1n })).toBe(false)
    expect(await anchored({}, tree.proofs[6]!)).toBe(false)
    expect(await anchored({}, proof.slice(1))).toBe(false)
    expect(await anchored({}, proof, anchorId + 1n)).toBe(false)
  })

  it("only the model's owner anchors, and never an empty batch", async () => {
    const d = await fixture.deploy()
    const { modelId } = await fixture.list(d, statement.setups[0])
    const root = id('root')
    await expectMarketRevert(d.as(d.stranger).anchorProofs(modelId, root, 1), 'NotModelOwner')
    await expectMarketRevert(d.as(d.owner).anchorProofs(modelId + 1n, root, 1), 'UnknownModel')
    await expectMarketRevert(d.as(d.owner).anchorProofs(modelId, ZeroHash, 1), 'EmptyAnchor')
    await expectMarketRevert(d.as(d.owner).anchorProofs(modelId, root, 0), 'EmptyAnchor')
  })
})
