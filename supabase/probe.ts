import { PGlite } from '@electric-sql/pglite'
let t = Date.now()
const db = await PGlite.create()
console.log('cold', Date.now() - t)
console.log((await db.query('select version()')).rows)
await db.exec(`create role anon nologin; create role authenticated nologin; create publication supabase_realtime;
create table t(id int primary key, owner text); alter table t enable row level security;
create policy p on t for select to anon using (owner = current_setting('request.jwt.claims', true)::jsonb->>'sub');
grant select on t to anon; insert into t values (1,'a'),(2,'b');`)
await db.transaction(async (tx) => {
  await tx.query(`select set_config('role','anon',true), set_config('request.jwt.claims','{"sub":"a"}',true)`)
  console.log((await tx.query('select * from t')).rows, (await tx.query('select current_user')).rows)
})
t = Date.now()
const dump = await db.dumpDataDir('none')
console.log('dump', Date.now() - t, dump.size)
t = Date.now()
const db2 = await PGlite.create({ loadDataDir: dump })
console.log('reload', Date.now() - t, (await db2.query('select count(*) from t')).rows)
