import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '../../support/databases.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { settle, subscribed, waitFor } from './support.ts'

describe.each(BACKENDS)('realtime presence and broadcast (%s)', (backend) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(backend)
  })
  afterAll(() => gw?.close())

  it('presence: state on join, join/leave diffs for other clients, untrack', async () => {
    const first = gw.anonClient().channel('lobby', { config: { presence: { key: 'alice' } } })
    const firstEvents: string[] = []
    first.on('presence', { event: 'join' }, ({ key }) => firstEvents.push(`join:${key}`))
    first.on('presence', { event: 'leave' }, ({ key }) => firstEvents.push(`leave:${key}`))
    await subscribed(first)
    expect(await first.track({ status: 'online' })).toBe('ok')
    await waitFor('alice in her own state', () => 'alice' in first.presenceState())

    const second = gw.anonClient().channel('lobby', { config: { presence: { key: 'bob' } } })
    let synced = false
    second.on('presence', { event: 'sync' }, () => (synced = true))
    await subscribed(second)
    // The joiner receives the state with alice already in it.
    await waitFor('bob’s first sync', () => synced && 'alice' in second.presenceState())
    expect(second.presenceState().alice![0]).toMatchObject({ status: 'online' })
    expect(second.presenceState().alice![0]!.presence_ref).toEqual(expect.any(String))

    await second.track({ status: 'busy' })
    await waitFor('bob’s join seen by alice', () => firstEvents.includes('join:bob'))
    expect(first.presenceState().bob![0]).toMatchObject({ status: 'busy' })

    expect(await second.untrack()).toBe('ok')
    await waitFor('bob’s leave seen by alice', () => firstEvents.includes('leave:bob'))
    expect(first.presenceState().bob).toBeUndefined()

    // Leaving the channel also untracks: bob re-tracks, then his socket's channel goes away.
    await second.track({ status: 'back' })
    await waitFor('bob back', () => 'bob' in first.presenceState())
    await second.unsubscribe()
    await waitFor('bob gone after leaving', () => !('bob' in first.presenceState()))
    expect(firstEvents.filter((e) => e === 'leave:bob')).toHaveLength(2)
  })

  it('broadcast: reaches the other client, self only when asked, ack resolves', async () => {
    const quiet = gw.anonClient().channel('room', { config: { broadcast: { self: false, ack: true } } })
    const loud = gw.anonClient().channel('room', { config: { broadcast: { self: true } } })
    const quietGot: unknown[] = []
    const loudGot: unknown[] = []
    quiet.on('broadcast', { event: 'cursor' }, (m) => quietGot.push(m.payload))
    loud.on('broadcast', { event: 'cursor' }, (m) => loudGot.push(m.payload))
    await Promise.all([subscribed(quiet), subscribed(loud)])

    // ack: true makes send() wait for the server's reply (a binary frame on the wire).
    expect(await quiet.send({ type: 'broadcast', event: 'cursor', payload: { x: 1, name: 'Zoë ✓' } })).toBe('ok')
    await waitFor('loud receives quiet’s message', () => loudGot.length === 1)
    expect(await loud.send({ type: 'broadcast', event: 'cursor', payload: { x: 2 } })).toBe('ok')
    await waitFor('both receive loud’s message', () => quietGot.length === 1 && loudGot.length === 2)
    await settle()
    expect(loudGot).toEqual([{ x: 1, name: 'Zoë ✓' }, { x: 2 }])
    expect(quietGot).toEqual([{ x: 2 }]) // self: false — its own message did not come back
  })

  it('HTTP broadcast endpoint reaches subscribers with 202; bad keys and bodies are refused', async () => {
    const listener = gw.anonClient().channel('alerts')
    const got: unknown[] = []
    listener.on('broadcast', { event: 'job-done' }, (m) => got.push(m.payload))
    await subscribed(listener)
    const post = (body: unknown, apikey = gw.keys.serviceRoleKey) =>
      fetch(`${gw.url}/realtime/v1/api/broadcast`, {
        method: 'POST',
        headers: { apikey, Authorization: `Bearer ${apikey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
    const ok = await post({ messages: [{ topic: 'alerts', event: 'job-done', payload: { job: 7 }, private: false }] })
    expect(ok.status).toBe(202)
    await waitFor('the HTTP broadcast', () => got.length === 1)
    expect(got).toEqual([{ job: 7 }])

    expect((await post({ messages: [] })).status).toBe(422)
    const bad = await post({ messages: [{ topic: 'alerts', event: 'x', payload: {} }] }, 'not-a-key')
    expect(bad.status).toBe(401)
    expect(((await bad.json()) as { message: string }).message).toMatch(/API key/)

    // realtime-js httpSend(): POST /api/broadcast/{topic}/events/{event}
    const sender = gw.anonClient().channel('alerts')
    expect(await sender.httpSend('job-done', { job: 8 })).toEqual({ success: true })
    await waitFor('the httpSend broadcast', () => got.length === 2)
    expect(got[1]).toEqual({ job: 8 })
  })

  it('answers malformed frames without dropping the socket', async () => {
    const { default: WebSocket } = await import('ws')
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${gw.keys.anonKey}&vsn=2.0.0`)
    const frames: unknown[] = []
    ws.on('message', (data) => frames.push(JSON.parse(String(data))))
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    ws.send('not json')
    ws.send(Buffer.from([9, 0, 0]))
    ws.send(JSON.stringify([null, '1', 'realtime:nowhere', 'broadcast', {}]))
    ws.send(JSON.stringify([null, '2', 'phoenix', 'heartbeat', {}]))
    await waitFor('the heartbeat reply', () => frames.some((f) => (f as unknown[])[1] === '2'))
    expect(frames).toContainEqual([null, '2', 'phoenix', 'phx_reply', { status: 'ok', response: {} }])
    expect(frames).toContainEqual([null, '1', 'realtime:nowhere', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }])
    expect(frames.filter((f) => (f as unknown[])[3] === 'phx_error')).toHaveLength(2)
    ws.close()

    const refused = new WebSocket(`${gw.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=wrong&vsn=2.0.0`)
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)))
    expect(status).toBe(403)
  })
})
