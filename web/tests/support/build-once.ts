import { spawnSync } from 'node:child_process'
import path from 'node:path'

/**
 * vitest globalSetup of the browser tests: `next build` once for the run (about 15 s on 2 cores;
 * it also type-checks the app), so every test serves the same, current build.
 */
export default function buildWebOnce(): void {
  const web = path.resolve(import.meta.dirname, '../..')
  const result = spawnSync('npm', ['run', 'build'], { cwd: web, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } })
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status}): see its output above`)
}
