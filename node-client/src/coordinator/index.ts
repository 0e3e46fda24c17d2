export { startCoordinator, type CoordinatorOptions } from './coordinator-loop.ts'
export type { CoordinatorEvent, CoordinatorHandle } from './coordinator-events.ts'
