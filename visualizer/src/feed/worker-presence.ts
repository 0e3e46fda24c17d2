import type { NetworkPresence } from '@oblivion/node-client/network-channel'
import type { TopologyWorker } from './network-answers.ts'

/**
 * Presence on the `network-presence` channel says at once when a worker leaves; the database
 * says so only when its heartbeats are 45 s old. Anyone with the anon key may track presence,
 * so presence only ever hides a worker the database lists (one that was present and left),
 * never adds one.
 */
export interface PresenceMemory {
  /** Worker ids present in the last presence state. */
  readonly present: ReadonlySet<string>
  /** Workers seen leaving, with when (ms): hidden until they come back or the database forgets them. */
  readonly departed: ReadonlyMap<string, number>
  /** Whether a coordinator is present; null before the first presence state. */
  readonly coordinator: boolean | null
}

/** Longer than the database's 45 s: by then network_topology no longer lists the worker. */
export const DEPARTED_MEMORY_MS = 60_000

export const EMPTY_PRESENCE: PresenceMemory = { present: new Set(), departed: new Map(), coordinator: null }

/** The presence state as realtime-js gives it (presenceState()): key → metas. */
export type PresenceState = Record<string, ReadonlyArray<Partial<NetworkPresence> & Record<string, unknown>>>

/** Reads the worker ids and whether a coordinator is there from a presence state. */
export function readPresenceState(state: PresenceState): { workers: Set<string>; coordinator: boolean } {
  const workers = new Set<string>()
  let coordinator = false
  for (const metas of Object.values(state)) {
    for (const meta of metas) {
      if (meta.role === 'worker' && typeof meta.worker_id === 'string') workers.add(meta.worker_id)
      else if (meta.role === 'coordinator') coordinator = true
    }
  }
  return { workers, coordinator }
}

/** The memory after a new presence state: who left since the last one, who came back. */
export function nextPresence(
  memory: PresenceMemory,
  now: { workers: ReadonlySet<string>; coordinator: boolean },
  nowMs: number,
): PresenceMemory {
  const departed = new Map(memory.departed)
  for (const id of memory.present) if (!now.workers.has(id)) departed.set(id, nowMs)
  for (const id of now.workers) departed.delete(id)
  for (const [id, leftAt] of departed) if (nowMs - leftAt > DEPARTED_MEMORY_MS) departed.delete(id)
  return { present: new Set(now.workers), departed, coordinator: now.coordinator }
}

/** The workers to show: those the database lists, less those seen leaving. */
export function visibleWorkers(workers: readonly TopologyWorker[], memory: PresenceMemory): TopologyWorker[] {
  return memory.departed.size === 0 ? [...workers] : workers.filter((w) => !memory.departed.has(w.id))
}

/** Present workers the database does not list yet (just registered): time to re-read the topology. */
export function unknownPresentWorkers(workers: readonly TopologyWorker[], memory: PresenceMemory): string[] {
  const known = new Set(workers.map((w) => w.id))
  return [...memory.present].filter((id) => !known.has(id))
}
