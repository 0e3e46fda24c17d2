import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

export const SUPABASE_DIR = fileURLToPath(new URL('../../', import.meta.url))
export const MIGRATIONS_DIR = path.join(SUPABASE_DIR, 'migrations')
/**
 * The local stand-in for what hosted Supabase already has, applied in this order before the
 * migrations: roles and schemas (Storage's tables are there), then the state of our local Auth and
 * Realtime services.
 */
export const PLATFORM_FILES = ['bootstrap.sql', 'auth.sql', 'realtime.sql'].map((name) =>
  path.join(SUPABASE_DIR, 'platform', name),
)
export const SEED_FILE = path.join(SUPABASE_DIR, 'seed.sql')

export interface MigrationFile {
  /** The 14-digit timestamp prefix, as the Supabase CLI records it. */
  version: string
  /** The part after the timestamp: `create_core_tables`. */
  name: string
  sql: string
}

const MIGRATION_NAME = /^(\d{14})_([a-z0-9_]+)\.sql$/

/** Reads `supabase/migrations/<yyyymmddhhmmss>_<name>.sql` in version order. */
export async function readMigrationFiles(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort()
  const files: MigrationFile[] = []
  for (const fileName of names) {
    const match = MIGRATION_NAME.exec(fileName)
    if (!match) {
      throw new Error(
        `Migration file ${fileName} is not named <yyyymmddhhmmss>_<lower_snake_name>.sql; rename it so the Supabase CLI and our runner order it the same way.`,
      )
    }
    files.push({ version: match[1]!, name: match[2]!, sql: await readFile(path.join(dir, fileName), 'utf8') })
  }
  return files
}
