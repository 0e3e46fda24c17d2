import { WebSocketServer } from 'ws'
import type { GatewayContext, Surface } from '../gateway.ts'
import { sendJson } from '../http.ts'
import { assertApiKey, IdentityError } from '../identity.ts'
import { ChangeDispatcher } from './change-dispatcher.ts'
import { ChangeFeed, RESUME_WINDOW_MS } from './change-feed.ts'
import { ChannelRegistry } from './channel-registry.ts'
import { handleHttpBroadcast } from './http-broadcast.ts'
import { PresenceTracker } from './presence-tracker.ts'
import { saveResumePoints } from './resume-points.ts'
import { SocketSession, type RealtimeServices } from './socket-session.ts'
import { TableCatalog } from './table-catalog.ts'
import { WATCH_RENEW_MS, watchTables } from './watched-tables.ts'

/**
 * Supabase Realtime at /realtime/v1: Phoenix channels over WebSocket (`/websocket`, serializer
 * 2.0.0) with postgres_changes (row triggers → change log → NOTIFY → RLS-checked fan-out),
 * presence and broadcast, plus the REST broadcast endpoint.
 */
export function createRealtimeSurface(context: GatewayContext): Surface {
  const channels = new ChannelRegistry()
  const catalog = new TableCatalog(context.db)
  const dispatcher = new ChangeDispatcher(context.db, catalog)
  const feed = new ChangeFeed(context.db, dispatcher, channels, context.onError)
  let startedAt = 0
  const services: RealtimeServices = {
    context,
    channels,
    presence: new PresenceTracker(channels),
    feed,
    catalog,
    resumable: () => Date.now() - startedAt <= RESUME_WINDOW_MS,
  }
  const sessions = new Set<SocketSession>()
  let renewTimer: NodeJS.Timeout | undefined
  // maxPayload: a client frame larger than the JSON body limit is refused by ws (close 1009).
  const wss = new WebSocketServer({ noServer: true, maxPayload: context.limits.jsonBodyBytes })

  return {
    async start() {
      startedAt = Date.now()
      await catalog.syncTriggers()
      await feed.start()
      renewTimer = setInterval(() => {
        const bindings = channels.postgresListeners().flatMap((member) => member.bindings)
        watchTables(context.db, bindings).catch((error) => context.onError(error, 'realtime (renewing watched tables)'))
      }, WATCH_RENEW_MS)
      renewTimer.unref()
    },

    async handle(req, res, path) {
      if (path.startsWith('/api/broadcast')) return handleHttpBroadcast(req, res, path, context, channels)
      if (path === '/websocket') return sendJson(res, 426, { message: 'Upgrade to a WebSocket: ws://…/realtime/v1/websocket?apikey=KEY&vsn=2.0.0' })
      sendJson(res, 404, { message: `No realtime API at ${path}: use /websocket or POST /api/broadcast` })
    },

    upgrade(req, socket, head, path, url) {
      if (path !== '/websocket') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
        return
      }
      const apikey = url.searchParams.get('apikey') ?? ''
      try {
        assertApiKey(apikey, context.keys)
      } catch (error) {
        if (!(error instanceof IdentityError)) throw error
        const body = JSON.stringify({ message: error.message })
        socket.end(
          `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        )
        return
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const session = new SocketSession(ws, apikey, services)
        sessions.add(session)
        ws.on('close', () => sessions.delete(session))
      })
    },

    async close() {
      clearInterval(renewTimer)
      const listening = [...sessions].flatMap((s) => s.members()).filter((m) => m.bindings.length > 0)
      await saveResumePoints(context.db, listening).catch((error) => context.onError(error, 'realtime close (resume points)'))
      for (const client of wss.clients) client.terminate()
      for (const session of sessions) session.teardown()
      sessions.clear()
      await feed.close()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}
