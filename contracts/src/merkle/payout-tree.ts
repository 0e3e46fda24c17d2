import { AbiCoder, ZeroHash, getAddress, isAddress, keccak256 } from 'ethers'
import { buildSortedTree, verifySortedProof } from './standard-tree.ts'

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

  const total = [...amounts.values()].reduce((sum, amount) => sum + amount, 0n)
  if (amounts.size === 0) return { root: ZeroHash, total, count: 0, proofs: new Map(), amounts }
  const addressOfLeaf = new Map([...amounts].map(([address, amount]) => [payoutLeaf(address, amount), address]))
  const tree = buildSortedTree([...addressOfLeaf.keys()])
  const proofs = new Map(tree.leaves.map((leaf, i) => [addressOfLeaf.get(leaf)!, tree.proofs[i]!]))
  return { root: tree.root, total, count: tree.leaves.length, proofs, amounts }
}

/** Checks a proof the way the contract does, e.g. before a worker spends gas on a claim. */
export function verifyPayoutProof(root: string, address: string, amountWei: bigint, proof: readonly string[]): boolean {
  return verifySortedProof(root, payoutLeaf(address, amountWei), proof)
}
