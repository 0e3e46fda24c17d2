export { startCoordinator, type CoordinatorOptions } from './coordinator-loop.ts'
export type { CoordinatorEvent, CoordinatorHandle } from './coordinator-events.ts'
export type { CoordinatorChain } from './chain/coordinator-chain.ts'
