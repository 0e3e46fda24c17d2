import type { CallerIdentity } from '../identity.ts'
import type { FilterCondition } from './change-filter.ts'

/** One postgres_changes binding of a joined channel, with the id the join reply gave it. */
export interface PostgresBinding {
  id: number
  event: '*' | 'INSERT' | 'UPDATE' | 'DELETE'
  schema: string
  /** Undefined or '*': every table of the schema. */
  table?: string
  conditions: FilterCondition[]
  /** Only these columns in record/old_record (realtime-js `select`). */
  select?: string[]
}

/** A channel joined on one socket: what the server must remember to serve it. */
export interface ChannelMember {
  readonly topic: string
  readonly joinRef: string
  /** Who RLS decides for; replaced by an `access_token` push. */
  identity: CallerIdentity
  readonly bindings: PostgresBinding[]
  readonly broadcastSelf: boolean
  readonly broadcastAck: boolean
  readonly presenceKey: string
  presenceEnabled: boolean
  /** Queues a text frame on the member's socket (dropped if the socket is gone). */
  send(text: string): void
}
