import type { RealtimeChannel } from '@supabase/supabase-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../../../supabase/tests/gateway/support/test-gateway.ts'
import { isTopologyChange, startNetworkPulse } from '../../src/coordinator/network-pulse.ts'
import {
  NETWORK_CHANGED_EVENT,
  NETWORK_CHANNEL,
  NETWORK_PRESENCE_CHANNEL,
  type NetworkChangedPayload,
} from '../../src/worker-core/network-channel.ts'
import { startWorker } from '../../src/worker-core/worker-loop.ts'
import type { WorkerEvent } from '../../src/worker-core/worker-events.ts'

/**
 * The live signals the network views listen to (visualizer/, web/'s Network page): workers and
 * the coordinator in presence on `network-presence`, the coordinator's throttled `changed` pulse
 * on `network`. Through a real gateway, as an anon viewer sees them.
 */
async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function subscribed(channel: RealtimeChannel): Promise<void> {
  return new Promise((resolve, reject) =>
    channel.subscribe((status) => (status === 'SUBSCRIBED' ? resolve() : reject(new Error(`${channel.topic}: ${status}`)))),
  )
}

describe('isTopologyChange', () => {
  const now = Date.parse('2026-11-22T12:00:00Z')
  it('counts claims, completions, failures and requeues, not lease renewals', () => {
    expect(isTopologyChange({ status: 'leased', leased_at: '2026-11-22T11:59:59Z' }, now)).toBe(true) // a claim
    expect(isTopologyChange({ status: 'leased', leased_at: '2026-11-22T11:59:30Z' }, now)).toBe(false) // a heartbeat
    for (const status of ['completed', 'failed', 'queued', 'cancelled']) {
      expect(isTopologyChange({ status, leased_at: '2026-11-22T11:00:00Z' }, now)).toBe(true)
    }
    expect(isTopologyChange({ status: 'leased' }, now)).toBe(true) // unknown: better one pulse too many
  })
})

describe('the network channels, as an anon viewer sees them', () => {
  let gw: TestGateway
  let presence: RealtimeChannel
  let pulses: NetworkChangedPayload[]
  const present = () => Object.values(presence.presenceState()).flat() as unknown as Array<Record<string, unknown>>

  beforeAll(async () => {
    gw = await startTestGateway('pglite')
    const viewer = gw.anonClient()
    pulses = []
    const network = viewer.channel(NETWORK_CHANNEL).on('broadcast', { event: NETWORK_CHANGED_EVENT }, (m) => pulses.push(m.payload as NetworkChangedPayload))
    presence = viewer.channel(NETWORK_PRESENCE_CHANNEL).on('presence', { event: 'sync' }, () => {})
    await Promise.all([subscribed(network), subscribed(presence)])
  })
  afterAll(() => gw?.close())

  it('the coordinator pulses at most once per interval with the jobs that changed, and is present until it stops', async () => {
    const pulse = startNetworkPulse(gw.serviceClient(), { minIntervalMs: 400 })
    await waitFor('the coordinator in presence', () => present().some((p) => p.role === 'coordinator'))
    pulse.note('jobs', { id: 'job-a' })
    await waitFor('the first pulse', () => pulses.length === 1)
    expect(pulses[0]).toMatchObject({ jobs: ['job-a'], tables: ['jobs'] })
    // Changes within the interval are coalesced into one pulse; a lease renewal is no change.
    pulse.note('tasks', { job_id: 'job-b', status: 'completed' })
    pulse.note('tasks', { job_id: 'job-c', status: 'leased', leased_at: new Date(Date.now() - 60_000).toISOString() })
    pulse.note('tasks', { job_id: 'job-a', status: 'leased', leased_at: new Date().toISOString() })
    await waitFor('the second pulse', () => pulses.length === 2)
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(pulses).toHaveLength(2)
    expect(pulses[1]!.jobs.sort()).toEqual(['job-a', 'job-b'])
    expect(pulses[1]!.tables).toEqual(['tasks'])
    expect(Date.parse(pulses[1]!.at) - Date.parse(pulses[0]!.at)).toBeGreaterThanOrEqual(350)
    await pulse.stop()
    await waitFor('the coordinator gone from presence', () => !present().some((p) => p.role === 'coordinator'))
  })

  it('a worker is present under its id with its kind only (no name) while it runs, and leaves when it stops', async () => {
    const client = gw.anonClient()
    const { error } = await client.auth.signInAnonymously()
    expect(error).toBeNull()
    const events: WorkerEvent[] = []
    const worker = await startWorker({
      supabase: client,
      name: 'secret-laptop-name',
      kind: 'cli',
      maxConcurrency: 1,
      leaseSeconds: 60,
      pollIntervalMs: 60_000,
      backend: 'cpu',
      onEvent: (event) => events.push(event),
    })
    await waitFor('the worker in presence', () => worker.workerId in presence.presenceState())
    const [meta] = presence.presenceState()[worker.workerId]!
    expect(meta).toMatchObject({ role: 'worker', worker_id: worker.workerId, kind: 'cli', started_at: expect.any(String) })
    expect(JSON.stringify(presence.presenceState())).not.toContain('secret-laptop-name')
    await worker.drain()
    await waitFor('the worker gone from presence', () => !(worker.workerId in presence.presenceState()))
    expect(events.filter((e) => e.type === 'warning')).toEqual([])
  })
})
