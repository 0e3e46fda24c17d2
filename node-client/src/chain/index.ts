// The node client's side of the settlement contract: mirroring its events, settling jobs, payouts.
export { readSettlementEvents, normalizeSettlementLog, MAX_LOG_RANGE, BOND_EVENTS, type SettlementEvent, type SettlementEventArg, type BondSnapshot } from './settlement-events.ts'
export { ChainWatcher, DEFAULT_REMOTE_CONFIRMATIONS, type ChainWatcherOptions, type ChainWatcherErrorInfo } from './chain-watcher.ts'
export { computePayouts, PayoutComputationError, type AcceptedWork, type ComputedPayout, type PayoutComputation, type PayoutComputationInput } from './payouts.ts'
export {
  settleJobOnChain,
  modelCidHash,
  metricsHash,
  SettleJobError,
  JOB_STATUS,
  type SettleJobParams,
  type SettleJobResult,
  type SettleJobErrorCode,
} from './settle-job.ts'
export { canonicalJson } from './canonical-json.ts'
export { specCid, specHash } from './spec-hash.ts'
export { findLatestLog } from './find-log.ts'
export { revertReason, type RevertReason } from './revert-reason.ts'
export { sendContractCall, ContractRevertError } from './contract-call.ts'
export {
  readWorkerSettlements,
  payoutOf,
  pendingBlockTime,
  type PayoutState,
  type WorkerPayout,
  type SettlementPayoutRow,
  type ChainRead,
} from './worker-payouts.ts'
