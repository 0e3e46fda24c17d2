/**
 * MNIST test images for the buy page: the `mnist` package's digits (28×28, pixels in [0, 1]) that
 * the built-in data sets are made of (model/src/data/builtin-datasets.ts). One class is loaded at
 * a time, as its own lazily loaded JSON chunk (~2 MB each; all ten would be 21 MB).
 * The specifier is a template for the same reason as the model package's: tsc would otherwise
 * parse the JSON to type it; the bundler still sees the `mnist/src/digits/*.json` pattern.
 */
const PIXELS = 28 * 28
const cache = new Map<number, Promise<Float32Array[]>>()

/** `count` digits of class `digit` (0–9), taken from the end of the class's file (any rows would do). */
export function loadTestDigits(digit: number, count = 8): Promise<Float32Array[]> {
  if (!Number.isInteger(digit) || digit < 0 || digit > 9) return Promise.reject(new RangeError(`MNIST has digits 0 to 9, not ${digit}`))
  let loading = cache.get(digit)
  if (!loading) {
    loading = (async () => {
      const module = (await import(`mnist/src/digits/${digit}.json`, { with: { type: 'json' } })) as { default: { data?: unknown } }
      const data = module.default.data
      if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new Error(`mnist/src/digits/${digit}.json is not {data: number[]} of 784 pixels per digit`)
      const rows = data.length / PIXELS
      return Array.from({ length: Math.min(count, rows) }, (_, k) => Float32Array.from(data.slice((rows - 1 - k) * PIXELS, (rows - k) * PIXELS) as number[]))
    })()
    cache.set(digit, loading)
    loading.catch(() => cache.delete(digit))
  }
  return loading
}
