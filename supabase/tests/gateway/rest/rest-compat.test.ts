import type { SupabaseClient } from '@supabase/supabase-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '../../support/databases.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { createFixtureTables } from './fixture-tables.ts'

/** Every supabase-js builder method against expected rows, on both backends. */
describe.each(BACKENDS)('REST compatibility (%s)', (backend) => {
  let gw: TestGateway
  let anon: SupabaseClient
  let service: SupabaseClient
  beforeAll(async () => {
    gw = await startTestGateway(backend)
    await createFixtureTables(gw.db)
    anon = gw.anonClient()
    service = gw.serviceClient()
  })
  afterAll(() => gw?.close())

  describe('select', () => {
    it('returns every column with PostgREST types: int8 and numeric as numbers, jsonb nested, arrays, nulls', async () => {
      const { data, error, status } = await anon.from('todos').select().order('id')
      expect(error).toBeNull()
      expect(status).toBe(200)
      expect(data).toHaveLength(4)
      expect(data![0]).toEqual({
        id: 1, title: 'write tests', done: false, owner: 1, tags: ['a', 'b'], meta: { spec: { rounds: 3, name: 'x' } }, priority: 2, amount: 1.5,
      })
      expect(data![3]).toMatchObject({ id: 4, owner: null, amount: 0.25, meta: null })
    })

    it('serializes timestamptz as an ISO string with offset', async () => {
      const { data } = await anon.from('profiles').select('created_at').eq('id', 1).single()
      expect(data!.created_at).toBe('2026-01-02T03:04:05+00:00')
    })

    it('selects a column list with aliases and casts', async () => {
      const { data, error } = await anon.from('todos').select('id, heading:title, priority::text').order('id').limit(2)
      expect(error).toBeNull()
      expect(data).toEqual([{ id: 1, heading: 'write tests', priority: '2' }, { id: 2, heading: 'ship it', priority: '1' }])
    })

    it('reads JSON paths with -> and ->> in select and filter', async () => {
      const { data, error } = await anon.from('todos').select('id, rounds:meta->spec->>rounds, spec:meta->spec').eq('meta->spec->>rounds', '7')
      expect(error).toBeNull()
      expect(data).toEqual([{ id: 3, rounds: '7', spec: { rounds: 7 } }])
      const { data: named } = await anon.from('todos').select('meta->spec->name').eq('id', 1)
      expect(named).toEqual([{ name: 'x' }])
    })
  })

  describe('filters', () => {
    const selectIds = () => anon.from('todos').select('id').order('id')
    const ids = async (build: (q: ReturnType<typeof selectIds>) => PromiseLike<{ data: unknown; error: unknown }>) => {
      const { data, error } = await build(selectIds())
      expect(error).toBeNull()
      return (data as Array<{ id: number }>).map((r) => r.id)
    }

    it('compares with eq, neq, gt, gte, lt, lte', async () => {
      expect(await ids((q) => q.eq('done', true))).toEqual([2, 4])
      expect(await ids((q) => q.neq('title', 'review'))).toEqual([1, 2, 3])
      expect(await ids((q) => q.gt('priority', 1))).toEqual([1, 4])
      expect(await ids((q) => q.gte('priority', 2))).toEqual([1, 4])
      expect(await ids((q) => q.lt('amount', 1))).toEqual([4])
      expect(await ids((q) => q.lte('id', 2))).toEqual([1, 2])
    })

    it('matches patterns with like and ilike (% and * wildcards)', async () => {
      expect(await ids((q) => q.like('title', '%it%'))).toEqual([1, 2])
      expect(await ids((q) => q.like('title', '% it'))).toEqual([2])
      expect(await ids((q) => q.ilike('title', 'WRITE*'))).toEqual([1])
    })

    it('tests null and booleans with is', async () => {
      expect(await ids((q) => q.is('owner', null))).toEqual([4])
      expect(await ids((q) => q.is('done', false))).toEqual([1, 3])
      expect(await ids((q) => q.not('priority', 'is', null))).toEqual([1, 2, 4])
    })

    it('matches lists with in, including values with commas and quotes', async () => {
      expect(await ids((q) => q.in('id', [1, 3, 99]))).toEqual([1, 3])
      expect(await ids((q) => q.in('title', ['a,b', 'review']))).toEqual([3, 4])
      expect(await ids((q) => q.in('id', []))).toEqual([])
      expect(await ids((q) => q.not('id', 'in', '(1,2)'))).toEqual([3, 4])
    })

    it('compares arrays and jsonb with cs, cd and ov', async () => {
      expect(await ids((q) => q.contains('tags', ['b']))).toEqual([1, 2])
      expect(await ids((q) => q.containedBy('tags', ['a', 'b']))).toEqual([1, 2, 3])
      expect(await ids((q) => q.overlaps('tags', ['a', 'c']))).toEqual([1, 4])
      expect(await ids((q) => q.contains('meta', { spec: { rounds: 3 } }))).toEqual([1])
    })

    it('negates with not and combines with or, nested and, and not.or', async () => {
      expect(await ids((q) => q.not('title', 'eq', 'review'))).toEqual([1, 2, 3])
      expect(await ids((q) => q.or('id.eq.1,and(done.is.true,priority.gt.2)'))).toEqual([1, 4])
      expect(await ids((q) => q.or('title.eq."a,b",title.eq.review'))).toEqual([3, 4])
      expect(await ids((q) => q.eq('done', false).or('priority.is.null,priority.gt.1'))).toEqual([1, 3])
      expect(await ids((q) => q.match({ done: true, priority: 3 }))).toEqual([4])
      expect(await ids((q) => q.filter('id', 'in', '(2,4)'))).toEqual([2, 4])
    })

    it('negates a whole logic tree with not.or', async () => {
      const res = await fetch(`${gw.url}/rest/v1/todos?select=id&order=id&not.or=(id.eq.1,and(done.is.true,id.eq.2))`, { headers: { apikey: gw.keys.anonKey } })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual([{ id: 3 }, { id: 4 }])
    })
  })

  describe('order and paging', () => {
    it('orders by several columns with nullsfirst/nullslast', async () => {
      const desc = await anon.from('todos').select('id').order('priority', { ascending: false, nullsFirst: false })
      expect(desc.data!.map((r) => r.id)).toEqual([4, 1, 2, 3])
      const first = await anon.from('todos').select('id').order('priority', { ascending: true, nullsFirst: true })
      expect(first.data!.map((r) => r.id)).toEqual([3, 2, 1, 4])
      const two = await anon.from('todos').select('id').order('done').order('id', { ascending: false })
      expect(two.data!.map((r) => r.id)).toEqual([3, 1, 4, 2])
    })

    it('pages with limit and range', async () => {
      const limited = await anon.from('todos').select('id').order('id').limit(2)
      expect(limited.data!.map((r) => r.id)).toEqual([1, 2])
      const range = await anon.from('todos').select('id').order('id').range(1, 2)
      expect(range.data!.map((r) => r.id)).toEqual([2, 3])
    })

    it('counts exactly (planned/estimated too) with Content-Range, also on HEAD', async () => {
      const page = await anon.from('todos').select('id', { count: 'exact' }).order('id').range(0, 1)
      expect(page.count).toBe(4)
      expect(page.data).toHaveLength(2)
      expect(page.status).toBe(206)
      const head = await anon.from('todos').select('*', { count: 'exact', head: true }).eq('done', true)
      expect(head.count).toBe(2)
      expect(head.data).toBeNull()
      const planned = await anon.from('todos').select('id', { count: 'planned' })
      expect(planned.count).toBe(4)
      const raw = await fetch(`${gw.url}/rest/v1/todos?select=id&order=id&offset=1&limit=2`, {
        headers: { apikey: gw.keys.anonKey, Prefer: 'count=exact' },
      })
      expect(raw.headers.get('content-range')).toBe('1-2/4')
    })
  })

  describe('single and maybeSingle', () => {
    it('returns a bare object for exactly one row', async () => {
      const { data, error } = await anon.from('profiles').select('name').eq('id', 2).single()
      expect(error).toBeNull()
      expect(data).toEqual({ name: 'bob' })
    })

    it('answers 406 PGRST116 for zero or several rows with .single()', async () => {
      const none = await anon.from('profiles').select().eq('id', 99).single()
      expect(none.status).toBe(406)
      expect(none.error).toMatchObject({ code: 'PGRST116', details: 'The result contains 0 rows', message: 'Cannot coerce the result to a single JSON object' })
      const many = await anon.from('profiles').select().single()
      expect(many.status).toBe(406)
      expect(many.error).toMatchObject({ code: 'PGRST116', details: 'The result contains 3 rows' })
    })

    it('gives null for no row with .maybeSingle()', async () => {
      const none = await anon.from('profiles').select().eq('id', 99).maybeSingle()
      expect(none.error).toBeNull()
      expect(none.data).toBeNull()
      const one = await anon.from('profiles').select('id').eq('name', 'carol').maybeSingle()
      expect(one.data).toEqual({ id: 3 })
    })
  })

  describe('embedding', () => {
    it('embeds a to-one relation as an object (or null) and a to-many one as an array', async () => {
      const { data, error } = await anon.from('todos').select('id, owner:profiles(name), tags(name)').order('id')
      expect(error).toBeNull()
      expect(data).toEqual([
        { id: 1, owner: { name: 'alice' }, tags: [{ name: 'urgent' }, { name: 'home' }] },
        { id: 2, owner: { name: 'alice' }, tags: [{ name: 'work' }] },
        { id: 3, owner: { name: 'bob' }, tags: [] },
        { id: 4, owner: null, tags: [] },
      ])
    })

    it('disambiguates with a foreign key hint and embeds the reverse direction', async () => {
      const { data, error } = await anon.from('todos').select('id, profiles!todos_owner_fkey(*)').eq('id', 3).single()
      expect(error).toBeNull()
      expect(data).toEqual({ id: 3, profiles: { id: 2, name: 'bob', bio: 'ships', created_at: '2026-01-02T03:04:05+00:00' } })
      const reverse = await anon.from('profiles').select('name, todos(id)').order('id')
      expect(reverse.data).toEqual([{ name: 'alice', todos: [{ id: 1 }, { id: 2 }] }, { name: 'bob', todos: [{ id: 3 }] }, { name: 'carol', todos: [] }])
    })

    it('filters, orders and limits an embedded resource, and !inner filters the parent', async () => {
      const { data } = await anon.from('todos').select('id, tags(name)').eq('id', 1).order('name', { referencedTable: 'tags' }).limit(1, { referencedTable: 'tags' })
      expect(data).toEqual([{ id: 1, tags: [{ name: 'home' }] }])
      const inner = await anon.from('todos').select('id, tags!inner(name)').eq('tags.name', 'work')
      expect(inner.data).toEqual([{ id: 2, tags: [{ name: 'work' }] }])
    })

    it('embeds two levels deep', async () => {
      const { data } = await anon.from('tags').select('name, todos(title, profiles(name))').eq('name', 'work')
      expect(data).toEqual([{ name: 'work', todos: { title: 'ship it', profiles: { name: 'alice' } } }])
    })
  })

  describe('writes', () => {
    it('inserts one object with return=minimal (201, no body) and with representation', async () => {
      const minimal = await service.from('profiles').insert({ name: 'dave' })
      expect(minimal.status).toBe(201)
      expect(minimal.data).toBeNull()
      expect(minimal.error).toBeNull()
      const { data, status } = await service.from('profiles').insert({ name: 'erin', bio: 'new' }).select('id, name, bio').single()
      expect(status).toBe(201)
      expect(data).toMatchObject({ name: 'erin', bio: 'new' })
      expect(typeof data!.id).toBe('number')
    })

    it('inserts an array with columns= (missing keys null; missing=default uses defaults)', async () => {
      const { data, error } = await service.from('todos').insert([{ title: 'x1', done: true }, { title: 'x2', done: false, priority: 5 }]).select('title, done, priority, tags')
      expect(error).toBeNull()
      expect(data).toEqual([{ title: 'x1', done: true, priority: null, tags: [] }, { title: 'x2', done: false, priority: 5, tags: [] }])
      // defaultToNull:false sends Prefer: missing=default
      const withDefaults = await service.from('todos').insert([{ title: 'y1', done: true }, { title: 'y2' }], { defaultToNull: false }).select('title, done')
      expect(withDefaults.error).toBeNull()
      expect(withDefaults.data).toEqual([{ title: 'y1', done: true }, { title: 'y2', done: false }])
    })

    it('refuses a NOT NULL column left null by an array insert without defaults', async () => {
      const { error, status } = await service.from('todos').insert([{ title: 'z1', done: true }, { title: 'z2' }])
      expect(status).toBe(400)
      expect(error!.code).toBe('23502')
    })

    it('upserts with merge-duplicates and ignore-duplicates', async () => {
      const merged = await service.from('profiles').upsert([{ id: 3, name: 'carol', bio: 'merged' }, { id: 50, name: 'zed' }]).select('id, bio').order('id')
      expect(merged.error).toBeNull()
      expect(merged.data).toEqual([{ id: 3, bio: 'merged' }, { id: 50, bio: null }])
      const ignored = await service.from('profiles').upsert({ name: 'carol', bio: 'ignored' }, { onConflict: 'name', ignoreDuplicates: true }).select()
      expect(ignored.error).toBeNull()
      expect(ignored.data).toEqual([])
      const byName = await service.from('profiles').upsert({ name: 'carol', bio: 'by name' }, { onConflict: 'name' }).select('id, bio').single()
      expect(byName.data).toEqual({ id: 3, bio: 'by name' })
    })

    it('updates with PATCH: 204 without select, rows with select, count', async () => {
      const bare = await service.from('todos').update({ priority: 9 }).eq('id', 4)
      expect(bare.status).toBe(204)
      const { data, error, count } = await service.from('todos').update({ priority: 8 }, { count: 'exact' }).in('id', [1, 2]).select('id, priority').order('id')
      expect(error).toBeNull()
      expect(data).toEqual([{ id: 1, priority: 8 }, { id: 2, priority: 8 }])
      expect(count).toBe(2)
      const none = await service.from('todos').update({ priority: 1 }).eq('id', 999).select()
      expect(none.data).toEqual([])
    })

    it('deletes matching rows and returns them with select', async () => {
      await service.from('profiles').insert({ id: 60, name: 'temp' })
      const { data, status } = await service.from('profiles').delete().eq('id', 60).select('name')
      expect(status).toBe(200)
      expect(data).toEqual([{ name: 'temp' }])
      const gone = await service.from('profiles').select().eq('id', 60)
      expect(gone.data).toEqual([])
      const minimal = await service.from('profiles').delete().eq('id', 61)
      expect(minimal.status).toBe(204)
    })

    it('rolls back with Prefer: tx=rollback but still answers the representation', async () => {
      const res = await fetch(`${gw.url}/rest/v1/profiles?select=name`, {
        method: 'POST',
        headers: { apikey: gw.keys.serviceRoleKey, Authorization: `Bearer ${gw.keys.serviceRoleKey}`, 'Content-Type': 'application/json', Prefer: 'return=representation, tx=rollback' },
        body: JSON.stringify({ name: 'ghost' }),
      })
      expect(res.status).toBe(201)
      expect(await res.json()).toEqual([{ name: 'ghost' }])
      const { data } = await service.from('profiles').select().eq('name', 'ghost')
      expect(data).toEqual([])
    })
  })

  describe('rpc', () => {
    it('calls a scalar function by POST with named arguments and defaults', async () => {
      expect((await anon.rpc('add_numbers', { a: 2, b: 3 })).data).toBe(5)
      expect((await anon.rpc('add_numbers', { a: 2 })).data).toBe(12)
      expect((await anon.rpc('tag_count', { p_names: ['x', 'y', 'z'] })).data).toBe(3)
      expect((await anon.rpc('echo_json', { payload: { a: [1, { b: null }] } })).data).toEqual({ a: [1, { b: null }] })
    })

    it('returns a composite as an object, setof and table functions as arrays', async () => {
      const one = await anon.rpc('profile_named', { p_name: 'bob' })
      expect(one.error).toBeNull()
      expect(one.data).toMatchObject({ id: 2, name: 'bob' })
      const set = await anon.rpc('todos_by_done', { p_done: false }).select('id, title').lte('id', 4).order('id')
      expect(set.data).toEqual([{ id: 1, title: 'write tests' }, { id: 3, title: 'a,b' }])
      const table = await anon.rpc('todo_titles').gte('id', 3).lte('id', 4)
      expect(table.data).toEqual([{ id: 3, title: 'a,b' }, { id: 4, title: 'review' }])
      const single = await anon.rpc('todos_by_done', { p_done: false }).select('id').eq('id', 3).single()
      expect(single.data).toEqual({ id: 3 })
    })

    it('answers 204 for a void function and commits its writes', async () => {
      const { status, data, error } = await service.rpc('add_profile', { p_name: 'from-rpc' })
      expect(error).toBeNull()
      expect(status).toBe(204)
      expect(data).toBeNull()
      expect((await anon.from('profiles').select('name').eq('name', 'from-rpc')).data).toEqual([{ name: 'from-rpc' }])
    })

    it('calls by GET with arguments in the query string, read-only', async () => {
      const { data, error } = await anon.rpc('add_numbers', { a: 40, b: 2 }, { get: true })
      expect(error).toBeNull()
      expect(data).toBe(42)
      const set = await anon.rpc('todos_by_done', { p_done: true }, { get: true }).select('id')
      expect((set.data as Array<{ id: number }>).map((r) => r.id)).toContain(2)
      const write = await service.rpc('add_profile', { p_name: 'by-get' }, { get: true })
      expect(write.status).toBe(405)
      expect(write.error!.code).toBe('25006')
    })

    it('forwards a function exception with its SQLSTATE, detail and hint', async () => {
      const { error, status } = await anon.rpc('refuse', { p_message: 'no thanks' })
      expect(status).toBe(400)
      expect(error).toEqual({ code: 'OB002', message: 'no thanks', details: 'p_message', hint: 'Do something else' })
    })
  })
})
