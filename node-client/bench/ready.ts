import { spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT, startJsonProcess } from '../../sample_job/src/local-processes.ts'
import { buildWebApp, webAppAbsence, WEB_DIR } from '../src/network/web-app.ts'

/**
 * `npm run bench:web`'s start-up part (its "startup" key) — prints one JSON object:
 *  - webBuild: `next build` apart from the starts below (npm start runs it when web/ changed
 *    since the last build): `cold`, in a fresh copy of web/ without .next (what the first start
 *    after `npm install` pays; the copy goes to tmp/, ignored by git, and is deleted), and
 *    `incremental`, `npm run build -w web` in place with its cache (after a source change); the
 *    latter also leaves web/ built, so the starts below measure starting alone;
 *  - cold: `npm start` with the default services (database, gateway, chain, coordinator, two
 *    workers, web, visualizer) in a fresh home: migrations applied, contract deployed, workers
 *    bonded; wall time from launching `npm start` to its ready line, and each service's time;
 *  - warm: `npm start` again on the same home (database reopened, contract and bonds reused);
 *  - stopMs: from Ctrl-C (SIGINT to npm's process group, as a terminal sends it) to its exit;
 *  - firstStart: what a person waits for after `npm install`, cold build + cold start (an upper
 *    bound: the launcher builds while the database and the workers start), against the 90 s target.
 * Free ports everywhere (--port 0 …), so it runs beside a running `npm start`.
 * Options: --no-build (use web/'s current build; webBuild is then null).
 */
const { values } = parseArgs({ options: { 'no-build': { type: 'boolean', default: false } } })
const TARGET_MS = 90_000
/** What a fresh clone's web/ does not have: outputs, dependencies, tests. */
const NOT_IN_A_CLONE = ['.next', 'node_modules', 'tests', 'test-artifacts', 'bench', 'public/tfjs-wasm', 'tsconfig.tsbuildinfo', 'next-env.d.ts']

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

/** `npm run build -w web` in place; its time. */
async function timeIncrementalBuild(): Promise<number> {
  const started = performance.now()
  const build = buildWebApp({ captureStderr: true, ownProcessGroup: true })
  const exitCode = await build.exited
  if (exitCode !== 0) throw new Error(`npm run build -w web exited ${exitCode}: ${build.stderr().slice(-2000)}`)
  return Math.round(performance.now() - started)
}

/**
 * web/'s build script (prebuild, then next build) in a copy of web/ as a fresh clone has it.
 * The copy stays inside the repository so that the workspace packages resolve as they do for web/.
 */
async function timeColdBuild(): Promise<number> {
  await mkdir(path.join(REPO_ROOT, 'tmp'), { recursive: true })
  const copy = await mkdtemp(path.join(REPO_ROOT, 'tmp', 'bench-web-cold-'))
  try {
    await cp(WEB_DIR, copy, { recursive: true, filter: (source) => !NOT_IN_A_CLONE.some((skip) => source === path.join(WEB_DIR, skip)) })
    const next = createRequire(path.join(WEB_DIR, 'package.json')).resolve('next/dist/bin/next')
    const started = performance.now()
    for (const args of [['scripts/copy-tfjs-wasm.mjs'], [next, 'build']]) {
      const step = spawn(process.execPath, args, { cwd: copy, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } })
      let stderr = ''
      step.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)))
      const code = await new Promise<number | null>((resolve) => step.on('close', resolve))
      if (code !== 0) throw new Error(`${args.join(' ')} in a copy of web/ exited ${code}: ${stderr}`)
    }
    return Math.round(performance.now() - started)
  } finally {
    await rm(copy, { recursive: true, force: true })
  }
}

async function timeWebBuild(): Promise<{ coldMs: number; incrementalMs: number } | { skipped: string }> {
  if (values['no-build']) return { skipped: '--no-build' }
  const absent = await webAppAbsence()
  if (absent) return { skipped: absent }
  const coldMs = await timeColdBuild()
  return { coldMs, incrementalMs: await timeIncrementalBuild() }
}

async function main() {
  const webBuild = await timeWebBuild()
  const home = await mkdtemp(path.join(os.tmpdir(), 'oblivion-bench-ready-'))
  try {
    const cold = await timeStart(home)
    const warm = await timeStart(home)
    const buildMs = 'coldMs' in webBuild ? webBuild.coldMs : 0
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
