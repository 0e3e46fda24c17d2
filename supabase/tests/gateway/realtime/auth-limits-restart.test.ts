import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signJwt } from '../../../src/gateway/jwt.ts'
import { BACKENDS } from '../../support/databases.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { createOwnedTable, listen, settle, subscribed, waitFor } from './support.ts'

const titles = (changes: unknown[]) => changes.map((c) => (c as { new: { title: string } }).new.title)

describe.each(BACKENDS)('realtime tokens, limits and restarts (%s)', (backend) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(backend, { limits: { channelsPerSocket: 3 } })
    await createOwnedTable(gw.db, 'rt_tokens')
  })
  afterAll(() => gw?.close())

  const token = (sub: string, expiresIn: number) => {
    const now = Math.floor(Date.now() / 1000)
    return signJwt({ sub, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + expiresIn }, gw.keys.jwtSecret)
  }
  /** A page's client whose session token the test can swap, as supabase-js does on refresh. */
  const clientWithToken = (initial: string) => {
    const state = { token: initial }
    const client = createClient(gw.url, gw.keys.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: WebSocket as never },
      accessToken: async () => state.token,
    })
    return { client, state }
  }

  it('setAuth with a new token switches the identity RLS decides for', async () => {
    const a = await gw.createUser()
    const b = await gw.createUser()
    const { client, state } = clientWithToken(a.accessToken)
    const { changes } = await listen(client, 'tokens-switch', { event: 'INSERT', table: 'rt_tokens' })
    await gw.db.query(`insert into public.rt_tokens (owner_id, title) values ($1::uuid, 'a-1')`, [a.userId])
    await waitFor('a-1', () => changes.length === 1)

    state.token = token(b.userId, 600)
    await client.realtime.setAuth(state.token)
    await settle(200)
    await gw.db.query(`insert into public.rt_tokens (owner_id, title) values ($1::uuid, 'a-2'), ($2::uuid, 'b-1')`, [a.userId, b.userId])
    await waitFor('b-1', () => changes.length === 2)
    await settle()
    expect(titles(changes)).toEqual(['a-1', 'b-1'])
  })

  it('refuses a join with an expired token, and closes a channel refreshed with one', async () => {
    const a = await gw.createUser()
    const expired = clientWithToken(token(a.userId, -30)).client
    await settle(0) // let supabase-js apply the accessToken option before the join is built
    const refused = await new Promise<string>((resolve) =>
      expired.channel('tokens-expired').subscribe((status, error) => resolve(`${status}: ${error?.message}`)),
    )
    expect(refused).toMatch(/^CHANNEL_ERROR: InvalidJWTToken: Token has expired \d+ seconds ago/)
    await expired.removeAllChannels()

    const { client, state } = clientWithToken(a.accessToken)
    await settle(0)
    const statuses: string[] = []
    const system: Array<{ status: string; message: string }> = []
    const channel = client.channel('tokens-refresh').on('system', {}, (m) => system.push(m))
    await new Promise<void>((resolve) =>
      channel.subscribe((status) => {
        statuses.push(status)
        if (status === 'SUBSCRIBED') resolve()
      }),
    )
    state.token = token(a.userId, -5)
    await client.realtime.setAuth(state.token)
    await waitFor('the channel to close', () => statuses.includes('CLOSED'))
    expect(system).toContainEqual(expect.objectContaining({ status: 'error', message: expect.stringMatching(/Token has expired/) }))
  })

  it('refuses joins beyond channelsPerSocket with a clear reason', async () => {
    const client = gw.anonClient()
    for (let i = 0; i < 3; i++) await subscribed(client.channel(`limit-${i}`))
    const fourth = await new Promise<string>((resolve) =>
      client.channel('limit-3').subscribe((status, error) => resolve(`${status}: ${error?.message}`)),
    )
    expect(fourth).toMatch(/^CHANNEL_ERROR: ChannelRateLimitReached: Too many channels/)
    await client.removeAllChannels()
  })

  it('subscribers reconnect after a gateway restart and get what was committed while they were away', async () => {
    const a = await gw.createUser()
    const { channel, changes } = await listen(a.client, 'tokens-restart', { event: 'INSERT', table: 'rt_tokens' })
    await gw.db.query(`insert into public.rt_tokens (owner_id, title) values ($1::uuid, 'before')`, [a.userId])
    await waitFor('before', () => changes.length === 1)

    await gw.restart()
    // Committed after the new gateway started, before the client's backoff reconnected it.
    await gw.db.query(`insert into public.rt_tokens (owner_id, title) values ($1::uuid, 'gap')`, [a.userId])
    await waitFor('the channel to rejoin and resume', () => changes.length === 2, 20_000)
    expect(channel.state).toBe('joined')
    await gw.db.query(`insert into public.rt_tokens (owner_id, title) values ($1::uuid, 'after')`, [a.userId])
    await waitFor('after', () => changes.length === 3)
    await settle()
    expect(titles(changes)).toEqual(['before', 'gap', 'after'])
  })
})
