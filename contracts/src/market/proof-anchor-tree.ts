import { AbiCoder, keccak256 } from 'ethers'
import { buildSortedTree, verifySortedProof } from '../merkle/standard-tree.ts'

/**
 * The tree `InferenceMarket.anchorProofs` commits to: one leaf per inference whose Groth16 proof
 * was verified off chain, an OpenZeppelin StandardMerkleTree over
 * (uint256 modelId, uint256 inputCommitment, uint256 output, bytes32 proofHash), built exactly like
 * `StandardMerkleTree.of(leaves, ['uint256', 'uint256', 'uint256', 'bytes32'])` from
 * @openzeppelin/merkle-tree (a test checks), checked on chain by `isAnchored`.
 * leaf = keccak256(keccak256(abi.encode(modelId, inputCommitment, output, proofHash))).
 * Anchoring 64 inferences costs one transaction instead of 64 verifications (see the README).
 */

export interface AnchoredInference {
  modelId: bigint
  inputCommitment: bigint
  output: bigint
  /** proofHash(encodeProof(proof)) from src/groth16/encoding.ts. */
  proofHash: string
}

export interface ProofAnchorTree {
  /** `anchorProofs`' root. */
  root: string
  /** `anchorProofs`' count. */
  count: number
  /** The Merkle proof `isAnchored` takes for `leaves[i]` (same order as the input). */
  proofs: string[][]
}

export class ProofAnchorTreeError extends Error {
  override name = 'ProofAnchorTreeError'
  constructor(
    readonly code: 'ANCHOR_EMPTY' | 'ANCHOR_DUPLICATE' | 'ANCHOR_BAD_LEAF',
    message: string,
  ) {
    super(message)
  }
}

const abi = AbiCoder.defaultAbiCoder()

/** The leaf `isAnchored` computes. */
export function proofAnchorLeaf(leaf: AnchoredInference): string {
  return keccak256(
    keccak256(abi.encode(['uint256', 'uint256', 'uint256', 'bytes32'], [leaf.modelId, leaf.inputCommitment, leaf.output, leaf.proofHash])),
  )
}

export function buildProofAnchorTree(leaves: readonly AnchoredInference[]): ProofAnchorTree {
  if (leaves.length === 0) throw new ProofAnchorTreeError('ANCHOR_EMPTY', 'nothing to anchor: anchorProofs refuses an empty batch')
  if (leaves.length > 0xffffffff) throw new ProofAnchorTreeError('ANCHOR_BAD_LEAF', `${leaves.length} leaves do not fit anchorProofs' uint32 count`)
  const hashes = leaves.map((leaf, i) => {
    try {
      return proofAnchorLeaf(leaf)
    } catch (error) {
      throw new ProofAnchorTreeError('ANCHOR_BAD_LEAF', `leaf ${i}: ${(error as Error).message} (modelId, inputCommitment, output are uint256; proofHash bytes32)`)
    }
  })
  const firstIndex = new Map<string, number>()
  for (const [i, hash] of hashes.entries()) {
    const first = firstIndex.get(hash)
    if (first !== undefined) {
      throw new ProofAnchorTreeError('ANCHOR_DUPLICATE', `leaves ${first} and ${i} are the same inference: anchor each once`)
    }
    firstIndex.set(hash, i)
  }
  const tree = buildSortedTree(hashes)
  const proofOfHash = new Map(tree.leaves.map((hash, i) => [hash, tree.proofs[i]!]))
  return { root: tree.root, count: leaves.length, proofs: hashes.map((hash) => proofOfHash.get(hash)!) }
}

/** Checks a leaf's proof against a root the way `isAnchored` does (the anchor's model aside). */
export function verifyProofAnchor(root: string, leaf: AnchoredInference, proof: readonly string[]): boolean {
  return verifySortedProof(root, proofAnchorLeaf(leaf), proof)
}
