import { commonLength } from './coordinate-columns.ts'

/**
 * FedAvg (McMahan et al. 2017): the average of the clients' parameters weighted by how many
 * samples each trained on, Σ n_k·w_k / Σ n_k. Accumulates in float64: summing a few dozen
 * float32 models in float32 would lose ~1e-6 relative per coordinate for nothing.
 */
export function weightedFedAvg(updates: readonly Float32Array[], sampleCounts: readonly number[]): Float32Array {
  if (updates.length === 0) throw new RangeError('weightedFedAvg needs at least one update')
  if (updates.length !== sampleCounts.length) {
    throw new RangeError(`got ${updates.length} updates but ${sampleCounts.length} sample counts`)
  }
  const length = commonLength(updates)
  let total = 0
  for (const [k, count] of sampleCounts.entries()) {
    if (!(count > 0 && Number.isFinite(count))) throw new RangeError(`sample count ${k} must be > 0, got ${count}`)
    total += count
  }
  const sum = new Float64Array(length)
  for (const [k, update] of updates.entries()) {
    const weight = sampleCounts[k]! / total
    for (let i = 0; i < length; i++) sum[i]! += weight * update[i]!
  }
  return Float32Array.from(sum)
}
