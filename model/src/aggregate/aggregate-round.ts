import type { MlpWeights } from '../nn/mlp-weights.ts'
import { coordinateMedian } from './coordinate-median.ts'
import { flattenWeights, weightsFromFlat } from './flat-parameters.ts'
import { trimmedMean } from './trimmed-mean.ts'
import { architectureMismatch, validateUpdate } from './update-validation.ts'
import { weightedFedAvg } from './weighted-fedavg.ts'

export type AggregationStrategy = 'fedavg' | 'median' | 'trimmed_mean'

/** The job spec's `aggregation` block. */
export interface AggregationOptions {
  strategy: AggregationStrategy
  /** trimmed_mean only: the fraction cut from each side, in [0, 0.5). */
  trimFraction?: number | undefined
  /** Updates whose L2 distance from the global weights exceeds this are rejected, not clipped. */
  updateNormBound?: number | undefined
}

/** One worker's result for the round. */
export interface WorkerUpdate {
  weights: MlpWeights
  /** Examples it trained on: FedAvg's weight. */
  sampleCount: number
  /** Who sent it (a task or worker id): named in `accepted` / `rejected`. */
  label: string
}

export interface RoundAggregate {
  weights: MlpWeights
  accepted: string[]
  rejected: { label: string; reason: string }[]
}

export type AggregationErrorCode = 'no_valid_updates' | 'invalid_options' | 'invalid_global_weights'

export class AggregationError extends Error {
  constructor(
    readonly code: AggregationErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'AggregationError'
  }
}

/**
 * One round's server step: validate every update against the global weights (architecture,
 * finite values, the norm bound), set the rejected ones aside with a reason, and combine the rest
 * with the chosen strategy. Throws AggregationError (no_valid_updates) when nothing is left; the
 * caller then keeps the global weights and the round's tasks can be retried.
 */
export function aggregateUpdates(global: MlpWeights, updates: readonly WorkerUpdate[], options: AggregationOptions): RoundAggregate {
  checkOptions(options)
  const globalProblem = architectureMismatch(global, global)
  if (globalProblem) {
    throw new AggregationError('invalid_global_weights', `The global weights are inconsistent (${globalProblem}); reload them from the last good round.`)
  }

  const accepted: string[] = []
  const rejected: { label: string; reason: string }[] = []
  const flats: Float32Array[] = []
  const sampleCounts: number[] = []
  const seen = new Set<string>()
  for (const update of updates) {
    const reason = rejectionReason(global, update, options, seen)
    seen.add(update.label)
    if (reason) {
      rejected.push({ label: update.label, reason })
      continue
    }
    accepted.push(update.label)
    flats.push(flattenWeights(update.weights))
    sampleCounts.push(update.sampleCount)
  }

  if (flats.length === 0) {
    const listed = rejected.slice(0, 3).map((r) => `${r.label}: ${r.reason}`).join('; ')
    throw new AggregationError(
      'no_valid_updates',
      updates.length === 0
        ? 'No updates to aggregate this round. Wait for workers to submit results before aggregating.'
        : `All ${updates.length} updates were rejected (${listed}${rejected.length > 3 ? '; …' : ''}). ` +
          'The global weights are unchanged; check the workers that sent them, then retry the round.',
    )
  }

  const combined =
    options.strategy === 'fedavg' ? weightedFedAvg(flats, sampleCounts)
    : options.strategy === 'median' ? coordinateMedian(flats)
    : trimmedMean(flats, options.trimFraction!)
  return { weights: weightsFromFlat(global, combined), accepted, rejected }
}

function rejectionReason(global: MlpWeights, update: WorkerUpdate, options: AggregationOptions, seen: Set<string>): string | null {
  if (seen.has(update.label)) return `an earlier update in this round has the same label "${update.label}"; only the first one counts`
  if (!(Number.isSafeInteger(update.sampleCount) && update.sampleCount > 0)) {
    return `sampleCount must be a whole number > 0, got ${update.sampleCount}`
  }
  const check = validateUpdate(global, update.weights, { updateNormBound: options.updateNormBound })
  return check.ok ? null : check.reason
}

function checkOptions(options: AggregationOptions): void {
  const { strategy, trimFraction, updateNormBound } = options
  if (strategy !== 'fedavg' && strategy !== 'median' && strategy !== 'trimmed_mean') {
    throw new AggregationError('invalid_options', `Unknown aggregation strategy "${String(strategy)}"; use fedavg, median or trimmed_mean.`)
  }
  if (strategy === 'trimmed_mean' && !(trimFraction !== undefined && trimFraction >= 0 && trimFraction < 0.5)) {
    throw new AggregationError('invalid_options', `trimmed_mean needs a trimFraction in [0, 0.5), got ${trimFraction}; 0.1 cuts a tenth from each side.`)
  }
  if (updateNormBound !== undefined && !(updateNormBound > 0)) {
    throw new AggregationError('invalid_options', `updateNormBound must be > 0, got ${updateNormBound}; leave it out for no bound.`)
  }
}
