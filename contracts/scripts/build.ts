// npm run build -w contracts: compiles each contract of src/build/contract-build.ts's CONTRACT_TARGETS
// (OblivionSettlement, InferenceMarket) with solc-js and writes the committed generated files,
// artifacts/<Name>.json and bindings/<Name>.ts.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { CompileError } from '../src/build/compile.ts'
import { CONTRACT_TARGETS, buildContract } from '../src/build/contract-build.ts'

try {
  const started = performance.now()
  for (const target of CONTRACT_TARGETS) {
    const build = buildContract(target)
    for (const warning of build.warnings) console.warn(warning)
    for (const [file, contents] of [
      [target.artifactFile, build.artifactJson],
      [target.bindingsFile, build.bindingsTs],
    ] as const) {
      mkdirSync(path.dirname(file), { recursive: true })
      writeFileSync(file, contents)
      console.log(`wrote ${path.relative(process.cwd(), file)}`)
    }
  }
  console.log(`compiled in ${Math.round(performance.now() - started)} ms`)
} catch (error) {
  if (!(error instanceof CompileError)) throw error
  console.error(error.message)
  process.exitCode = 1
}
