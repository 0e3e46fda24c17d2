export { startWorker, type WorkerOptions } from './worker-loop.ts'
export type { ClaimedTask, TaskPhase, WorkerEvent, WorkerHandle } from './worker-events.ts'
export { ARTIFACTS_BUCKET, globalModelPath, modelFilePath, updatePath } from './artifact-paths.ts'
export { WORK_AVAILABLE_EVENT, WORK_CHANNEL, type WorkAvailablePayload } from './work-channel.ts'
export {
  COORDINATOR_PRESENCE_KEY,
  joinNetworkPresence,
  NETWORK_CHANGED_EVENT,
  NETWORK_CHANNEL,
  NETWORK_PRESENCE_CHANNEL,
  type NetworkChangedPayload,
  type NetworkPresence,
  type PresenceHandle,
} from './network-channel.ts'
export { callRpc, RpcError } from './rpc.ts'
