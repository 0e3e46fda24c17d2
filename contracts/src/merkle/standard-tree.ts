import { concat, keccak256 } from 'ethers'

/**
 * OpenZeppelin StandardMerkleTree's layout over already-hashed leaves, shared by the payout tree
 * and the proof-anchor tree (each checks itself against @openzeppelin/merkle-tree in a test):
 * - inner node = keccak256 of its two children in ascending order (sorted pairs), so proofs carry
 *   no left/right flags and OpenZeppelin's MerkleProof verifies them;
 * - leaves are sorted by hash, so the root depends on the set of leaves, not on their order;
 * - a complete binary tree in an array, root at 0, children of i at 2i+1 and 2i+2, the sorted
 *   leaves in the last n cells in reverse order.
 * Browser-safe (ethers only), so a page can build proofs without the library.
 */

export interface SortedTree {
  root: string
  /** The leaf hashes in tree order (sorted ascending). */
  leaves: string[]
  /** Proof of `leaves[i]`, siblings from the leaf up. */
  proofs: string[][]
}

/**
 * Hash of two nodes in ascending order, as OpenZeppelin's `Hashes.commutativeKeccak256`. Nodes are
 * lower-case 0x-prefixed 32-byte hex (what keccak256 returns), so string order is numeric order.
 */
export function hashPair(a: string, b: string): string {
  return a < b ? keccak256(concat([a, b])) : keccak256(concat([b, a]))
}

/** At least one leaf; each a lower-case 0x-prefixed 32-byte hash. */
export function buildSortedTree(leafHashes: readonly string[]): SortedTree {
  if (leafHashes.length === 0) throw new Error('buildSortedTree: a tree needs at least one leaf')
  const leaves = [...leafHashes].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const tree = new Array<string>(2 * leaves.length - 1)
  for (const [i, leaf] of leaves.entries()) tree[tree.length - 1 - i] = leaf
  for (let i = tree.length - 1 - leaves.length; i >= 0; i--) tree[i] = hashPair(tree[2 * i + 1]!, tree[2 * i + 2]!)
  const proofs = leaves.map((_, i) => {
    const proof: string[] = []
    for (let index = tree.length - 1 - i; index > 0; index = Math.floor((index - 1) / 2)) {
      proof.push(tree[index % 2 === 1 ? index + 1 : index - 1]!)
    }
    return proof
  })
  return { root: tree[0]!, leaves, proofs }
}

/** Checks a proof the way OpenZeppelin's MerkleProof.verify does. */
export function verifySortedProof(root: string, leafHash: string, proof: readonly string[]): boolean {
  let hash = leafHash.toLowerCase()
  for (const sibling of proof) hash = hashPair(hash, sibling.toLowerCase())
  return hash === root.toLowerCase()
}
