import { access } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { PublicConfig } from '@oblivion/visualizer/config'
import type * as VisualizerServe from '@oblivion/visualizer/serve'
import { REPO_ROOT } from '../../../sample_job/src/local-processes.ts'

/** visualizer/src/serve.ts: builds the Vite app when its sources changed, and serves it with /config.json. */
const SERVE_MODULE = path.join(REPO_ROOT, 'visualizer/src/serve.ts')

export interface RunningVisualizer {
  url: string
  /** Set when this start built it (vite build): how long that took. */
  builtSeconds: number | null
  close(): Promise<void>
}

/**
 * Builds the visualizer if its sources changed and serves it in this process (a static app and
 * its /config.json: no process of its own is worth its start-up time). Resolves with why it
 * cannot run, as a string, when visualizer/ has no server.
 */
export async function startVisualizer(options: { port: number; host: string; config: PublicConfig; onBuild?: (message: string) => void }): Promise<RunningVisualizer | string> {
  if (!(await access(SERVE_MODULE).then(() => true, () => false))) return 'visualizer/src/serve.ts is missing'
  // Loaded when it runs (not with `npm start -- --no-visualizer`): it resolves the visualizer's build tools on load.
  const serve = (await import(pathToFileURL(SERVE_MODULE).href)) as Partial<typeof VisualizerServe>
  if (typeof serve.serveVisualizer !== 'function' || typeof serve.ensureVisualizerBuilt !== 'function') {
    return 'visualizer/src/serve.ts does not export serveVisualizer and ensureVisualizerBuilt'
  }
  const build = await serve.ensureVisualizerBuilt(options.onBuild ? { onBuild: options.onBuild } : {})
  const server = await serve.serveVisualizer({ port: options.port, host: options.host, config: options.config })
  return { url: server.url, builtSeconds: build.built ? build.seconds : null, close: () => server.close() }
}
