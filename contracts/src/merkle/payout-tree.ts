import { AbiCoder, ZeroHash, concat, getAddress, isAddress, keccak256 } from 'ethers'

/**
 * The payout tree a settlement commits to: an OpenZeppelin StandardMerkleTree over (address, uint256)
 * leaves, built exactly like `StandardMerkleTree.of(payouts, ['address', 'uint256'])` from
 * @openzeppelin/merkle-tree (same leaves order, same layout, same root; a test checks), and verified
 * on chain by `OblivionSettlement.claimPayout` with OpenZeppelin's MerkleProof.
 *
 * - leaf = keccak256(keccak256(abi.encode(address, amount))): hashing twice means no leaf can pass
 *   for an inner node (64 bytes) of the tree;
 * - inner node = keccak256 of its two children in ascending order (sorted pairs), so proofs carry no
 *   left/right flags;
 * - leaves are sorted by hash, so the root depends on the set of payouts, not on their order.
 *
 * Payouts to the same address (compared case-insensitively) are merged into one leaf with the sum:
 * the contract pays each (job, worker) once, so a second leaf for an address could never be claimed.
 * Amounts must be positive (the contract refuses zero claims); an empty list gives the zero root,
 * which `settle` accepts with totalPayout 0.
 */

export interface Payout {
  address: string
  amountWei: bigint
}

export interface PayoutTree {
  /** The root to pass to `settle`; ZeroHash when there are no payouts. */
  root: string
  /** Sum of all amounts: `settle`'s totalPayout. */
  total: bigint
  /** Number of leaves (distinct addresses): `settle`'s payoutCount. */
  count: number
  /** Proof per checksummed address, for `claimPayout`. */
  proofs: Map<string, string[]>
  /** Amount per checksummed address after merging duplicates, for `claimPayout`. */
  amounts: Map<string, bigint>
}

export class PayoutTreeError extends Error {
  override name = 'PayoutTreeError'
  constructor(
    readonly code: 'PAYOUT_BAD_ADDRESS' | 'PAYOUT_BAD_AMOUNT',
    message: string,
  ) {
    super(message)
  }
}

const abi = AbiCoder.defaultAbiCoder()

/** The leaf `claimPayout` computes for `msg.sender == address` and `amount`. */
export function payoutLeaf(address: string, amountWei: bigint): string {
  return keccak256(keccak256(abi.encode(['address', 'uint256'], [address, amountWei])))
}

/**
 * Hash of two nodes in ascending order, as OpenZeppelin's `Hashes.commutativeKeccak256`. Nodes are
 * lower-case 0x-prefixed 32-byte hex (what keccak256 returns), so string order is numeric order.
 */
function hashPair(a: string, b: string): string {
  return a < b ? keccak256(concat([a, b])) : keccak256(concat([b, a]))
}

export function buildPayoutTree(payouts: readonly Payout[]): PayoutTree {
  const amounts = new Map<string, bigint>()
  for (const [i, payout] of payouts.entries()) {
    if (!isAddress(payout.address)) {
      throw new PayoutTreeError('PAYOUT_BAD_ADDRESS', `payout ${i}: ${JSON.stringify(payout.address)} is not an address`)
    }
    if (typeof payout.amountWei !== 'bigint' || payout.amountWei <= 0n) {
      throw new PayoutTreeError(
        'PAYOUT_BAD_AMOUNT',
        `payout ${i} to ${payout.address}: amountWei must be a positive bigint, got ${String(payout.amountWei)} (leave out workers owed nothing)`,
      )
    }
    const address = getAddress(payout.address.toLowerCase())
    amounts.set(address, (amounts.get(address) ?? 0n) + payout.amountWei)
  }

  const leaves = [...amounts].map(([address, amount]) => ({ address, hash: payoutLeaf(address, amount) }))
  leaves.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
  const total = [...amounts.values()].reduce((sum, amount) => sum + amount, 0n)
  if (leaves.length === 0) return { root: ZeroHash, total, count: 0, proofs: new Map(), amounts }

  // StandardMerkleTree's layout: a complete binary tree in an array, root at 0, children of i at
  // 2i+1 and 2i+2, the sorted leaves in the last n cells in reverse order.
  const tree = new Array<string>(2 * leaves.length - 1)
  for (const [i, leaf] of leaves.entries()) tree[tree.length - 1 - i] = leaf.hash
  for (let i = tree.length - 1 - leaves.length; i >= 0; i--) tree[i] = hashPair(tree[2 * i + 1]!, tree[2 * i + 2]!)

  const proofs = new Map<string, string[]>()
  for (const [i, leaf] of leaves.entries()) {
    const proof: string[] = []
    for (let index = tree.length - 1 - i; index > 0; index = Math.floor((index - 1) / 2)) {
      proof.push(tree[index % 2 === 1 ? index + 1 : index - 1]!)
    }
    proofs.set(leaf.address, proof)
  }
  return { root: tree[0]!, total, count: leaves.length, proofs, amounts }
}

/** Checks a proof the way the contract does, e.g. before a worker spends gas on a claim. */
export function verifyPayoutProof(root: string, address: string, amountWei: bigint, proof: readonly string[]): boolean {
  let hash = payoutLeaf(address, amountWei)
  for (const sibling of proof) hash = hashPair(hash, sibling.toLowerCase())
  return hash === root.toLowerCase()
}
