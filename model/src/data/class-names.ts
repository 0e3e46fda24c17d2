/**
 * Class indices follow the sorted class names, so that every worker, the coordinator and the
 * exported model agree on which output is which class whatever order the rows come in. Sorting
 * compares UTF-16 code units (not localeCompare, whose order depends on the runtime's locale).
 */
export interface ClassIndexer {
  /** The provisional index of `name`, in order of first appearance. */
  indexOf(name: string): number
  readonly size: number
  /** The sorted class names, and `provisional` relabelled to match them. */
  sorted(provisional: Int32Array): { classNames: string[]; labels: Int32Array }
}

export function classIndexer(): ClassIndexer {
  const indices = new Map<string, number>()
  return {
    indexOf(name) {
      let index = indices.get(name)
      if (index === undefined) {
        index = indices.size
        indices.set(name, index)
      }
      return index
    },
    get size() {
      return indices.size
    },
    sorted(provisional) {
      const classNames = [...indices.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      const remap = new Int32Array(indices.size)
      classNames.forEach((name, index) => {
        remap[indices.get(name)!] = index
      })
      const labels = provisional.map((label) => remap[label]!)
      return { classNames, labels }
    },
  }
}
