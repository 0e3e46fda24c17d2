import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js'
import {
  COORDINATOR_PRESENCE_KEY,
  joinNetworkPresence,
  NETWORK_CHANGED_EVENT,
  NETWORK_CHANNEL,
  type NetworkChangedPayload,
  type PresenceHandle,
} from '../worker-core/network-channel.ts'

/** At most 4 pulses a second: each one makes every open view re-read the topology. */
export const PULSE_MIN_INTERVAL_MS = 250
const MAX_JOBS_PER_PULSE = 50
/**
 * A leased task's row changes at its claim and at every heartbeat (lease_expires_at, every
 * 15 s per worker). Only the claim changes the topology: its leased_at is "now". 10 s of
 * tolerance for the clocks of the database and the coordinator; a heartbeat within 10 s of its
 * claim only costs one extra pulse.
 */
const CLAIM_RECENCY_MS = 10_000

export interface NetworkPulse {
  /** A change the coordinator saw on `table` (the row as Realtime delivered it). */
  note(table: 'jobs' | 'tasks', row: Record<string, unknown> | undefined): void
  stop(): Promise<void>
}

/**
 * Whether a changed tasks row changes what the network views show: a claim, a completion, a
 * failure, a requeue or a cancellation does; a heartbeat renewing a lease does not.
 */
export function isTopologyChange(task: Record<string, unknown>, nowMs: number): boolean {
  if (task.status !== 'leased') return true
  const leasedAt = typeof task.leased_at === 'string' ? Date.parse(task.leased_at) : Number.NaN
  return !Number.isFinite(leasedAt) || Math.abs(nowMs - leasedAt) <= CLAIM_RECENCY_MS
}

/**
 * The coordinator's change pulse for the network views (see network-channel.ts): it collects the
 * job and task changes the coordinator already receives and broadcasts them on NETWORK_CHANNEL,
 * at most once per PULSE_MIN_INTERVAL_MS (the first at once, the rest coalesced), through
 * Realtime's HTTP broadcast (no socket join). It also tracks the coordinator's presence. Both are
 * hints: a failed broadcast is dropped, and views poll slowly as well.
 */
export function startNetworkPulse(supabase: SupabaseClient, options: { minIntervalMs?: number } = {}): NetworkPulse {
  const minIntervalMs = options.minIntervalMs ?? PULSE_MIN_INTERVAL_MS
  const channel: RealtimeChannel = supabase.channel(NETWORK_CHANNEL)
  const presence: PresenceHandle = joinNetworkPresence(supabase, COORDINATOR_PRESENCE_KEY, {
    role: 'coordinator',
    started_at: new Date().toISOString(),
  })
  const jobs = new Set<string>()
  const tables = new Set<'jobs' | 'tasks'>()
  let lastSentAt = 0
  let timer: ReturnType<typeof setTimeout> | null = null
  let sending: Promise<void> | null = null
  let stopped = false

  function schedule(): void {
    if (timer || sending || stopped) return
    const wait = Math.max(0, lastSentAt + minIntervalMs - Date.now())
    timer = setTimeout(() => {
      timer = null
      sending = send().finally(() => {
        sending = null
        if (tables.size > 0) schedule() // changes that came in while sending
      })
    }, wait)
  }

  async function send(): Promise<void> {
    if (stopped || tables.size === 0) return
    const payload: NetworkChangedPayload = {
      at: new Date().toISOString(),
      jobs: [...jobs].slice(0, MAX_JOBS_PER_PULSE),
      tables: [...tables],
    }
    jobs.clear()
    tables.clear()
    lastSentAt = Date.now()
    try {
      await channel.httpSend(NETWORK_CHANGED_EVENT, payload)
    } catch {
      // views re-read at their next slow poll
    }
  }

  return {
    note(table, row) {
      if (stopped) return
      if (table === 'tasks' && row && !isTopologyChange(row, Date.now())) return
      const jobId = table === 'jobs' ? row?.id : row?.job_id
      if (typeof jobId === 'string') jobs.add(jobId)
      tables.add(table)
      schedule()
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      timer = null
      await sending
      await Promise.all([supabase.removeChannel(channel).catch(() => {}), presence.leave()])
    },
  }
}
