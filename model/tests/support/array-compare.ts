/** Index of the largest value in each row of a flat [rows, width] array: predicted classes. */
export function argmaxRows(values: ArrayLike<number>, width: number): number[] {
  const rows: number[] = []
  for (let r = 0; r * width < values.length; r++) {
    let best = 0
    for (let c = 1; c < width; c++) if (values[r * width + c]! > values[r * width + best]!) best = c
    rows.push(best)
  }
  return rows
}

/** max |a[i] − b[i]|; the arrays must have the same length. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`comparing ${a.length} values with ${b.length}`)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}
