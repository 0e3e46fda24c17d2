// @oblivion/contracts/browser: what a web page needs of the contracts package (the typed
// bindings, the payout tree, on-chain job ids), without the Node-only parts of the index (anvil,
// deployment, chain.json).
export * from '../bindings/OblivionSettlement.ts'
export { buildPayoutTree, payoutLeaf, verifyPayoutProof, PayoutTreeError, type Payout, type PayoutTree } from './merkle/payout-tree.ts'
export { jobIdFromUuid, uuidFromJobId } from './job-id.ts'
// Verified inference: the market's bindings, Groth16 key/proof encodings and proof-anchor tree.
export * from '../bindings/InferenceMarket.ts'
export * from './groth16/encoding.ts'
export {
  buildProofAnchorTree,
  proofAnchorLeaf,
  verifyProofAnchor,
  ProofAnchorTreeError,
  type AnchoredInference,
  type ProofAnchorTree,
} from './market/proof-anchor-tree.ts'
