import { randomBytes } from 'node:crypto'
import { encodeFrame } from './phoenix-frames.ts'
import type { ChannelMember } from './channel-member.ts'
import type { ChannelRegistry } from './channel-registry.ts'

type Meta = Record<string, unknown> & { phx_ref: string }
type PresenceMap = Record<string, { metas: Meta[] }>

/**
 * Phoenix Presence for one gateway process: per topic, each member's tracked meta under its
 * presence key. Changes go out as `presence_diff` {joins, leaves} to the topic's members that have
 * presence enabled; a joining member gets the whole `presence_state` first (realtime-js holds
 * diffs until it has a state).
 */
export class PresenceTracker {
  private readonly tracked = new Map<string, Map<ChannelMember, Meta>>()

  constructor(private readonly channels: ChannelRegistry) {}

  state(topic: string): PresenceMap {
    const state: PresenceMap = {}
    for (const [member, meta] of this.tracked.get(topic) ?? []) {
      ;(state[member.presenceKey] ??= { metas: [] }).metas.push(meta)
    }
    return state
  }

  sendState(member: ChannelMember): void {
    member.send(encodeFrame({ joinRef: member.joinRef, ref: null, topic: member.topic, event: 'presence_state', payload: this.state(member.topic) }))
  }

  track(member: ChannelMember, payload: Record<string, unknown>): void {
    let metas = this.tracked.get(member.topic)
    if (!metas) this.tracked.set(member.topic, (metas = new Map()))
    const previous = metas.get(member)
    const meta: Meta = { ...payload, phx_ref: randomBytes(9).toString('base64url') }
    if (previous) meta.phx_ref_prev = previous.phx_ref
    metas.set(member, meta)
    this.broadcastDiff(member.topic, { [member.presenceKey]: { metas: [meta] } }, previous ? { [member.presenceKey]: { metas: [previous] } } : {})
  }

  untrack(member: ChannelMember): void {
    const metas = this.tracked.get(member.topic)
    const previous = metas?.get(member)
    if (!metas || !previous) return
    metas.delete(member)
    if (metas.size === 0) this.tracked.delete(member.topic)
    this.broadcastDiff(member.topic, {}, { [member.presenceKey]: { metas: [previous] } })
  }

  private broadcastDiff(topic: string, joins: PresenceMap, leaves: PresenceMap): void {
    for (const member of this.channels.members(topic)) {
      if (!member.presenceEnabled) continue
      member.send(encodeFrame({ joinRef: member.joinRef, ref: null, topic, event: 'presence_diff', payload: { joins, leaves } }))
    }
  }
}
