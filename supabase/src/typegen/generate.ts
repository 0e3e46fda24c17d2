import path from 'node:path'
import type { Database } from '../db/database.ts'
import { openPglite } from '../db/pglite.ts'
import { applyPlatformBootstrap, migrate } from '../migrate/migrate.ts'
import { SUPABASE_DIR, type MigrationFile } from '../migrate/migration-files.ts'
import { introspectSchema, type SchemaModel } from './introspect.ts'
import { renderDatabaseTypes } from './render.ts'

/** The committed output; `npm run gen:types` writes it and a test compares it. */
export const DATABASE_TYPES_FILE = path.join(SUPABASE_DIR, 'database.types.ts')

/** The `public` schema of `db` as `database.types.ts` text: what the API exposes, nothing else. */
export async function generateDatabaseTypes(db: Database): Promise<string> {
  return renderDatabaseTypes(await introspectSchema(db, 'public'))
}

/**
 * Builds the schema the migrations describe in a throwaway in-memory PGlite and reads it back.
 * Starting from nothing every time means the output depends on the migrations alone, never on
 * the state of someone's local database. `files` defaults to supabase/migrations.
 */
export async function introspectMigrations(files?: MigrationFile[]): Promise<SchemaModel> {
  const db = await openPglite()
  try {
    await applyPlatformBootstrap(db)
    await migrate(db, files)
    return await introspectSchema(db, 'public')
  } finally {
    // An open PGlite keeps the Node process alive.
    await db.close()
  }
}

export async function generateFromMigrations(files?: MigrationFile[]): Promise<string> {
  return renderDatabaseTypes(await introspectMigrations(files))
}
