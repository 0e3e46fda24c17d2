// The payout tree the coordinator settles with: identical to OpenZeppelin's StandardMerkleTree (the
// JS library the contract's leaf format comes from), order-independent, one leaf per address.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { Wallet, ZeroHash, concat, getAddress, hexlify, keccak256, randomBytes } from 'ethers'
import { describe, expect, it } from 'vitest'
import { jobIdFromUuid, uuidFromJobId } from '../src/job-id.ts'
import { PayoutTreeError, buildPayoutTree, payoutLeaf, verifyPayoutProof, type Payout } from '../src/merkle/payout-tree.ts'

function randomPayouts(n: number): Payout[] {
  return Array.from({ length: n }, (_, i) => ({ address: getAddress(hexlify(randomBytes(20))), amountWei: 10n ** 15n * BigInt(i + 1) + 7n }))
}

/** The contract's `_leafPosition`, replicated: bit i = the running hash was the larger at level i; a 1 marks the length. */
function leafPosition(leaf: string, proof: string[]): bigint {
  let computed = leaf
  let position = 0n
  for (const [i, sibling] of proof.entries()) {
    if (BigInt(computed) < BigInt(sibling)) {
      computed = keccak256(concat([computed, sibling]))
    } else {
      position |= 1n << BigInt(i)
      computed = keccak256(concat([sibling, computed]))
    }
  }
  return position | (1n << BigInt(proof.length))
}

describe('buildPayoutTree', () => {
  it.each([1, 2, 3, 5, 8, 13, 64, 100])('matches StandardMerkleTree.of(…, [address, uint256]) for %i payouts', (n) => {
    const payouts = randomPayouts(n)
    const ours = buildPayoutTree(payouts)
    const oz = StandardMerkleTree.of(
      payouts.map((p) => [p.address, p.amountWei]),
      ['address', 'uint256'],
    )
    expect(ours.root).toBe(oz.root)
    expect(ours.count).toBe(n)
    expect(ours.total).toBe(payouts.reduce((sum, p) => sum + p.amountWei, 0n))
    for (const p of payouts) {
      const proof = ours.proofs.get(p.address)!
      expect(proof).toEqual(oz.getProof([p.address, p.amountWei]))
      expect(verifyPayoutProof(ours.root, p.address, p.amountWei, proof)).toBe(true)
      expect(verifyPayoutProof(ours.root, p.address, p.amountWei + 1n, proof)).toBe(false)
    }
  })

  it('does not depend on the order of the payouts', () => {
    const payouts = randomPayouts(9)
    const shuffled = [...payouts].reverse()
    shuffled.push(shuffled.shift()!)
    const a = buildPayoutTree(payouts)
    const b = buildPayoutTree(shuffled)
    expect(b.root).toBe(a.root)
    expect([...b.proofs].sort()).toEqual([...a.proofs].sort())
  })

  it('merges payouts to one address (in any letter case) into one leaf with the sum', () => {
    const [a, b] = randomPayouts(2) as [Payout, Payout]
    const tree = buildPayoutTree([a, b, { address: a.address.toLowerCase(), amountWei: 5n }])
    expect(tree.count).toBe(2)
    expect(tree.amounts.get(a.address)).toBe(a.amountWei + 5n)
    expect(tree.total).toBe(a.amountWei + b.amountWei + 5n)
    expect(tree.root).toBe(buildPayoutTree([{ ...a, amountWei: a.amountWei + 5n }, b]).root)
  })

  it('keys proofs and amounts by checksummed address', () => {
    const wallet = Wallet.createRandom()
    const tree = buildPayoutTree([{ address: wallet.address.toLowerCase(), amountWei: 1n }])
    expect([...tree.proofs.keys()]).toEqual([wallet.address])
    // A single leaf is the root; its proof is empty.
    expect(tree.root).toBe(payoutLeaf(wallet.address, 1n))
    expect(tree.proofs.get(wallet.address)).toEqual([])
  })

  it('gives the zero root for no payouts (settle with totalPayout 0)', () => {
    expect(buildPayoutTree([])).toEqual({ root: ZeroHash, total: 0n, count: 0, proofs: new Map(), amounts: new Map() })
  })

  it('refuses amounts of zero or less and things that are not addresses, saying which payout', () => {
    const good = randomPayouts(1)[0]!
    expect(() => buildPayoutTree([good, { address: good.address, amountWei: 0n }])).toThrow(/payout 1 .*positive/)
    expect(() => buildPayoutTree([{ address: good.address, amountWei: -1n }])).toThrow(PayoutTreeError)
    expect(() => buildPayoutTree([{ address: '0x1234', amountWei: 1n }])).toThrow(/payout 0: "0x1234" is not an address/)
  })
})

describe('leaf positions (how the contract records claims)', () => {
  const sizes = [...Array.from({ length: 70 }, (_, i) => i + 1), 100, 127, 128, 129, 255, 256, 257, 300]
  it('are distinct for every leaf and stay under 4n, for trees of 1 to 70, 100, 127-129, 255-257 and 300 leaves', () => {
    for (const n of sizes) {
      const payouts = randomPayouts(n)
      const tree = buildPayoutTree(payouts)
      const positions = new Set<bigint>()
      for (const p of payouts) {
        const position = leafPosition(payoutLeaf(p.address, p.amountWei), tree.proofs.get(p.address)!)
        expect(position).toBeLessThan(4n * BigInt(n))
        positions.add(position)
      }
      expect(positions.size).toBe(n)
    }
  })
})

describe('job ids', () => {
  it('are the uuid right-aligned in 32 bytes, and back', () => {
    const uuid = '0b9c8f8e-4a4f-4c1e-9d7a-1f2e3d4c5b6a'
    const jobId = jobIdFromUuid(uuid.toUpperCase())
    expect(jobId).toBe(`0x${'0'.repeat(32)}0b9c8f8e4a4f4c1e9d7a1f2e3d4c5b6a`)
    expect(uuidFromJobId(jobId)).toBe(uuid)
    expect(() => jobIdFromUuid('not-a-uuid')).toThrow(/not a uuid/)
    expect(() => uuidFromJobId(`0x${'1'.repeat(64)}`)).toThrow(/not a job id/)
  })
})
