import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Database } from '../db/database.ts'
import { createAuthSurface } from './auth/auth-surface.ts'
import { DEFAULT_LIMITS, type GatewayKeys, type GatewayLimits } from './config.ts'
import { CORS_HEADERS, sendEmpty, sendJson } from './http.ts'
import { createRealtimeSurface } from './realtime/realtime-surface.ts'
import { createRestSurface } from './rest/rest-surface.ts'
import { createStorageSurface } from './storage/storage-surface.ts'

export interface GatewayOptions {
  db: Database
  keys: GatewayKeys
  /** Folder for Storage object bytes (`.oblivion/storage` under `npm start`). */
  storageDir: string
  limits?: Partial<GatewayLimits>
  /**
   * Hosts a Sign-In with Ethereum message may name as its domain/URI (GoTrue's site URL and
   * redirect allow list). localhost and 127.0.0.1 on any port are always allowed.
   */
  siweDomains?: string[]
  /** Port to listen on; 0 = any free port. */
  port?: number
  host?: string
  /** Errors a surface did not expect (a bug): logged, answered 500, never a crash. */
  onError?: (error: unknown, where: string) => void
}

/** What every surface gets: the database, the keys, the limits, and where the gateway listens. */
export interface GatewayContext {
  db: Database
  keys: GatewayKeys
  limits: GatewayLimits
  storageDir: string
  siweDomains: string[]
  /** `http://host:port`, known once listening. */
  url: string
  onError: (error: unknown, where: string) => void
}

/** One of Supabase's APIs, mounted under its prefix (`/rest/v1`, `/auth/v1`, …). */
export interface Surface {
  /** `path` is what follows the prefix, starting with `/`; `url` is the full request URL. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void>
  /** WebSocket upgrades under the prefix. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, url: URL): void
  start?(): Promise<void>
  close?(): Promise<void>
}

export interface Gateway {
  readonly url: string
  readonly context: GatewayContext
  readonly server: Server
  close(): Promise<void>
}

/**
 * The local Supabase-compatible gateway: one HTTP server answering REST (PostgREST grammar),
 * Auth (GoTrue), Realtime (Phoenix channels) and Storage in front of a real Postgres, so the
 * official supabase-js works against it unchanged.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const context: GatewayContext = {
    db: options.db,
    keys: options.keys,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    storageDir: options.storageDir,
    siweDomains: options.siweDomains ?? [],
    url: '',
    onError: options.onError ?? ((error, where) => console.error(`[gateway] unexpected error in ${where}:`, error)),
  }
  const surfaces: Record<string, Surface> = {
    '/rest/v1': createRestSurface(context),
    '/auth/v1': createAuthSurface(context),
    '/storage/v1': createStorageSurface(context),
    '/realtime/v1': createRealtimeSurface(context),
  }
  /** The surface for a request target; undefined for one that is not a URL path at all (`//`, `/\\`). */
  const route = (rawUrl: string | undefined) => {
    let url: URL
    try {
      url = new URL(rawUrl ?? '/', 'http://gateway.local')
    } catch {
      return undefined
    }
    for (const [prefix, surface] of Object.entries(surfaces)) {
      if (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)) {
        return { surface, path: url.pathname.slice(prefix.length) || '/', url, prefix }
      }
    }
    return { surface: undefined, path: url.pathname, url, prefix: '' }
  }

  const server = createServer(async (req, res) => {
    for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value)
    if (req.method === 'OPTIONS') return sendEmpty(res, 204)
    const target = route(req.url)
    if (!target) return sendJson(res, 400, { message: `Invalid request URL ${JSON.stringify(req.url)}: send a path such as /rest/v1/<table>` })
    const { surface, path, url, prefix } = target
    if (!surface) {
      if (path === '/' || path === '/health') return sendJson(res, 200, { status: 'ok', name: 'oblivion-gateway' })
      return sendJson(res, 404, { message: `No API at ${path}: use /rest/v1, /auth/v1, /storage/v1 or /realtime/v1` })
    }
    try {
      await surface.handle(req, res, path, url)
    } catch (error) {
      context.onError(error, `${req.method} ${prefix}${path}`)
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal gateway error; see the gateway log' })
      else res.destroy()
    }
  })
  server.on('upgrade', (req, socket, head) => {
    // Node removes its own error listener before 'upgrade': without one, a client that resets
    // while we refuse it (ECONNRESET on the write) would be an uncaught exception.
    socket.on('error', () => socket.destroy())
    const target = route(req.url)
    if (!target?.surface?.upgrade) {
      socket.end(`HTTP/1.1 ${target ? '404 Not Found' : '400 Bad Request'}\r\nConnection: close\r\n\r\n`)
      return
    }
    try {
      target.surface.upgrade(req, socket, head, target.path, target.url)
    } catch (error) {
      context.onError(error, `upgrade ${target.prefix}${target.path}`)
      socket.destroy()
    }
  })
  // Malformed HTTP from a client: answer 400 and close that socket, nothing else.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
  })

  for (const surface of Object.values(surfaces)) await surface.start?.()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  context.url = `http://${host}:${address.port}`

  return {
    url: context.url,
    context,
    server,
    async close() {
      for (const surface of Object.values(surfaces)) await surface.close?.()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
