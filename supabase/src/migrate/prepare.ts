import { readFile } from 'node:fs/promises'
import type { Database } from '../db/database.ts'
import { applyPlatformBootstrap, migrate, type MigrateResult } from './migrate.ts'
import { SEED_FILE } from './migration-files.ts'

export interface NetworkStats {
  workers: { registered: number; online: number; online_browser: number; online_cli: number }
  tasks: { queued: number; leased: number; completed: number; failed: number }
  jobs: { active: number; running: number; completed: number; total: number }
}

export interface DatabaseStatus {
  kind: Database['kind']
  location: string
  serverVersion: string
  bootstrapped: boolean
  migrations: MigrateResult
  stats: NetworkStats
}

/**
 * Makes any database ready for Oblivion: the local platform bootstrap (skipped on hosted
 * Supabase, which has the real thing: recognised by its `supabase_admin` role), the migrations,
 * then the seed (idempotent).
 */
export async function prepareDatabase(db: Database): Promise<DatabaseStatus> {
  const { rows: hosted } = await db.query(`select 1 from pg_roles where rolname = 'supabase_admin'`)
  const bootstrapped = hosted.length === 0
  if (bootstrapped) await applyPlatformBootstrap(db)
  const migrations = await migrate(db)
  await db.exec(await readFile(SEED_FILE, 'utf8'))
  const { rows } = await db.query<{ version: string; stats: NetworkStats }>(
    `select current_setting('server_version') as version, public.network_stats() as stats`,
  )
  return { kind: db.kind, location: db.location, serverVersion: rows[0]!.version, bootstrapped, migrations, stats: rows[0]!.stats }
}
