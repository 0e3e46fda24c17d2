import { commonLength, gatherColumn, selectInPlace } from './coordinate-columns.ts'

/**
 * Coordinate-wise trimmed mean (Yin et al. 2018), unweighted, as Flower's FedTrimmedAvg and
 * scipy.stats.trim_mean: per coordinate, drop the ⌊trimFraction·n⌋ smallest and as many largest
 * values and average the rest. With 10 updates and trimFraction 0.2, two from each side.
 */
export function trimmedMean(updates: readonly Float32Array[], trimFraction: number): Float32Array {
  const count = updates.length
  if (count === 0) throw new RangeError('trimmedMean needs at least one update')
  if (!(trimFraction >= 0 && trimFraction < 0.5)) {
    throw new RangeError(`trimFraction must be in [0, 0.5), got ${trimFraction}`)
  }
  const length = commonLength(updates)
  const cut = Math.floor(trimFraction * count)
  const last = count - cut - 1
  const out = new Float32Array(length)
  const column = new Float64Array(count)
  for (let i = 0; i < length; i++) {
    gatherColumn(updates, i, column)
    if (cut > 0) {
      // As numpy.partition(column, (cut, last)): the kept values end up in column[cut..last].
      selectInPlace(column, cut, 0, count)
      if (last > cut) selectInPlace(column, last, cut + 1, count)
    }
    let sum = 0
    for (let k = cut; k <= last; k++) sum += column[k]!
    out[i] = sum / (last - cut + 1)
  }
  return out
}
