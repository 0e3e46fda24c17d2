import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GatewayContext } from '../gateway.ts'
import { PayloadTooLargeError, readJson, sendEmpty, sendJson } from '../http.ts'
import { callerOf, IdentityError } from '../identity.ts'
import type { ChannelRegistry } from './channel-registry.ts'
import { encodeFrame } from './phoenix-frames.ts'

interface BroadcastMessage {
  topic: string
  event: string
  payload: unknown
}

function fanOut(channels: ChannelRegistry, message: BroadcastMessage): void {
  const topic = `realtime:${message.topic}`
  const text = encodeFrame({ joinRef: null, ref: null, topic, event: 'broadcast', payload: { type: 'broadcast', event: message.event, payload: message.payload } })
  for (const member of channels.members(topic)) member.send(text)
}

/**
 * Realtime's REST broadcast: `POST /api/broadcast {"messages":[{topic, event, payload, private}]}`
 * (what `channel.send()` falls back to before a join) and realtime-js's `httpSend()`:
 * `POST /api/broadcast/{topic}/events/{event}` with the payload as the body. Both answer 202.
 * Errors are Realtime's `{"message": …}`.
 */
export async function handleHttpBroadcast(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  context: GatewayContext,
  channels: ChannelRegistry,
): Promise<void> {
  const single = /^\/api\/broadcast\/([^/]+)\/events\/([^/]+)$/.exec(path)
  if (path !== '/api/broadcast' && !single) {
    return sendJson(res, 404, { message: `No realtime API at ${path}: use POST /api/broadcast or /websocket` })
  }
  if (req.method !== 'POST') return sendJson(res, 405, { message: 'Use POST to broadcast' }, { Allow: 'POST' })
  try {
    callerOf(req, context.keys)
  } catch (error) {
    if (!(error instanceof IdentityError)) throw error
    return sendJson(res, 401, { message: error.message })
  }
  let body: unknown
  try {
    body = await readJson(req, context.limits.jsonBodyBytes)
  } catch (error) {
    if (error instanceof PayloadTooLargeError) return sendJson(res, 413, { message: error.message })
    if (error instanceof SyntaxError) return sendJson(res, 400, { message: `The body is not JSON: ${error.message}` })
    throw error
  }
  const url = new URL(req.url ?? '/', 'http://gateway.local')
  let named: { topic: string; event: string } | undefined
  try {
    named = single ? { topic: decodeURIComponent(single[1]!), event: decodeURIComponent(single[2]!) } : undefined
  } catch {
    return sendJson(res, 400, { message: 'The topic or event in the URL is not valid percent-encoding' })
  }
  const requested: unknown[] = named
    ? [{ ...named, payload: body, private: url.searchParams.get('private') === 'true' }]
    : body && typeof body === 'object' && Array.isArray((body as { messages?: unknown }).messages)
      ? (body as { messages: unknown[] }).messages
      : []
  if (requested.length === 0) {
    return sendJson(res, 422, { message: 'Send {"messages": [{"topic", "event", "payload"}]} with at least one message' })
  }
  const messages: BroadcastMessage[] = []
  for (const [i, m] of requested.entries()) {
    const message = (m && typeof m === 'object' ? m : {}) as Record<string, unknown>
    if (typeof message.topic !== 'string' || !message.topic || typeof message.event !== 'string') {
      return sendJson(res, 422, { message: `messages[${i}] needs a non-empty string topic and a string event` })
    }
    if (message.private === true) {
      return sendJson(res, 422, { message: `messages[${i}] is private: the local gateway only serves public channels` })
    }
    messages.push({ topic: message.topic, event: message.event, payload: message.payload })
  }
  for (const message of messages) fanOut(channels, message)
  sendEmpty(res, 202)
}
