import { access, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import type { PublicChainConfig } from '@oblivion/visualizer/config'
import { REPO_ROOT, startJsonProcess, type NetworkProcess, type ProcessOptions } from '../../../sample_job/src/local-processes.ts'

export const WEB_DIR = path.join(REPO_ROOT, 'web')
/** Written by `next build` when it ends: its time is the build's. */
const BUILD_ID = path.join(WEB_DIR, '.next', 'BUILD_ID')
/** Folders that are not the app's sources (outputs, dependencies, tests, benchmarks). */
const NOT_SOURCES = new Set(['node_modules', '.next', 'out', 'dist', 'coverage', 'tests', 'test-results', 'test-artifacts', 'playwright-report', 'bench'])
/** Files that are not either: tests and prose. */
const NOT_SOURCE_FILE = /\.(test|spec)\.[cm]?[jt]sx?$|\.md$/

const exists = (file: string) => access(file).then(() => true, () => false)

/** Why there is no Next.js app in web/ to run (null: there is one). */
export async function webAppAbsence(): Promise<string | null> {
  const configs = ['next.config.ts', 'next.config.mjs', 'next.config.js', 'next.config.cjs'].map((f) => path.join(WEB_DIR, f))
  const roots = ['app', 'src/app', 'pages', 'src/pages'].map((d) => path.join(WEB_DIR, d))
  const [config, root] = await Promise.all([
    Promise.all(configs.map(exists)).then((found) => found.some(Boolean)),
    Promise.all(roots.map(exists)).then((found) => found.some(Boolean)),
  ])
  if (config && root) return null
  return `web/ has no Next.js app yet (${config ? 'no app/ or pages/' : 'no next.config'})`
}

/**
 * Whether `next build` must run before `next start`: there is no build yet, or a source changed
 * since: in web/ itself, or in the folders of the entry points it imports from the workspace
 * packages (the worker core, the training core, the contract bindings, the visualizer's
 * components are compiled into it; the CLI and the coordinator are not).
 */
export async function webBuildNeeded(): Promise<{ needed: boolean; reason: string }> {
  const built = await stat(BUILD_ID).then((s) => s.mtimeMs, () => null)
  if (built === null) return { needed: true, reason: 'no build yet' }
  for (const dir of [WEB_DIR, ...(await workspaceSources())]) {
    const changed = await newerFile(dir, built)
    if (changed) return { needed: true, reason: `${path.relative(REPO_ROOT, changed)} changed since the last build` }
  }
  return { needed: false, reason: 'up to date' }
}

/**
 * The chain part of the web app's public configuration (OBLIVION_PUBLIC_CONFIG), from chain.json:
 * the settlement contract, and the InferenceMarket's address for the marketplace pages (null on a
 * chain.json written before the market existed: the pages then say the chain has no market).
 */
export function publicChainConfig(
  chain: { chainId: number; rpcUrl: string; settlement: string; challengeWindow: number; market?: { address: string } | undefined },
  name: string,
): PublicChainConfig {
  return { chainId: chain.chainId, name, rpcUrl: chain.rpcUrl, settlement: chain.settlement, challengeWindow: chain.challengeWindow, market: chain.market?.address ?? null }
}

/** `npm run build -w web` (its own prebuild steps included). */
export function buildWebApp(options: ProcessOptions): NetworkProcess {
  return startJsonProcess('web-build', 'npm', ['run', 'build', '-w', 'web'], { ...options, env: { ...(options.env ?? process.env), NEXT_TELEMETRY_DISABLED: '1' } })
}

interface PackageJson {
  name?: string
  workspaces?: string[]
  dependencies?: Record<string, string>
  exports?: unknown
}

/**
 * For each workspace package web/package.json depends on: its package.json and the folder of
 * each of its entry points ("exports"; src/worker-core for "./src/worker-core/index.ts").
 */
async function workspaceSources(): Promise<string[]> {
  const read = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as PackageJson
  const [root, web] = await Promise.all([read(path.join(REPO_ROOT, 'package.json')), read(path.join(WEB_DIR, 'package.json'))])
  const wanted = new Set(Object.keys(web.dependencies ?? {}))
  const sources = new Set<string>()
  for (const workspace of root.workspaces ?? []) {
    const dir = path.join(REPO_ROOT, workspace)
    if (dir === WEB_DIR) continue
    const pkg = await read(path.join(dir, 'package.json')).catch(() => null)
    if (!pkg?.name || !wanted.has(pkg.name)) continue
    sources.add(path.join(dir, 'package.json'))
    for (const entry of exportTargets(pkg.exports)) sources.add(path.dirname(path.join(dir, entry)))
  }
  // A folder inside another one is scanned with it.
  return [...sources].filter((a) => ![...sources].some((b) => b !== a && a.startsWith(`${b}${path.sep}`)))
}

/** The file paths an "exports" field names (a string, or conditions and subpaths nested in objects). */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports]
  if (exports && typeof exports === 'object') return Object.values(exports).flatMap(exportTargets)
  return []
}

/** The first file under `entry` (a folder or a file) modified after `since` (ms), if any. */
async function newerFile(entry: string, since: number): Promise<string | null> {
  const info = await stat(entry).catch(() => null)
  if (!info) return null
  if (!info.isDirectory()) return info.mtimeMs > since && !NOT_SOURCE_FILE.test(entry) ? entry : null
  const children = await readdir(entry, { withFileTypes: true }).catch(() => [])
  for (const child of children) {
    if (child.name.startsWith('.') || NOT_SOURCES.has(child.name)) continue
    const found = await newerFile(path.join(entry, child.name), since)
    if (found) return found
  }
  return null
}
