import type { SupabaseClient } from '@supabase/supabase-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signJwt } from '../../../src/gateway/jwt.ts'
import { BACKENDS } from '../../support/databases.ts'
import { officialClient, startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { createFixtureTables } from './fixture-tables.ts'

const LIMITS = { maxRows: 5, maxWriteRows: 10, jsonBodyBytes: 4096 }

/** Errors with PostgREST's status and code, hostile input, and the gateway's limits, on both backends. */
describe.each(BACKENDS)('REST errors, injection and limits (%s)', (backend) => {
  let gw: TestGateway
  let anon: SupabaseClient
  let service: SupabaseClient
  const rest = (pathAndQuery: string, init: RequestInit = {}) =>
    fetch(`${gw.url}/rest/v1${pathAndQuery}`, { ...init, headers: { apikey: gw.keys.anonKey, ...init.headers } })

  beforeAll(async () => {
    gw = await startTestGateway(backend, { limits: LIMITS })
    await createFixtureTables(gw.db)
    anon = gw.anonClient()
    service = gw.serviceClient()
  })
  afterAll(() => gw?.close())

  describe('schema cache', () => {
    it('answers 404 PGRST205 for a missing table, with a suggestion', async () => {
      const { error, status } = await anon.from('todo').select()
      expect(status).toBe(404)
      expect(error).toMatchObject({ code: 'PGRST205', message: "Could not find the table 'public.todo' in the schema cache", hint: "Perhaps you meant the table 'public.todos'" })
    })

    it('finds a table created after the gateway started', async () => {
      await gw.db.exec(`create table public.late (id integer primary key); grant select on public.late to anon; insert into public.late values (7);`)
      const { data, error } = await anon.from('late').select()
      expect(error).toBeNull()
      expect(data).toEqual([{ id: 7 }])
    })

    it('keeps serving a table that gains a column (statements stay prepared on the server)', async () => {
      await gw.db.exec(`create table public.growing (id integer primary key); grant select on public.growing to anon; insert into public.growing values (1);`)
      for (let i = 0; i < 3; i++) expect((await anon.from('growing').select('*')).data).toEqual([{ id: 1 }])
      await gw.db.exec(`alter table public.growing add column label text not null default 'new'`)
      const { data, error } = await anon.from('growing').select('*')
      expect(error).toBeNull()
      expect(data).toEqual([{ id: 1, label: 'new' }])
    })

    it("reloads on NOTIFY pgrst, 'reload schema' when a known function changes its result", async () => {
      await gw.db.exec(`create function public.version_of_api() returns integer language sql as 'select 1';
        grant execute on function public.version_of_api() to anon;`)
      expect((await anon.rpc('version_of_api')).data).toBe(1)
      await gw.db.exec(`drop function public.version_of_api();
        create function public.version_of_api() returns table (major integer) language sql as 'select 2';
        grant execute on function public.version_of_api() to anon;
        notify pgrst, 'reload schema';`)
      await expect.poll(async () => (await anon.rpc('version_of_api')).data).toEqual([{ major: 2 }])
    })

    it('answers 400 42703 for an unknown column in select, filter or order, and PGRST204 in a body', async () => {
      for (const query of [anon.from('todos').select('nope'), anon.from('todos').select().eq('nope', 1), anon.from('todos').select().order('nope')]) {
        const { error, status } = await query
        expect(status).toBe(400)
        expect(error).toMatchObject({ code: '42703', message: 'column todos.nope does not exist' })
      }
      const insert = await service.from('todos').insert({ title: 'x', nope: 1 })
      expect(insert.status).toBe(400)
      expect(insert.error).toMatchObject({ code: 'PGRST204', message: "Could not find the 'nope' column of 'todos' in the schema cache" })
    })

    it('answers 400 PGRST200 for an unknown relationship and 404 PGRST202 for an unknown function', async () => {
      const embed = await anon.from('todos').select('id, nothing(*)')
      expect(embed.status).toBe(400)
      expect(embed.error).toMatchObject({ code: 'PGRST200', message: "Could not find a relationship between 'todos' and 'nothing' in the schema cache" })
      const rpc = await anon.rpc('no_such_function', { a: 1 })
      expect(rpc.status).toBe(404)
      expect(rpc.error).toMatchObject({ code: 'PGRST202', message: 'Could not find the function public.no_such_function(a) in the schema cache' })
      const wrongArgs = await anon.rpc('add_numbers', { x: 1 })
      expect(wrongArgs.status).toBe(404)
      expect(wrongArgs.error!.hint).toContain('public.add_numbers(a, b)')
    })

    it('refuses schemas other than public with 406 PGRST106', async () => {
      const { error, status } = await anon.schema('auth').from('users').select()
      expect(status).toBe(406)
      expect(error!.code).toBe('PGRST106')
    })
  })

  describe('database errors', () => {
    it('answers a duplicate key with 409 23505', async () => {
      const { error, status } = await service.from('profiles').insert({ id: 1, name: 'again' })
      expect(status).toBe(409)
      expect(error).toMatchObject({ code: '23505', details: 'Key (id)=(1) already exists.' })
    })

    it('answers a foreign key violation with 409 23503', async () => {
      const { error, status } = await service.from('tags').insert({ todo_id: 999, name: 'orphan' })
      expect(status).toBe(409)
      expect(error!.code).toBe('23503')
    })

    it('decides by RLS: anon denied with 401, another owner with 403, the owner allowed', async () => {
      const alice = await gw.createUser()
      const bob = await gw.createUser()
      const asAnon = await anon.from('notes').insert({ owner_id: alice.userId, body: 'sneaky' })
      expect(asAnon.status).toBe(401)
      expect(asAnon.error).toMatchObject({ code: '42501', message: 'new row violates row-level security policy for table "notes"' })
      const forged = await bob.client.from('notes').insert({ owner_id: alice.userId, body: 'forged' })
      expect(forged.status).toBe(403)
      expect(forged.error!.code).toBe('42501')
      const own = await alice.client.from('notes').insert({ body: 'mine' }).select('owner_id, body').single()
      expect(own.error).toBeNull()
      expect(own.data).toEqual({ owner_id: alice.userId, body: 'mine' })
      expect((await bob.client.from('notes').select()).data).toEqual([])
      expect((await bob.client.from('notes').update({ body: 'edited' }).eq('owner_id', alice.userId).select()).data).toEqual([])
      expect((await alice.client.from('notes').select('body')).data).toEqual([{ body: 'mine' }])
    })

    it('refuses UPDATE and DELETE without a filter (hosted Supabase runs pg-safeupdate)', async () => {
      const del = await service.from('tags').delete()
      expect(del.status).toBe(400)
      expect(del.error).toMatchObject({ code: '21000', message: 'DELETE requires a WHERE clause' })
      expect((await service.from('tags').select('id')).data).toHaveLength(3)
    })
  })

  describe('request errors', () => {
    it('answers a bad filter with 400 PGRST100', async () => {
      const unknownOperator = await anon.from('todos').select().filter('id', 'equals', 1)
      expect(unknownOperator.status).toBe(400)
      expect(unknownOperator.error!.code).toBe('PGRST100')
      for (const query of ['id=eq', 'or=(id.eq.1', 'order=id.sideways', 'limit=ten', 'select=id,(']) {
        const res = await rest(`/todos?${query}`)
        expect(res.status, query).toBe(400)
        expect(((await res.json()) as { code: string }).code, query).toBe('PGRST100')
      }
    })

    it('answers a bad JSON body with 400 PGRST102', async () => {
      const res = await rest('/todos', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"title": ' })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'PGRST102', message: 'Empty or invalid json' })
    })

    it('answers an invalid, forged or expired JWT with 401 in PostgREST shape', async () => {
      const garbage = await gw.anonClient('not-a-jwt').from('todos').select()
      expect(garbage.status).toBe(401)
      expect(garbage.error!.code).toBe('PGRST301')
      const now = Math.floor(Date.now() / 1000)
      const forged = signJwt({ role: 'service_role', exp: now + 60 }, 'another-secret-another-secret-000')
      const forgedRes = await gw.anonClient(forged).from('todos').select()
      expect(forgedRes.status).toBe(401)
      expect(forgedRes.error!.code).toBe('PGRST301')
      const expired = signJwt({ role: 'authenticated', sub: crypto.randomUUID(), exp: now - 10 }, gw.keys.jwtSecret)
      const expiredRes = await gw.anonClient(expired).from('todos').select()
      expect(expiredRes.status).toBe(401)
      expect(expiredRes.error).toMatchObject({ code: 'PGRST303', message: 'JWT expired' })
    })

    it('answers a missing or unknown API key with 401 like hosted Supabase', async () => {
      const missing = await fetch(`${gw.url}/rest/v1/todos`)
      expect(missing.status).toBe(401)
      expect(await missing.json()).toMatchObject({ message: 'No API key found in request' })
      const wrong = await officialClient(gw.url, 'not-our-key').from('todos').select()
      expect(wrong.status).toBe(401)
      expect(wrong.error!.message).toBe('Invalid API key')
    })
  })

  describe('SQL injection', () => {
    it('treats hostile filter values as data', async () => {
      const text = await anon.from('todos').select('id').eq('title', "x' or '1'='1")
      expect(text.data).toEqual([])
      const list = await anon.from('todos').select('id').in('title', ["review') or true --", 'a,b'])
      expect(list.data).toEqual([{ id: 3 }])
      const typed = await anon.from('todos').select('id').eq('id', '1; drop table public.todos')
      expect(typed.status).toBe(400)
      expect(typed.error!.code).toBe('22P02')
      const like = await anon.from('todos').select('id').like('title', "%'; delete from public.todos; --")
      expect(like.data).toEqual([])
    })

    it('rejects hostile column names, orders, casts, aliases and JSON keys', async () => {
      const hostile = [
        'select=id,(select 1)', 'select=id::text;drop table todos', 'select=id"; drop table todos; --',
        'order=id;drop table todos', 'order=(select 1)', 'id;drop table todos=eq.1', 'select=x:"id""; drop table todos; --"',
        'select=id::text or true', 'select=id::int from pg_authid cross join todos',
      ]
      for (const query of hostile) {
        const res = await rest(`/todos?${encodeURI(query)}`)
        expect([400, 404], query).toContain(res.status)
      }
      const jsonKey = await anon.from('todos').select('id').eq("meta->>'x') or (1=1", 'y')
      expect(jsonKey.status).toBe(400)
      const quotedKey = await rest(`/todos?select=id&${encodeURIComponent('meta->>"x\') or (1=1"')}=eq.y`)
      expect(quotedKey.status).toBe(200)
      expect(await quotedKey.json()).toEqual([])
      expect((await anon.from('todos').select('id', { count: 'exact', head: true })).count).toBe(4)
    })

    it('passes hostile rpc arguments as values', async () => {
      const { data } = await anon.rpc('profile_named', { p_name: "bob' or '1'='1" })
      expect(data).toMatchObject({ id: null, name: null })
      const res = await rest(`/rpc/add_numbers?a=1&b=${encodeURIComponent('1); drop table todos; --')}`)
      expect(res.status).toBe(400)
    })
  })

  describe('limits', () => {
    it('answers a JSON body over the limit with 413 PGRST413 naming the limit', async () => {
      const { error, status } = await service.from('profiles').insert({ name: 'big', bio: 'x'.repeat(5000) })
      expect(status).toBe(413)
      expect(error).toMatchObject({ code: 'PGRST413', message: 'Request body is larger than the 4096 byte limit' })
    })

    it('truncates reads at maxRows and says so in Content-Range', async () => {
      await service.from('profiles').insert(Array.from({ length: 8 }, (_, i) => ({ name: `bulk-${i}` })))
      const { data, count, status } = await anon.from('profiles').select('id', { count: 'exact' })
      expect(data).toHaveLength(5)
      expect(count).toBe(11)
      expect(status).toBe(206)
      const res = await rest('/profiles?select=id&limit=50', { headers: { Prefer: 'count=exact' } })
      expect(res.headers.get('content-range')).toBe('0-4/11')
      expect((await anon.from('profiles').select('id').limit(3)).data).toHaveLength(3)
    })

    it('refuses an insert of more than maxWriteRows rows with 400', async () => {
      const tooMany = await service.from('tags').insert(Array.from({ length: 11 }, (_, i) => ({ todo_id: 1, name: `t${i}` })))
      expect(tooMany.status).toBe(400)
      expect(tooMany.error).toMatchObject({ code: 'PGRST414' })
      expect(tooMany.error!.message).toContain('more than the 10 rows')
      const enough = await service.from('tags').insert(Array.from({ length: 10 }, (_, i) => ({ todo_id: 1, name: `t${i}` })))
      expect(enough.status).toBe(201)
    })
  })
})
