import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { serviceIdentity, withRequestContext } from '../src/db/request-context.ts'
import { BACKENDS, freshDatabase } from './support/databases.ts'

// The request transaction is sent as few writes as possible (begin + context + statement
// together; with `oneStatement`, COMMIT too). These pin down that it is still one transaction,
// run as the request's role, all or nothing.
describe.each(BACKENDS)('request transactions on %s', (backend) => {
  let db: Database
  beforeAll(async () => {
    db = await freshDatabase(backend)
    await db.exec(`create table public.ledger (n integer primary key check (n > 0));
      grant select, insert on public.ledger to service_role, anon;`)
  })
  afterAll(() => db?.close())
  const count = async () => (await db.query<{ c: number }>('select count(*)::integer as c from public.ledger')).rows[0]!.c

  it('runs the statement as the request role, and not as the gateway login', async () => {
    for (const oneStatement of [false, true]) {
      const [row] = await withRequestContext(db, { role: 'anon', claims: { sub: 'x' } },
        async (tx) => (await tx.query<{ who: string; sub: string }>(`select current_user as who, auth.jwt() ->> 'sub' as sub`)).rows,
        { oneStatement })
      expect(row).toEqual({ who: 'anon', sub: 'x' })
    }
  })

  it('commits a one-statement request, and a failed statement leaves nothing behind', async () => {
    await withRequestContext(db, serviceIdentity, (tx) => tx.query('insert into public.ledger values (1), (2)'), { oneStatement: true })
    expect(await count()).toBe(2)
    await expect(
      withRequestContext(db, serviceIdentity, (tx) => tx.query('insert into public.ledger values (3), (-1)'), { oneStatement: true }),
    ).rejects.toMatchObject({ code: '23514' })
    expect(await count()).toBe(2)
  })

  it('names the real cause when the request context itself fails', async () => {
    await expect(
      withRequestContext(db, { role: 'no_such_role' as never, claims: {} }, (tx) => tx.query('insert into public.ledger values (9)')),
    ).rejects.toThrow(/role "no_such_role" does not exist/)
    expect(await count()).toBe(2)
  })
})

// On a server COMMIT really leaves right behind the last statement (PGlite runs in process and
// ends the transaction as usual), so only there can a further statement find it committed.
describe('one-statement requests on a PostgreSQL server', () => {
  let db: Database
  beforeAll(async () => {
    db = await freshDatabase('postgres')
    await db.exec(`create table public.ledger (n integer primary key); grant select, insert on public.ledger to service_role;`)
  })
  afterAll(() => db?.close())

  it('refuses a statement after the request committed (it would run outside the transaction)', async () => {
    await expect(
      withRequestContext(db, serviceIdentity, async (tx) => {
        await tx.query('insert into public.ledger values (10)')
        await tx.query('insert into public.ledger values (11)')
      }, { oneStatement: true }),
    ).rejects.toThrow(/committed after 2 statements/)
    const { rows } = await db.query<{ n: number }>('select n from public.ledger order by n')
    expect(rows).toEqual([{ n: 10 }])
  })
})
