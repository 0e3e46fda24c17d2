import { spawn } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PublicConfig } from './public-config.ts'

/**
 * The visualizer as `npm start` runs it, in process: a small static server for the built app
 * (visualizer/dist) that answers /config.json with the network's public configuration, and the
 * build itself when dist is missing or older than the sources. Node only: not part of the
 * browser bundle.
 */
export const VISUALIZER_DIR = fileURLToPath(new URL('..', import.meta.url))
export const DIST_DIR = path.join(VISUALIZER_DIR, 'dist')
const require = createRequire(import.meta.url)
/** What the bundle is made of: a change to any of them makes dist stale. */
const SOURCES = [
  path.join(VISUALIZER_DIR, 'src'),
  path.join(VISUALIZER_DIR, 'index.html'),
  path.join(VISUALIZER_DIR, 'vite.config.ts'),
  path.join(VISUALIZER_DIR, 'package.json'),
  // The two files the bundle takes from other workspaces.
  require.resolve('@oblivion/node-client/network-channel'),
  require.resolve('@oblivion/model/seeded-random'),
]

export interface VisualizerServer {
  /** http://host:port (the port the system chose when asked for 0). */
  url: string
  close(): Promise<void>
}

export interface ServeVisualizerOptions {
  /** 0: any free port. */
  port: number
  /** Default 127.0.0.1. */
  host?: string
  /** Answered at /config.json: public values only (the anon key, never the service_role key). */
  config: PublicConfig
  /** The built app; default visualizer/dist. */
  distDir?: string
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

/**
 * Serves the built visualizer and /config.json. GET and HEAD only; paths without an extension
 * get index.html (one page); hashed files under assets/ are cached for good. Without a build
 * every page says how to make one (503).
 */
export async function serveVisualizer(options: ServeVisualizerOptions): Promise<VisualizerServer> {
  const distDir = path.resolve(options.distDir ?? DIST_DIR)
  const host = options.host ?? '127.0.0.1'
  const configBody = JSON.stringify(options.config)

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `The visualizer's server failed: ${error.message}\n`)
      else response.destroy()
    })
  })

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD')
      return send(response, 405, 'text/plain; charset=utf-8', 'Only GET and HEAD are served here.\n')
    }
    let pathname: string
    try {
      pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname)
    } catch {
      return send(response, 400, 'text/plain; charset=utf-8', 'The path is not valid URL encoding.\n')
    }
    if (pathname === '/config.json') {
      response.setHeader('Cache-Control', 'no-store')
      return send(response, 200, 'application/json', configBody, request.method === 'HEAD')
    }
    const file = path.resolve(distDir, `.${pathname}`)
    if (file !== distDir && !file.startsWith(distDir + path.sep)) return send(response, 404, 'text/plain; charset=utf-8', 'Not found.\n')
    const found = await fileAt(file)
    if (found) return sendFile(request, response, found, pathname.startsWith('/assets/'))
    if (path.extname(pathname) !== '') return send(response, 404, 'text/plain; charset=utf-8', `${pathname} is not part of the visualizer.\n`)
    const index = await fileAt(path.join(distDir, 'index.html'))
    if (!index) {
      return send(
        response,
        503,
        'text/plain; charset=utf-8',
        `The visualizer is not built (${path.join(distDir, 'index.html')} is missing): run \`npm run build -w visualizer\`, or restart \`npm start\`, which builds it.\n`,
      )
    }
    response.setHeader('Cache-Control', 'no-cache')
    return sendFile(request, response, index, false)
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`The visualizer cannot listen on ${host}:${options.port}: the port is in use. Stop what uses it or choose another port.`)
          : new Error(`The visualizer cannot listen on ${host}:${options.port}: ${error.message}`),
      )
    }
    server.once('error', onError)
    server.listen(options.port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host
  return {
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function fileAt(file: string): Promise<{ file: string; size: number } | null> {
  try {
    const info = await stat(file)
    return info.isFile() ? { file, size: info.size } : null
  } catch {
    return null
  }
}

function send(response: ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  response.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff' })
  response.end(headOnly ? undefined : body)
}

function sendFile(request: IncomingMessage, response: ServerResponse, found: { file: string; size: number }, immutable: boolean): void {
  response.writeHead(200, {
    'Content-Type': CONTENT_TYPES[path.extname(found.file)] ?? 'application/octet-stream',
    'Content-Length': found.size,
    'X-Content-Type-Options': 'nosniff',
    ...(immutable ? { 'Cache-Control': 'public, max-age=31536000, immutable' } : {}),
  })
  if (request.method === 'HEAD') return void response.end()
  createReadStream(found.file)
    .on('error', () => response.destroy())
    .pipe(response)
}

/** Whether dist holds a build at least as new as every source file. */
export async function isVisualizerBuilt(distDir = DIST_DIR): Promise<boolean> {
  const built = await stat(path.join(distDir, 'index.html')).catch(() => null)
  if (!built) return false
  return (await newestChange(SOURCES)) <= built.mtimeMs
}

export interface EnsureBuiltOptions {
  /** Build even when dist looks current. */
  force?: boolean
  /** Told before a build starts (it takes ~10–30 s). */
  onBuild?: (message: string) => void
}

/**
 * Builds the visualizer (vite build, as `npm run build -w visualizer` does) when visualizer/dist
 * is missing or older than its sources; otherwise does nothing. The build goes to a temporary
 * folder first and replaces dist only when it succeeded, so a server reading dist never sees a
 * half-written build and a failed build keeps the last good one.
 */
export async function ensureVisualizerBuilt(options: EnsureBuiltOptions = {}): Promise<{ built: boolean; distDir: string; seconds: number }> {
  const started = Date.now()
  if (!options.force && (await isVisualizerBuilt())) return { built: false, distDir: DIST_DIR, seconds: 0 }
  options.onBuild?.('Building the visualizer (vite build)…')
  const staging = await mkdtemp(path.join(VISUALIZER_DIR, '.dist-'))
  try {
    await runViteBuild(staging)
    const retired = `${DIST_DIR}.old-${process.pid}-${Date.now()}`
    await rename(DIST_DIR, retired).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error
    })
    await rename(staging, DIST_DIR)
    await rm(retired, { recursive: true, force: true })
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  return { built: true, distDir: DIST_DIR, seconds: (Date.now() - started) / 1000 }
}

function runViteBuild(outDir: string): Promise<void> {
  const viteBin = path.join(path.dirname(require.resolve('vite/package.json')), 'bin', 'vite.js')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [viteBin, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: VISUALIZER_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production' },
    })
    let output = ''
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000))
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.on('error', (error) => reject(new Error(`Could not run vite to build the visualizer: ${error.message}`)))
    child.on('close', (code) => {
      if (code === 0) resolve()
      else reject(new Error(`Building the visualizer failed (exit ${code}): ${output.trim()}\nRun \`npm run build -w visualizer\` to see the whole output.`))
    })
  })
}

/** The latest modification time of the files (and everything under the folders) given. */
async function newestChange(paths: string[]): Promise<number> {
  let newest = 0
  for (const entry of paths) {
    const info = await stat(entry).catch(() => null)
    if (!info) continue
    if (info.isDirectory()) {
      const children = await readdir(entry)
      newest = Math.max(newest, info.mtimeMs, await newestChange(children.map((child) => path.join(entry, child))))
    } else newest = Math.max(newest, info.mtimeMs)
  }
  return newest
}
