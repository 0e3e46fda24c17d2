import { readFile } from 'node:fs/promises'
import type { Database } from '../db/database.ts'
import { PLATFORM_FILES, readMigrationFiles, type MigrationFile } from './migration-files.ts'

export interface MigrateResult {
  applied: string[]
  alreadyApplied: string[]
}

/**
 * Creates, only where missing, what hosted Supabase already has (roles, `auth`, `storage`, the
 * `supabase_realtime` publication) and the tables of the gateway's local Auth, Storage and
 * Realtime. Idempotent; never run against hosted Supabase.
 */
export async function applyPlatformBootstrap(db: Database): Promise<void> {
  for (const file of PLATFORM_FILES) await db.exec(await readFile(file, 'utf8'))
}

// Same table the Supabase CLI keeps, so `supabase db push` and this runner agree on what ran.
const HISTORY_DDL = `
  create schema if not exists supabase_migrations;
  create table if not exists supabase_migrations.schema_migrations (
    version text primary key,
    statements text[],
    name text
  );`

// Any constant works; it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK_KEY = 0x0b11_1010

/**
 * Applies pending migrations in version order, each in its own transaction under an advisory
 * lock. A migration that another process applied while we waited counts as success, so several
 * workers or test files may migrate the same database at once.
 */
export async function migrate(db: Database, files?: MigrationFile[]): Promise<MigrateResult> {
  const migrations = files ?? (await readMigrationFiles())
  await db.exec(HISTORY_DDL).catch(async (error: { code?: string }) => {
    // Two processes creating the history table at once: one wins, the other sees 23505/42P07.
    if (error.code !== '23505' && error.code !== '42P07') throw error
  })
  const result: MigrateResult = { applied: [], alreadyApplied: [] }
  const known = new Set(migrations.map((m) => m.version))
  const { rows: recorded } = await db.query<{ version: string; name: string }>(
    'select version, name from supabase_migrations.schema_migrations order by version',
  )
  const unknown = recorded.filter((r) => !known.has(r.version))
  if (unknown.length > 0) {
    throw new Error(
      `The database has migrations this checkout does not: ${unknown.map((r) => `${r.version}_${r.name}`).join(', ')}. ` +
        'Update your checkout, or point DATABASE_URL / OBLIVION_DATA_DIR at a database made from this one.',
    )
  }
  for (const migration of migrations) {
    const applied = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY])
      const { rows } = await tx.query<{ statements: string[] | null }>(
        'select statements from supabase_migrations.schema_migrations where version = $1::text',
        [migration.version],
      )
      if (rows[0]) {
        if (rows[0].statements && rows[0].statements.join('') !== migration.sql) {
          throw new Error(
            `Migration ${migration.version}_${migration.name} was edited after it was applied to this database. ` +
              'Never edit an applied migration: revert the edit and add a new migration instead ' +
              '(for a throwaway local database: `npm start -- --reset`).',
          )
        }
        return false
      }
      try {
        await tx.exec(migration.sql)
      } catch (error) {
        const e = error as Error
        e.message = `Migration ${migration.version}_${migration.name} failed: ${e.message}`
        throw e
      }
      await tx.query(
        'insert into supabase_migrations.schema_migrations (version, statements, name) values ($1::text, $2::text[], $3::text)',
        [migration.version, [migration.sql], migration.name],
      )
      return true
    })
    ;(applied ? result.applied : result.alreadyApplied).push(migration.version)
  }
  return result
}
