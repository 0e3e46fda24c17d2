// The tree `anchorProofs` commits to: identical to OpenZeppelin's StandardMerkleTree over
// (uint256, uint256, uint256, bytes32), whatever the order of the inferences.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { hexlify, randomBytes } from 'ethers'
import { describe, expect, it } from 'vitest'
import { ProofAnchorTreeError, buildProofAnchorTree, verifyProofAnchor, type AnchoredInference } from '../src/market/proof-anchor-tree.ts'

function randomInferences(n: number): AnchoredInference[] {
  return Array.from({ length: n }, (_, i) => ({
    modelId: BigInt(1 + (i % 3)),
    inputCommitment: BigInt(hexlify(randomBytes(31))),
    output: BigInt(i % 10),
    proofHash: hexlify(randomBytes(32)),
  }))
}

describe('buildProofAnchorTree', () => {
  it.each([1, 2, 3, 7, 64, 100])("matches StandardMerkleTree.of(…, ['uint256', 'uint256', 'uint256', 'bytes32']) for %i inferences", (n) => {
    const leaves = randomInferences(n)
    const ours = buildProofAnchorTree(leaves)
    const oz = StandardMerkleTree.of(
      leaves.map((l) => [l.modelId, l.inputCommitment, l.output, l.proofHash]),
      ['uint256', 'uint256', 'uint256', 'bytes32'],
    )
    expect(ours.root).toBe(oz.root)
    expect(ours.count).toBe(n)
    for (const [i, leaf] of leaves.entries()) {
      expect(ours.proofs[i]).toEqual(oz.getProof([leaf.modelId, leaf.inputCommitment, leaf.output, leaf.proofHash]))
      expect(verifyProofAnchor(ours.root, leaf, ours.proofs[i]!)).toBe(true)
      expect(verifyProofAnchor(ours.root, { ...leaf, output: leaf.output + 1n }, ours.proofs[i]!)).toBe(false)
    }
  })

  it('does not depend on the order of the inferences', () => {
    const leaves = randomInferences(20)
    expect(buildProofAnchorTree([...leaves].reverse()).root).toBe(buildProofAnchorTree(leaves).root)
  })

  it('refuses an empty batch, the same inference twice, and values that are not uint256/bytes32', () => {
    const [leaf] = randomInferences(1) as [AnchoredInference]
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (error) {
        return (error as ProofAnchorTreeError).code
      }
      return 'no error'
    }
    expect(code(() => buildProofAnchorTree([]))).toBe('ANCHOR_EMPTY')
    expect(code(() => buildProofAnchorTree([leaf, { ...leaf }]))).toBe('ANCHOR_DUPLICATE')
    expect(code(() => buildProofAnchorTree([{ ...leaf, output: -1n }]))).toBe('ANCHOR_BAD_LEAF')
    expect(code(() => buildProofAnchorTree([{ ...leaf, proofHash: '0x1234' }]))).toBe('ANCHOR_BAD_LEAF')
  })
})
