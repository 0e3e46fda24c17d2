import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, inject, it } from 'vitest'
import type { Database } from '../src/db/database.ts'
import { openPostgres } from '../src/db/postgres.ts'
import { withDatabase } from '../src/local-postgres/throwaway-cluster.ts'
import { applyPlatformBootstrap, migrate } from '../src/migrate/migrate.ts'
import { readMigrationFiles } from '../src/migrate/migration-files.ts'
import { freshPgliteDatabase } from './support/databases.ts'

/** An empty database on the test server (not from the template), dropped after the file. */
const created: string[] = []
async function emptyServerDatabase(): Promise<{ open: () => Promise<Database> }> {
  const name = `oblivion_empty_${randomBytes(6).toString('hex')}`
  const admin = await openPostgres(inject('pgServerUrl'), { max: 1 })
  await admin.exec(`create database ${name}`).finally(() => admin.close())
  created.push(name)
  return { open: () => openPostgres(withDatabase(inject('pgServerUrl'), name), { max: 2 }) }
}
afterAll(async () => {
  const admin = await openPostgres(inject('pgServerUrl'), { max: 1 })
  for (const name of created) await admin.exec(`drop database if exists ${name} with (force)`)
  await admin.close()
})

describe('the migration runner', () => {
  it('applies every migration once, in order, and records it where the Supabase CLI does', async () => {
    const files = await readMigrationFiles()
    expect(files.length).toBeGreaterThan(0)
    expect(files.map((f) => f.version)).toEqual([...files.map((f) => f.version)].sort())
    const target = await emptyServerDatabase()
    const db = await target.open()
    await applyPlatformBootstrap(db)
    const first = await migrate(db)
    expect(first).toEqual({ applied: files.map((f) => f.version), alreadyApplied: [] })
    const second = await migrate(db)
    expect(second).toEqual({ applied: [], alreadyApplied: files.map((f) => f.version) })
    const { rows } = await db.query<{ version: string; name: string }>(
      'select version, name from supabase_migrations.schema_migrations order by version')
    expect(rows).toEqual(files.map((f) => ({ version: f.version, name: f.name })))
    await db.close()
  })

  it('lets several processes migrate the same database at once: each migration runs exactly once', async () => {
    const target = await emptyServerDatabase()
    const racers = await Promise.all([target.open(), target.open(), target.open()])
    await applyPlatformBootstrap(racers[0]!)
    const results = await Promise.all(racers.map((db) => migrate(db)))
    const appliedEverywhere = results.flatMap((r) => r.applied).sort()
    expect(appliedEverywhere).toEqual((await readMigrationFiles()).map((f) => f.version))
    await Promise.all(racers.map((db) => db.close()))
  })

  it('refuses a migration that was edited after it was applied, and says what to do', async () => {
    const target = await emptyServerDatabase()
    const db = await target.open()
    await applyPlatformBootstrap(db)
    const files = await readMigrationFiles()
    await migrate(db, files)
    const edited = files.map((f, i) => (i === 1 ? { ...f, sql: `${f.sql}\n-- an afterthought` } : f))
    await expect(migrate(db, edited)).rejects.toThrow(/was edited after it was applied.*add a new migration instead/s)
    await db.close()
  })

  it('refuses a database that has migrations this checkout lacks', async () => {
    const target = await emptyServerDatabase()
    const db = await target.open()
    await applyPlatformBootstrap(db)
    const files = await readMigrationFiles()
    await migrate(db, files)
    await expect(migrate(db, files.slice(0, -1))).rejects.toThrow(/has migrations this checkout does not/)
    await db.close()
  })

  it('runs the same migrations on the embedded PGlite default', async () => {
    const db = await freshPgliteDatabase()
    const { rows } = await db.query<{ version: string }>('select version from supabase_migrations.schema_migrations order by version')
    expect(rows.map((r) => r.version)).toEqual((await readMigrationFiles()).map((f) => f.version))
    expect(await migrate(db)).toMatchObject({ applied: [] })
    await db.close()
  })

  it('bootstraps idempotently: a second bootstrap changes nothing and keeps the platform objects', async () => {
    const target = await emptyServerDatabase()
    const db = await target.open()
    await applyPlatformBootstrap(db)
    await applyPlatformBootstrap(db)
    const { rows } = await db.query<{ roles: number; publication: number; uid: string | null }>(
      `select (select count(*) from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')) as roles,
              (select count(*) from pg_publication where pubname = 'supabase_realtime') as publication,
              auth.uid()::text as uid`)
    expect(rows[0]).toEqual({ roles: 4, publication: 1, uid: null })
    await db.close()
  })
})
