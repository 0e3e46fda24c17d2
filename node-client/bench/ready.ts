import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startJsonProcess } from '../../sample_job/src/local-processes.ts'
import { buildWebApp, webAppAbsence } from '../src/network/web-app.ts'

/**
 * `npm run bench:web`'s start-up part (its "startup" key) — prints one JSON object:
 *  - webBuild: how long `next build` takes (npm start runs it when web/ changed since the last
 *    build; here it runs first, so that the starts below measure starting alone);
 *  - cold: `npm start` with the default services (database, gateway, chain, coordinator, two
 *    workers, web, visualizer) in a fresh home: migrations applied, contract deployed, workers
 *    bonded; wall time from launching `npm start` to its ready line, and each service's time;
 *  - warm: `npm start` again on the same home (database reopened, contract and bonds reused);
 *  - stopMs: from Ctrl-C (SIGINT to npm's process group, as a terminal sends it) to its exit;
 *  - firstStart: what a person waits for after `npm install` (build + cold start, an upper
 *    bound: the launcher builds while the database and the workers start), against the 90 s target.
 * Free ports everywhere (--port 0 …), so it runs beside a running `npm start`.
 * Options: --no-build (use web/'s current build; webBuild is then null).
 */
const { values } = parseArgs({ options: { 'no-build': { type: 'boolean', default: false } } })
const TARGET_MS = 90_000

interface StartTiming {
  wallMs: number
  readyMs: number
  stopMs: number
  exitCode: number | null
  services: Record<string, { state: string; readyMs: number | null; notes: string }>
}

async function timeStart(home: string): Promise<StartTiming> {
  const args = ['start', '--', '--home', home, '--port', '0', '--chain-port', '0', '--web-port', '0', '--visualizer-port', '0', '--json']
  const started = performance.now()
  const npm = startJsonProcess('npm start', 'npm', args, { captureStderr: true, ownProcessGroup: true })
  const ready = await npm.waitFor((line) => line.type === 'ready', 600_000)
  const wallMs = performance.now() - started
  const stopping = performance.now()
  npm.signal('SIGINT')
  const exitCode = await npm.exited
  const stopMs = performance.now() - stopping
  const services = Object.fromEntries(
    (ready.services as { name: string; state: string; readyMs: number | null; notes: string }[]).map((s) => [s.name, { state: s.state, readyMs: s.readyMs, notes: s.notes }]),
  )
  return { wallMs: Math.round(wallMs), readyMs: Number(ready.readyMs), stopMs: Math.round(stopMs), exitCode, services }
}

async function timeWebBuild(): Promise<{ ms: number; exitCode: number | null } | { skipped: string }> {
  if (values['no-build']) return { skipped: '--no-build' }
  const absent = await webAppAbsence()
  if (absent) return { skipped: absent }
  const started = performance.now()
  const build = buildWebApp({ captureStderr: true, ownProcessGroup: true })
  const exitCode = await build.exited
  if (exitCode !== 0) throw new Error(`npm run build -w web exited ${exitCode}: ${build.stderr().slice(-2000)}`)
  return { ms: Math.round(performance.now() - started), exitCode }
}

async function main() {
  const webBuild = await timeWebBuild()
  const home = await mkdtemp(path.join(os.tmpdir(), 'oblivion-bench-ready-'))
  try {
    const cold = await timeStart(home)
    const warm = await timeStart(home)
    const buildMs = 'ms' in webBuild ? webBuild.ms : 0
    const result = {
      machine: { cpus: os.availableParallelism(), memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.versions.node },
      webBuild,
      cold,
      warm,
      firstStart: { ms: buildMs + cold.wallMs, targetMs: TARGET_MS, met: buildMs + cold.wallMs <= TARGET_MS },
    }
    console.log(JSON.stringify(result))
  } finally {
    await rm(home, { recursive: true, force: true })
  }
}

main().catch((error: Error) => {
  console.error(`bench ready failed: ${error.message}`)
  process.exit(1)
})
