import { commonLength, gatherColumn, selectInPlace } from './coordinate-columns.ts'

/**
 * Coordinate-wise median (Yin et al. 2018; Flower's FedMedian), unweighted: each parameter is
 * the median of the clients' values, the mean of the two middle ones for an even count, as
 * numpy.median. One client may send anything without moving a coordinate past its neighbours.
 */
export function coordinateMedian(updates: readonly Float32Array[]): Float32Array {
  const count = updates.length
  if (count === 0) throw new RangeError('coordinateMedian needs at least one update')
  const length = commonLength(updates)
  const out = new Float32Array(length)
  const column = new Float64Array(count)
  const middle = count >> 1
  for (let i = 0; i < length; i++) {
    gatherColumn(updates, i, column)
    selectInPlace(column, middle, 0, count)
    if (count % 2 === 1) {
      out[i] = column[middle]!
      continue
    }
    // Everything before `middle` is ≤ column[middle]: the largest of them is the lower middle.
    let lower = column[0]!
    for (let k = 1; k < middle; k++) if (column[k]! > lower) lower = column[k]!
    out[i] = (lower + column[middle]!) / 2
  }
  return out
}
