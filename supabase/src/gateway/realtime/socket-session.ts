import { randomUUID } from 'node:crypto'
import type { WebSocket } from 'ws'
import type { GatewayContext } from '../gateway.ts'
import { identityFromToken, IdentityError, type CallerIdentity } from '../identity.ts'
import { FilterSyntaxError, parseFilter } from './change-filter.ts'
import type { ChangeFeed } from './change-feed.ts'
import type { ChannelMember, PostgresBinding } from './channel-member.ts'
import type { ChannelRegistry } from './channel-registry.ts'
import { decodeBinaryFrame, decodeTextFrame, encodeFrame, FrameError, type Frame } from './phoenix-frames.ts'
import type { PresenceTracker } from './presence-tracker.ts'
import { takeResumePoint } from './resume-points.ts'
import type { TableCatalog } from './table-catalog.ts'
import { watchTables } from './watched-tables.ts'

/**
 * A socket that lets this much pile up unsent (a client not reading) is closed rather than
 * buffered without bound; realtime-js reconnects and rejoins on its own.
 */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024

/** What every socket shares: the gateway context and the realtime surface's parts. */
export interface RealtimeServices {
  context: GatewayContext
  channels: ChannelRegistry
  presence: PresenceTracker
  feed: ChangeFeed
  catalog: TableCatalog
  /** True while a rejoining channel may still resume (see resume-points.ts). */
  resumable(): boolean
}

let nextBindingId = 1000

const errorReply = (frame: Frame, reason: string): Frame => ({
  joinRef: frame.joinRef,
  ref: frame.ref,
  topic: frame.topic,
  event: 'phx_reply',
  payload: { status: 'error', response: { reason } },
})

/** Realtime's wording for a token that cannot be used: `InvalidJWTToken: Token has expired 12 seconds ago`. */
function tokenProblem(error: unknown, token: string): string {
  if (!(error instanceof IdentityError)) throw error
  if (error.reason === 'expired') {
    let ago = 0
    try {
      const exp = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).exp
      ago = Math.max(0, Math.floor(Date.now() / 1000) - Number(exp))
    } catch {}
    return `InvalidJWTToken: Token has expired ${ago} seconds ago`
  }
  if (error.reason === 'malformed') return 'MalformedJWT: The token provided is not a valid JWT'
  if (error.reason === 'bad_signature') return 'JwtSignatureError: Failed to validate JWT signature'
  return `InvalidJWTToken: ${error.message}`
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * One WebSocket: Phoenix heartbeats and the channels joined on it. Frames are handled one at a
 * time in arrival order (a join's database checks finish before the next frame is looked at).
 */
export class SocketSession {
  private readonly joined = new Map<string, ChannelMember>()
  private readonly expiryTimers = new Map<ChannelMember, NodeJS.Timeout>()
  private queue: Promise<void> = Promise.resolve()
  private closed = false

  constructor(
    private readonly ws: WebSocket,
    private readonly apikey: string,
    private readonly services: RealtimeServices,
  ) {
    ws.on('message', (data, isBinary) => {
      this.queue = this.queue
        .then(() => this.receive(data as Buffer, isBinary))
        .catch((error) => services.context.onError(error, 'realtime socket frame'))
    })
    ws.on('close', () => this.teardown())
    ws.on('error', () => this.teardown())
  }

  send(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      console.warn(
        `[realtime] closing a socket that fell ${this.ws.bufferedAmount} bytes behind (limit ${MAX_BUFFERED_BYTES}); ` +
          'the client reconnects and rejoins on its own',
      )
      this.ws.terminate()
      this.teardown()
      return
    }
    this.ws.send(text)
  }

  private sendFrame(frame: Frame): void {
    this.send(encodeFrame(frame))
  }

  /** Leaves every channel (presence leaves go out to the others). */
  teardown(): void {
    if (this.closed) return
    this.closed = true
    for (const member of this.joined.values()) this.leave(member)
    this.joined.clear()
  }

  /** Channels listening to postgres_changes right now (saved as resume points on gateway close). */
  members(): ChannelMember[] {
    return [...this.joined.values()]
  }

  private async receive(data: Buffer, isBinary: boolean): Promise<void> {
    let frame: Frame
    try {
      frame = isBinary ? decodeBinaryFrame(data) : decodeTextFrame(data.toString('utf8'))
    } catch (error) {
      if (!(error instanceof FrameError)) throw error
      // Nothing to address a reply to: answer on the phoenix topic so the client's log shows why.
      this.sendFrame({ joinRef: null, ref: null, topic: 'phoenix', event: 'phx_error', payload: { reason: error.message } })
      return
    }
    if (frame.topic === 'phoenix' && frame.event === 'heartbeat') {
      this.sendFrame({ joinRef: null, ref: frame.ref, topic: 'phoenix', event: 'phx_reply', payload: { status: 'ok', response: {} } })
      return
    }
    if (frame.event === 'phx_join') return this.join(frame)
    const member = this.joined.get(frame.topic)
    if (!member) {
      this.sendFrame(errorReply(frame, 'unmatched topic'))
      return
    }
    switch (frame.event) {
      case 'phx_leave':
        this.leave(member)
        this.sendFrame({ joinRef: frame.joinRef, ref: frame.ref, topic: frame.topic, event: 'phx_reply', payload: { status: 'ok', response: {} } })
        return
      case 'access_token':
        return this.refreshToken(member, frame)
      case 'presence':
        return this.presence(member, frame)
      case 'broadcast':
        return this.broadcast(member, frame)
      default:
        // Realtime ignores unknown client events (it only logs them).
        return
    }
  }

  private async join(frame: Frame): Promise<void> {
    const { context, channels, presence, feed } = this.services
    const previous = this.joined.get(frame.topic)
    if (previous) this.leave(previous) // a rejoin replaces the old join, as in Phoenix
    if (!frame.topic.startsWith('realtime:') || frame.topic.length === 'realtime:'.length) {
      return this.sendFrame(errorReply(frame, 'TopicNameRequired: You must provide a topic name'))
    }
    if (this.joined.size >= context.limits.channelsPerSocket) {
      return this.sendFrame(
        errorReply(
          frame,
          `ChannelRateLimitReached: Too many channels (this connection already joined ${this.joined.size}, ` +
            `the limit per connection; leave a channel or open another connection)`,
        ),
      )
    }
    const payload = isRecord(frame.payload) ? frame.payload : {}
    const config = isRecord(payload.config) ? payload.config : {}
    if (config.private === true) {
      return this.sendFrame(
        errorReply(frame, 'PrivateChannelsUnsupported: the local gateway has no realtime.messages authorization; use a public channel'),
      )
    }
    const token = typeof payload.access_token === 'string' && !payload.access_token.startsWith('sb_') ? payload.access_token : this.apikey
    let identity: CallerIdentity
    try {
      identity = identityFromToken(token, context.keys)
    } catch (error) {
      return this.sendFrame(errorReply(frame, tokenProblem(error, token)))
    }

    const requested = Array.isArray(config.postgres_changes) ? config.postgres_changes.filter(isRecord) : []
    const bindings: PostgresBinding[] = []
    const problems: string[] = []
    const echoed = requested.map((binding) => {
      const id = nextBindingId++
      const event = typeof binding.event === 'string' ? binding.event.toUpperCase() : binding.event === undefined ? '*' : ''
      const schema = typeof binding.schema === 'string' ? binding.schema : 'public'
      const table = typeof binding.table === 'string' ? binding.table : undefined
      const select = Array.isArray(binding.select) ? binding.select.filter((c): c is string => typeof c === 'string') : undefined
      try {
        if (!['*', 'INSERT', 'UPDATE', 'DELETE'].includes(event)) throw new Error(`event ${JSON.stringify(binding.event)} is not one of *, INSERT, UPDATE, DELETE`)
        const conditions = typeof binding.filter === 'string' && binding.filter ? parseFilter(binding.filter) : []
        bindings.push({ id, event: event as PostgresBinding['event'], schema, table, conditions, select })
      } catch (error) {
        if (!(error instanceof FilterSyntaxError) && !(error instanceof Error)) throw error
        problems.push((error as Error).message)
      }
      return { ...binding, id }
    })
    problems.push(...(await this.checkTables(bindings)))
    await watchTables(this.services.context.db, bindings)

    const presenceConfig = isRecord(config.presence) ? config.presence : {}
    const broadcastConfig = isRecord(config.broadcast) ? config.broadcast : {}
    const member: ChannelMember = {
      topic: frame.topic,
      joinRef: frame.joinRef ?? frame.ref ?? '',
      identity,
      bindings,
      broadcastSelf: broadcastConfig.self === true,
      broadcastAck: broadcastConfig.ack === true,
      presenceKey: typeof presenceConfig.key === 'string' && presenceConfig.key ? presenceConfig.key : randomUUID(),
      presenceEnabled: presenceConfig.enabled === true,
      send: (text) => this.send(text),
    }
    const resuming = bindings.length > 0 && this.services.resumable() && (await takeResumePoint(context.db, member))
    if (this.closed) return
    this.joined.set(frame.topic, member)
    this.scheduleExpiry(member)
    this.sendFrame({
      joinRef: frame.joinRef,
      ref: frame.ref,
      topic: frame.topic,
      event: 'phx_reply',
      payload: { status: 'ok', response: requested.length > 0 ? { postgres_changes: echoed } : {} },
    })
    // Registered before "Subscribed to PostgreSQL" goes out: a client that writes as soon as it
    // reads that message must get the change (a CI run lost one while a DB round trip sat between).
    const register = () => this.joined.get(member.topic) === member && channels.add(member)
    if (resuming) await feed.resume(member, register)
    else register()
    const subTopic = frame.topic.slice('realtime:'.length)
    if (requested.length > 0) {
      const message =
        problems.length === 0
          ? 'Subscribed to PostgreSQL'
          : `Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: ${problems.join('; ')}`
      this.sendFrame({
        joinRef: member.joinRef,
        ref: null,
        topic: frame.topic,
        event: 'system',
        payload: { extension: 'postgres_changes', status: problems.length === 0 ? 'ok' : 'error', message, channel: subTopic },
      })
    }
    if (member.presenceEnabled) presence.sendState(member)
  }

  /** Published tables get their capture trigger now if they lack it (created after the start). */
  private async checkTables(bindings: PostgresBinding[]): Promise<string[]> {
    const { catalog } = this.services
    const problems: string[] = []
    let synced = false
    for (const binding of bindings) {
      if (binding.table === undefined || binding.table === '*') continue
      let info = await catalog.refresh(binding.schema, binding.table)
      if (info?.published && !info.captured && !synced) {
        await catalog.syncTriggers()
        synced = true
        info = await catalog.refresh(binding.schema, binding.table)
      }
      if (!info) problems.push(`table ${binding.schema}.${binding.table} does not exist`)
      else if (!info.published) {
        problems.push(`table ${binding.schema}.${binding.table} is not in the supabase_realtime publication (alter publication supabase_realtime add table …)`)
      }
    }
    return problems
  }

  private leave(member: ChannelMember): void {
    if (this.joined.get(member.topic) === member) this.joined.delete(member.topic)
    clearTimeout(this.expiryTimers.get(member))
    this.expiryTimers.delete(member)
    this.services.channels.remove(member)
    this.services.presence.untrack(member)
  }

  /** Realtime's channel shutdown: a `system` error, then `phx_close` (the client marks it CLOSED). */
  private shutdown(member: ChannelMember, message: string): void {
    this.leave(member)
    const sub = member.topic.slice('realtime:'.length)
    this.sendFrame({ joinRef: member.joinRef, ref: null, topic: member.topic, event: 'system', payload: { extension: 'system', status: 'error', message, channel: sub } })
    this.sendFrame({ joinRef: member.joinRef, ref: member.joinRef, topic: member.topic, event: 'phx_close', payload: {} })
  }

  /** As Realtime re-confirms the token at its `exp`: the channel closes when it expires. */
  private scheduleExpiry(member: ChannelMember): void {
    clearTimeout(this.expiryTimers.get(member))
    const exp = member.identity.claims.exp
    if (typeof exp !== 'number') return
    const delay = exp * 1000 - Date.now()
    // setTimeout holds at most 2^31-1 ms (~24.8 days): a longer-lived token (the anon key lives
    // ten years) is looked at again then, not closed as expired.
    const timer = setTimeout(() => {
      if (this.joined.get(member.topic) !== member) return
      if (exp * 1000 > Date.now()) return this.scheduleExpiry(member)
      this.shutdown(member, tokenProblem(new IdentityError('expired', 'JWT expired'), member.identity.token))
    }, Math.max(0, Math.min(delay, 2 ** 31 - 1)))
    timer.unref()
    this.expiryTimers.set(member, timer)
  }

  private refreshToken(member: ChannelMember, frame: Frame): void {
    const token = isRecord(frame.payload) ? frame.payload.access_token : undefined
    if (typeof token !== 'string' || token.startsWith('sb_') || token === member.identity.token) return
    try {
      member.identity = identityFromToken(token, this.services.context.keys)
      this.scheduleExpiry(member)
    } catch (error) {
      this.shutdown(member, tokenProblem(error, token))
    }
  }

  private presence(member: ChannelMember, frame: Frame): void {
    const payload = isRecord(frame.payload) ? frame.payload : {}
    const ok = () => this.sendFrame({ joinRef: frame.joinRef, ref: frame.ref, topic: frame.topic, event: 'phx_reply', payload: { status: 'ok', response: {} } })
    if (payload.event === 'track') {
      if (!isRecord(payload.payload ?? {})) return this.sendFrame(errorReply(frame, 'Presence track payload must be a map'))
      if (!member.presenceEnabled) {
        // Tracking enables presence for this client too; it needs the state before any diff.
        member.presenceEnabled = true
        this.services.presence.sendState(member)
      }
      this.services.presence.track(member, (payload.payload ?? {}) as Record<string, unknown>)
      return ok()
    }
    if (payload.event === 'untrack') {
      this.services.presence.untrack(member)
      return ok()
    }
    this.sendFrame(errorReply(frame, `unknown presence event ${JSON.stringify(payload.event)}: use track or untrack`))
  }

  private broadcast(member: ChannelMember, frame: Frame): void {
    const payload = isRecord(frame.payload) ? frame.payload : undefined
    if (!payload || typeof payload.event !== 'string') {
      return this.sendFrame(errorReply(frame, 'broadcast needs {type: "broadcast", event, payload}'))
    }
    const text = encodeFrame({ joinRef: null, ref: null, topic: member.topic, event: 'broadcast', payload: { type: 'broadcast', event: payload.event, payload: payload.payload } })
    for (const other of this.services.channels.members(member.topic)) {
      if (other === member && !member.broadcastSelf) continue
      other.send(text)
    }
    if (member.broadcastAck) {
      this.sendFrame({ joinRef: frame.joinRef, ref: frame.ref, topic: frame.topic, event: 'phx_reply', payload: { status: 'ok', response: {} } })
    }
  }
}
