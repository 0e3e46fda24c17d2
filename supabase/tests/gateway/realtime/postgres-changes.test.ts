import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '../../support/databases.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { createOwnedTable, listen, settle, waitFor } from './support.ts'

describe.each(BACKENDS)('realtime postgres_changes (%s)', (backend) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(backend)
    // Created after the gateway started: the join installs the capture trigger.
    await createOwnedTable(gw.db, 'rt_notes')
  })
  afterAll(() => gw?.close())

  it('delivers INSERT, UPDATE and DELETE of the subscriber’s own rows with columns and commit_timestamp', async () => {
    const alice = await gw.createUser()
    const { changes } = await listen(alice.client, 'notes-all', { event: '*', table: 'rt_notes' })
    const before = Date.now()
    const { rows } = await gw.db.query<{ id: number }>(
      `insert into public.rt_notes (owner_id, title, tags) values ($1::uuid, 'first', '{a,b}') returning id`,
      [alice.userId],
    )
    const id = rows[0]!.id
    // One change at a time: a row already gone when its INSERT is checked is not sent (RLS is
    // decided on the live row, as hosted Supabase does).
    await waitFor('the insert', () => changes.length === 1)
    await gw.db.query(`update public.rt_notes set score = 5 where id = $1`, [id])
    await waitFor('the update', () => changes.length === 2)
    await gw.db.query(`delete from public.rt_notes where id = $1`, [id])
    await waitFor('the delete', () => changes.length === 3)

    const [insert, update, remove] = changes as [any, any, any]
    expect(insert).toMatchObject({
      schema: 'public',
      table: 'rt_notes',
      eventType: 'INSERT',
      new: { id, owner_id: alice.userId, title: 'first', score: 0, tags: ['a', 'b'] },
      old: {},
      errors: null,
    })
    expect(update).toMatchObject({ eventType: 'UPDATE', new: { id, score: 5 }, old: { id } })
    // Not REPLICA IDENTITY FULL: the old row shows only its primary key, as on hosted Supabase.
    expect(Object.keys(update.old)).toEqual(['id'])
    expect(remove).toMatchObject({ eventType: 'DELETE', new: {}, old: { id } })
    expect(Object.keys(remove.old)).toEqual(['id'])
    const stamp = Date.parse(insert.commit_timestamp)
    expect(insert.commit_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(stamp).toBeGreaterThanOrEqual(before - 1000)
    expect(stamp).toBeLessThanOrEqual(Date.now())
  })

  it('sends each event kind only to bindings for it, and honours eq / in / gt filters', async () => {
    const bob = await gw.createUser()
    const inserts = await listen(bob.client, 'notes-inserts', { event: 'INSERT', table: 'rt_notes' })
    const titled = await listen(bob.client, 'notes-eq', { event: '*', table: 'rt_notes', filter: 'title=eq.wanted' })
    const listed = await listen(bob.client, 'notes-in', { event: 'UPDATE', table: 'rt_notes', filter: 'score=in.(2,3)' })
    const high = await listen(bob.client, 'notes-gt', { event: 'INSERT', table: 'rt_notes', filter: 'score=gt.10' })
    await gw.db.query(
      `insert into public.rt_notes (owner_id, title, score) values ($1::uuid, 'wanted', 1), ($1::uuid, 'other', 11)`,
      [bob.userId],
    )
    await gw.db.query(`update public.rt_notes set score = 3 where owner_id = $1::uuid and title = 'other'`, [bob.userId])
    await gw.db.query(`update public.rt_notes set score = 9 where owner_id = $1::uuid and title = 'wanted'`, [bob.userId])
    await waitFor('filtered changes', () => inserts.changes.length === 2 && titled.changes.length === 2 && listed.changes.length === 1 && high.changes.length === 1)
    await settle()
    expect(inserts.changes.map((c: any) => c.new.title)).toEqual(['wanted', 'other'])
    expect(titled.changes.map((c) => c.eventType)).toEqual(['INSERT', 'UPDATE'])
    expect(listed.changes.map((c: any) => [c.new.title, c.new.score])).toEqual([['other', 3]])
    expect(high.changes.map((c: any) => c.new.title)).toEqual(['other'])
  })

  it('reports a table that is not published instead of failing silently', async () => {
    const carol = await gw.createUser()
    const { system } = await listen(carol.client, 'notes-missing', { event: '*', table: 'no_such_table' })
    expect(system.find((s) => s.extension === 'postgres_changes')).toMatchObject({ status: 'error' })
    expect(system[0]!.message).toMatch(/no_such_table does not exist/)
  })

  it('delivers changes on Oblivion’s tables: a user sees their own worker registered through rpc', async () => {
    const dave = await gw.createUser()
    const eve = await gw.createUser()
    const mine = await listen(dave.client, 'my-workers', { event: '*', table: 'workers' })
    const theirs = await listen(eve.client, 'eve-workers', { event: '*', table: 'workers' })
    const { error } = await dave.client.rpc('register_worker', { p_name: 'laptop-1', p_kind: 'cli', p_capabilities: { cores: 2 } })
    if (error) {
      // REST not ready in this checkout: register through the database as the user would.
      await gw.db.transaction(async (tx) => {
        await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1::text, true)`, [
          JSON.stringify({ sub: dave.userId, role: 'authenticated' }),
        ])
        await tx.query(`select public.register_worker('laptop-1', 'cli', '{"cores":2}'::jsonb)`)
      })
    }
    await waitFor('the worker insert', () => mine.changes.length >= 1)
    await settle()
    expect(mine.changes[0]).toMatchObject({ table: 'workers', eventType: 'INSERT', new: { owner_id: dave.userId, name: 'laptop-1', kind: 'cli' } })
    expect(theirs.changes).toEqual([])
  })
})
