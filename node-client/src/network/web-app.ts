import { access, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { REPO_ROOT, startJsonProcess, type NetworkProcess, type ProcessOptions } from '../../../sample_job/src/local-processes.ts'

export const WEB_DIR = path.join(REPO_ROOT, 'web')
/** Written by `next build` when it ends: its time is the build's. */
const BUILD_ID = path.join(WEB_DIR, '.next', 'BUILD_ID')
/** Folders that are not the app's sources (outputs, dependencies, tests). */
const NOT_SOURCES = new Set(['node_modules', '.next', 'out', 'coverage', 'tests', 'test-results', 'playwright-report'])

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
 * since (web/ itself, or the src/ of a workspace package it imports: the worker core, the
 * training core, the contract bindings and the visualizer's components are compiled into it).
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

/** `npm run build -w web` (its own prebuild steps included). */
export function buildWebApp(options: ProcessOptions): NetworkProcess {
  return startJsonProcess('web-build', 'npm', ['run', 'build', '-w', 'web'], { ...options, env: { ...(options.env ?? process.env), NEXT_TELEMETRY_DISABLED: '1' } })
}

/** The src/ folders (and package.json) of the workspace packages web/package.json depends on. */
async function workspaceSources(): Promise<string[]> {
  const read = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as { name?: string; workspaces?: string[]; dependencies?: Record<string, string> }
  const [root, web] = await Promise.all([read(path.join(REPO_ROOT, 'package.json')), read(path.join(WEB_DIR, 'package.json'))])
  const wanted = new Set(Object.keys(web.dependencies ?? {}))
  const folders: string[] = []
  for (const workspace of root.workspaces ?? []) {
    const dir = path.join(REPO_ROOT, workspace)
    if (dir === WEB_DIR) continue
    const name = await read(path.join(dir, 'package.json')).then((p) => p.name, () => undefined)
    if (name && wanted.has(name)) folders.push(path.join(dir, 'src'), path.join(dir, 'package.json'))
  }
  return folders
}

/** The first file under `entry` (a folder or a file) modified after `since` (ms), if any. */
async function newerFile(entry: string, since: number): Promise<string | null> {
  const info = await stat(entry).catch(() => null)
  if (!info) return null
  if (!info.isDirectory()) return info.mtimeMs > since ? entry : null
  const children = await readdir(entry, { withFileTypes: true }).catch(() => [])
  for (const child of children) {
    if (child.name.startsWith('.') || NOT_SOURCES.has(child.name)) continue
    const found = await newerFile(path.join(entry, child.name), since)
    if (found) return found
  }
  return null
}
