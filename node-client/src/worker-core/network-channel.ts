import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js'

/**
 * The live network views (visualizer/, web/'s Network page) read network_topology() and
 * network_stats(), which anyone may call. Two public Realtime channels tell them when to:
 *
 * - NETWORK_PRESENCE_CHANNEL: workers and the coordinator track their presence (key: the worker's
 *   id, or "coordinator"), so a view sees a worker leave at once instead of 45 s later, when its
 *   heartbeats stop counting. Only pseudonymous ids and the kind: names stay private.
 * - NETWORK_CHANNEL: the coordinator broadcasts NETWORK_CHANGED_EVENT (at most 4 a second) when
 *   jobs or task leases change, so views re-read the topology instead of polling it.
 *
 * Both are hints, as the work channel is: views still poll slowly, and a worker that is not
 * present is shown from its heartbeats. Anyone holding the anon key can join these channels, so
 * a view trusts presence only to hide a worker the database lists, never to add one.
 *
 * Two channels, not one: a client that tracks presence receives every presence change on its
 * channel, and every broadcast; workers need neither the pulses (up to 4 a second each) nor
 * anyone else's presence, so the pulses go where only the views listen.
 */
export const NETWORK_CHANNEL = 'network'
export const NETWORK_CHANGED_EVENT = 'changed'
export const NETWORK_PRESENCE_CHANNEL = 'network-presence'
/** The presence key the coordinator tracks under (workers use their id). */
export const COORDINATOR_PRESENCE_KEY = 'coordinator'

export interface NetworkChangedPayload {
  /** When the coordinator saw the changes (ISO 8601). */
  at: string
  /** The jobs whose row or tasks changed since the last pulse (at most 50; more are cut). */
  jobs: string[]
  /** Which tables changed. */
  tables: Array<'jobs' | 'tasks'>
}

export type NetworkPresence =
  | { role: 'worker'; worker_id: string; kind: 'cli' | 'browser'; started_at: string }
  | { role: 'coordinator'; started_at: string }

export interface PresenceHandle {
  leave(): Promise<void>
}

/**
 * Joins the presence channel and tracks `presence` under `key`, again after every rejoin (a
 * reconnect loses it). A failure is reported once through `onTrouble` and retried by
 * realtime-js: presence is a hint, never a reason to stop working.
 */
export function joinNetworkPresence(
  supabase: SupabaseClient,
  key: string,
  presence: NetworkPresence,
  onTrouble?: (message: string) => void,
): PresenceHandle {
  let reported = false
  const channel: RealtimeChannel = supabase.channel(NETWORK_PRESENCE_CHANNEL, { config: { presence: { key } } })
  channel.subscribe((status, error) => {
    if (status === 'SUBSCRIBED') {
      void channel.track(presence).catch(() => {})
    } else if ((status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') && !reported) {
      reported = true
      onTrouble?.(
        `could not join the network presence channel (${error?.message ?? status.toLowerCase()}): ` +
          'the network views will show this process from its heartbeats only; retrying in the background',
      )
    }
  })
  return {
    async leave() {
      await channel.untrack().catch(() => {})
      await supabase.removeChannel(channel).catch(() => {})
    },
  }
}
