import { describe, expect, it } from 'vitest'
import type { TopologyWorker } from '../../src/feed/network-answers.ts'
import {
  DEPARTED_MEMORY_MS,
  EMPTY_PRESENCE,
  nextPresence,
  readPresenceState,
  unknownPresentWorkers,
  visibleWorkers,
} from '../../src/feed/worker-presence.ts'

const worker = (id: string, kind: 'cli' | 'browser' = 'cli'): TopologyWorker => ({ id, kind, leases_held: 0, tasks_completed: 0, reputation: 0.5 })
const present = (...ids: string[]) => ({ workers: new Set(ids), coordinator: true })

describe('worker presence', () => {
  it('reads worker ids and the coordinator from a presence state, ignoring other metas', () => {
    const state = {
      a: [{ role: 'worker' as const, worker_id: 'a', kind: 'cli' as const, started_at: 'x', presence_ref: '1' }],
      coordinator: [{ role: 'coordinator' as const, started_at: 'x' }],
      stranger: [{ hello: 'world' }],
    }
    expect(readPresenceState(state)).toEqual({ workers: new Set(['a']), coordinator: true })
    expect(readPresenceState({})).toEqual({ workers: new Set(), coordinator: false })
  })

  it('hides a worker that left presence at once, though the database still lists it', () => {
    const db = [worker('a'), worker('b'), worker('c')]
    let memory = nextPresence(EMPTY_PRESENCE, present('a', 'b'), 0)
    expect(visibleWorkers(db, memory).map((w) => w.id)).toEqual(['a', 'b', 'c']) // c never joined presence: shown from its heartbeats
    memory = nextPresence(memory, present('a'), 1_000)
    expect(visibleWorkers(db, memory).map((w) => w.id)).toEqual(['a', 'c'])
    expect(memory.departed.get('b')).toBe(1_000)
  })

  it('shows a worker again when it comes back, and forgets departures once the database has', () => {
    let memory = nextPresence(nextPresence(EMPTY_PRESENCE, present('a'), 0), present(), 1_000)
    expect(visibleWorkers([worker('a')], memory)).toEqual([])
    memory = nextPresence(memory, present('a'), 2_000)
    expect(visibleWorkers([worker('a')], memory).map((w) => w.id)).toEqual(['a'])
    memory = nextPresence(memory, present(), 3_000)
    memory = nextPresence(memory, present(), 3_000 + DEPARTED_MEMORY_MS + 1)
    expect(memory.departed.size).toBe(0)
  })

  it('never adds a worker from presence alone (anyone can track), but says which to look up', () => {
    const memory = nextPresence(EMPTY_PRESENCE, present('a', 'spoofed'), 0)
    expect(visibleWorkers([worker('a')], memory).map((w) => w.id)).toEqual(['a'])
    expect(unknownPresentWorkers([worker('a')], memory)).toEqual(['spoofed'])
  })

  it('tracks whether a coordinator is present', () => {
    expect(EMPTY_PRESENCE.coordinator).toBeNull()
    expect(nextPresence(EMPTY_PRESENCE, { workers: new Set(), coordinator: false }, 0).coordinator).toBe(false)
  })
})
