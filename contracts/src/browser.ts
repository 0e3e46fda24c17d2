// @oblivion/contracts/browser: what a web page needs of the contracts package (the typed
// bindings, the payout tree, on-chain job ids), without the Node-only parts of the index (anvil,
// deployment, chain.json).
export * from '../bindings/OblivionSettlement.ts'
export { buildPayoutTree, payoutLeaf, verifyPayoutProof, PayoutTreeError, type Payout, type PayoutTree } from './merkle/payout-tree.ts'
export { jobIdFromUuid, uuidFromJobId } from './job-id.ts'
