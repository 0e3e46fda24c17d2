import { noiseMultiplierForEpsilon } from '../dp/noise-calibration.ts'
import { epsilonForSteps } from '../dp/rdp-accountant.ts'
import type { JobSpec } from '../spec/job-spec.ts'

/** Steps in one local epoch: ceil(examples / batchSize) (with DP, Poisson batches of expected size batchSize). */
export function stepsPerEpoch(examples: number, batchSize: number): number {
  return Math.max(1, Math.ceil(examples / batchSize))
}

/**
 * What DP-SGD costs a job, decided before round 1 from the spec and the shard sizes, so that
 * the coordinator and every worker derive the same σ.
 *
 * Accounting: shards are disjoint and each shard is trained by one task per round, so each
 * shard's examples pass through rounds × localEpochs × ceil(n_s / B) Poisson-sampled steps at
 * rate q_s = B / n_s. The RDP of those steps composes (adds up) across rounds; the model's ε is
 * the MAX over shards (parallel composition over disjoint data), reported at the spec's δ with
 * the tight RDP→(ε, δ) conversion of Balle et al. 2020 (Opacus' default; the classic one that
 * TF Privacy's tutorials print is always larger).
 */
export interface PrivacyPlan {
  noiseMultiplier: number
  clipNorm: number
  delta: number
  /** σ was derived from spec.privacy.targetEpsilon (true) or given (false). */
  derived: boolean
}

export function planPrivacy(spec: JobSpec, shardSizes: readonly number[]): PrivacyPlan | null {
  const privacy = spec.privacy
  if (!privacy) return null
  if (privacy.noiseMultiplier !== undefined) {
    return { noiseMultiplier: privacy.noiseMultiplier, clipNorm: privacy.clipNorm, delta: privacy.delta, derived: false }
  }
  // The shard needing the most noise sets σ for all: with a target ε every shard must stay under it.
  let sigma = 0
  for (const size of new Set(shardSizes)) {
    const needed = noiseMultiplierForEpsilon({
      targetEpsilon: privacy.targetEpsilon!,
      sampleRate: Math.min(1, spec.training.batchSize / size),
      steps: spec.training.rounds * spec.training.localEpochs * stepsPerEpoch(size, spec.training.batchSize),
      delta: privacy.delta,
    })
    sigma = Math.max(sigma, needed)
  }
  return { noiseMultiplier: sigma, clipNorm: privacy.clipNorm, delta: privacy.delta, derived: true }
}

/** ε spent by one shard of `shardSize` examples after `rounds` rounds of local training. */
export function shardEpsilon(plan: PrivacyPlan, spec: JobSpec, shardSize: number, rounds: number): number {
  if (rounds <= 0) return 0
  return epsilonForSteps({
    sampleRate: Math.min(1, spec.training.batchSize / shardSize),
    noiseMultiplier: plan.noiseMultiplier,
    steps: rounds * spec.training.localEpochs * stepsPerEpoch(shardSize, spec.training.batchSize),
    delta: plan.delta,
  }).epsilon
}

/** The model's ε after `rounds` rounds: the max over its (disjoint) shards. */
export function modelEpsilon(plan: PrivacyPlan, spec: JobSpec, shardSizes: readonly number[], rounds: number): number {
  let epsilon = 0
  for (const size of new Set(shardSizes)) epsilon = Math.max(epsilon, shardEpsilon(plan, spec, size, rounds))
  return epsilon
}
