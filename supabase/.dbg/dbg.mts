import { openPglite } from '/work/main/supabase/src/db/pglite.ts'
import { applyPlatformBootstrap, migrate } from '/work/main/supabase/src/migrate/migrate.ts'
const db = await openPglite()
await applyPlatformBootstrap(db)
await db.exec(`create table public.rt (id bigint generated always as identity primary key, owner_id uuid not null, title text);
alter table public.rt enable row level security; grant select on public.rt to authenticated;
create policy "o" on public.rt for select to authenticated using ((select auth.uid()) = owner_id);`)
const uid = '11111111-1111-1111-1111-111111111111'
console.log((await db.query(`select realtime.read_predicate('public.rt'::regclass, 'authenticated') p`)).rows)
const groups = [{ identity: 0, role: 'authenticated', claims: { sub: uid, role: 'authenticated' }, schema: 'public', table: 'rt', items: [{ change: 0, type: 'DELETE', record: null, old_record: { id: 1, owner_id: uid, title: 'x' } }] }]
await db.exec(`set client_min_messages = warning`)
const r = await db.pglite.query(`select * from realtime.visible_changes($1::jsonb)`, [JSON.stringify(groups)])
console.log(r.rows, r.notices ?? '')
try {
  await db.transaction(async (tx) => {
    await tx.query(`select set_config('role','authenticated',true), set_config('request.jwt.claims',$1,true)`, [JSON.stringify({ sub: uid })])
    console.log((await tx.query(`select 0, (($2::jsonb)->((rt.ordinality - 1)::integer)->>'change')::integer from jsonb_populate_recordset(null::public.rt, $1::jsonb) with ordinality rt where (((( SELECT auth.uid() AS uid) = owner_id))) and (true)`, [JSON.stringify([groups[0]!.items[0]!.old_record]), JSON.stringify(groups[0]!.items)])).rows)
  })
} catch (e) { console.log('ERR', (e as Error).message) }
import { readFileSync } from 'node:fs'
await db.exec(readFileSync('/work/main/supabase/.dbg/fn.sql', 'utf8'))
try { console.log((await db.query(`select * from realtime.visible_changes_dbg($1::jsonb)`, [JSON.stringify(groups)])).rows) } catch (e) { console.log('ERR2', (e as Error).message) }
