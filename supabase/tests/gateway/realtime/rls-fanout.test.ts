import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '../../support/databases.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { createOwnedTable, listen, settle, waitFor, type Change } from './support.ts'

const titlesOf = (changes: Change[]) => changes.map((c: any) => `${c.eventType}:${(c.new.title ?? c.old.id) as string}`)

describe.each(BACKENDS)('realtime RLS and fan-out (%s)', (backend) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(backend)
    await createOwnedTable(gw.db, 'rt_items')
  })
  afterAll(() => gw?.close())

  it('never sends user A the INSERT, UPDATE or DELETE of user B’s rows', async () => {
    const a = await gw.createUser()
    const b = await gw.createUser()
    const seenByA = await listen(a.client, 'items-a', { event: '*', table: 'rt_items' })
    const seenByB = await listen(b.client, 'items-b', { event: '*', table: 'rt_items' })
    const { rows } = await gw.db.query<{ id: number }>(
      `insert into public.rt_items (owner_id, title) values ($1::uuid, 'b-secret') returning id`,
      [b.userId],
    )
    await waitFor('B’s insert', () => seenByB.changes.length === 1)
    await gw.db.query(`update public.rt_items set title = 'b-secret-2' where id = $1`, [rows[0]!.id])
    await waitFor('B’s update', () => seenByB.changes.length === 2)
    await gw.db.query(`delete from public.rt_items where id = $1`, [rows[0]!.id])
    await waitFor('B’s delete', () => seenByB.changes.length === 3)
    // A marker of A's own, committed after B's changes: once it arrived, B's would have too.
    await gw.db.query(`insert into public.rt_items (owner_id, title) values ($1::uuid, 'a-marker')`, [a.userId])
    await waitFor('A’s marker', () => seenByA.changes.length >= 1)
    await settle()
    expect(titlesOf(seenByA.changes)).toEqual(['INSERT:a-marker'])
    expect(titlesOf(seenByB.changes)).toEqual(['INSERT:b-secret', 'UPDATE:b-secret-2', `DELETE:${rows[0]!.id}`])
    expect(JSON.stringify(seenByA.changes)).not.toContain('b-secret')
  })

  it('judges each change on its own row version: a row handed from B to A does not show A what B had', async () => {
    const a = await gw.createUser()
    const b = await gw.createUser()
    // Even under REPLICA IDENTITY FULL the old row stays out of the UPDATE A gets (the table has RLS).
    await gw.db.exec('alter table public.rt_items replica identity full')
    const seenByA = await listen(a.client, 'handover-a', { event: '*', table: 'rt_items' })
    const seenByB = await listen(b.client, 'handover-b', { event: '*', table: 'rt_items' })
    // One transaction: B's private version, then the same row given to A under a new title.
    await gw.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number }>(
        `insert into public.rt_items (owner_id, title) values ($1::uuid, 'b-private') returning id`, [b.userId])
      await tx.query(`update public.rt_items set owner_id = $1::uuid, title = 'now-a' where id = $2`, [a.userId, rows[0]!.id])
    })
    await waitFor('A’s update', () => seenByA.changes.length >= 1)
    await waitFor('B’s insert', () => seenByB.changes.length >= 1)
    await settle()
    expect(titlesOf(seenByA.changes)).toEqual(['UPDATE:now-a'])
    expect(titlesOf(seenByB.changes)).toEqual(['INSERT:b-private'])
    expect(JSON.stringify(seenByA.changes)).not.toContain('b-private')
    await gw.db.exec('alter table public.rt_items replica identity default')
  })

  it('anon sees nothing of a table it has no grant on, the service role sees everything', async () => {
    const a = await gw.createUser()
    const anon = await listen(gw.anonClient(), 'items-anon', { event: '*', table: 'rt_items' })
    const service = await listen(gw.serviceClient(), 'items-service', { event: 'INSERT', table: 'rt_items' })
    await gw.db.query(`insert into public.rt_items (owner_id, title) values ($1::uuid, 'for-service')`, [a.userId])
    await waitFor('the service role’s copy', () => service.changes.length === 1)
    await settle()
    expect(titlesOf(service.changes)).toEqual(['INSERT:for-service'])
    expect(anon.changes).toEqual([])
  })

  it('100 subscribers on their own sockets each get exactly their permitted changes, once, in commit order', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => gw.createUser()))
    // 10 sockets per user; each client is its own WebSocket.
    const listeners = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const user = users[i % users.length]!
        return { user, ...(await listen(gw.anonClient(user.accessToken), `fanout-ok-${i}`, { event: 'INSERT', table: 'rt_items' })) }
      }),
    )
    // 50 rows in 5 transactions; row k belongs to user k % 7 (users 7–9 get none).
    const expected = new Map<string, string[]>(users.map((u) => [u.userId, []]))
    for (let t = 0; t < 5; t++) {
      await gw.db.transaction(async (tx) => {
        for (let r = 0; r < 10; r++) {
          const k = t * 10 + r
          const owner = users[k % 7]!
          await tx.query(`insert into public.rt_items (owner_id, title) values ($1::uuid, $2::text)`, [owner.userId, `row-${k}`])
          expected.get(owner.userId)!.push(`INSERT:row-${k}`)
        }
      })
    }
    await waitFor('every permitted change', () =>
      listeners.every((l) => l.changes.length >= expected.get(l.user.userId)!.length),
    20_000).catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(listeners.slice(0, 10).map((l) => [expected.get(l.user.userId)!.length, titlesOf(l.changes)]))}`)
    })
    await settle(500)
    for (const l of listeners) expect(titlesOf(l.changes)).toEqual(expected.get(l.user.userId))
    await Promise.all(listeners.map((l) => l.channel.unsubscribe()))
  })
})
