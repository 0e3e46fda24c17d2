// npm run build -w contracts: compiles src/OblivionSettlement.sol with solc-js and writes the two
// committed generated files, artifacts/OblivionSettlement.json and bindings/OblivionSettlement.ts.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { CompileError } from '../src/build/compile.ts'
import { SETTLEMENT_ARTIFACT_FILE, SETTLEMENT_BINDINGS_FILE, buildSettlement } from '../src/build/settlement-build.ts'

try {
  const started = performance.now()
  const build = buildSettlement()
  for (const warning of build.warnings) console.warn(warning)
  for (const [file, contents] of [
    [SETTLEMENT_ARTIFACT_FILE, build.artifactJson],
    [SETTLEMENT_BINDINGS_FILE, build.bindingsTs],
  ] as const) {
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, contents)
    console.log(`wrote ${path.relative(process.cwd(), file)}`)
  }
  console.log(`compiled in ${Math.round(performance.now() - started)} ms`)
} catch (error) {
  if (!(error instanceof CompileError)) throw error
  console.error(error.message)
  process.exitCode = 1
}
