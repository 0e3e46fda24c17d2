// Copies TF.js's WebAssembly binaries into public/tfjs-wasm/, where the browser worker's
// setWasmPaths('/tfjs-wasm/') finds them. Run before `next build` and `next dev` (package.json
// prebuild/predev). The copies are build outputs: .gitignore keeps them out of git.
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const target = path.join(webRoot, 'public', 'tfjs-wasm')

// The package's `exports` hides dist/: resolve its main file and walk up to the package root.
let root = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))
while (path.basename(root) !== 'tfjs-backend-wasm' && root !== path.dirname(root)) root = path.dirname(root)
const dist = path.join(root, 'dist')

const files = (await readdir(dist)).filter((name) => name.endsWith('.wasm'))
if (files.length === 0) {
  console.error(`copy-tfjs-wasm: no .wasm file in ${dist}; reinstall with \`npm install\``)
  process.exit(1)
}
await mkdir(target, { recursive: true })
for (const name of files) {
  const from = path.join(dist, name)
  const to = path.join(target, name)
  const [a, b] = await Promise.all([stat(from), stat(to).catch(() => null)])
  if (b && b.size === a.size && b.mtimeMs >= a.mtimeMs) continue
  await copyFile(from, to)
}
console.log(`copy-tfjs-wasm: ${files.join(', ')} → public/tfjs-wasm/`)
