import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Database } from './database.ts'
import { openPglite } from './pglite.ts'
import { openPostgres } from './postgres.ts'

export interface DefaultDatabaseOptions {
  /** Server mode: any PostgreSQL URL. Default: process.env.DATABASE_URL. */
  databaseUrl?: string
  /** Embedded mode folder. Default: OBLIVION_DATA_DIR or `<repo>/.oblivion/pglite`. */
  dataDir?: string
  /** Server mode: connections in the pool (default 10). */
  poolSize?: number
}

/** The repository root (two levels above this package's src/db). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..')

/**
 * The database the local network runs on: a PostgreSQL server when DATABASE_URL is set,
 * otherwise the embedded PGlite default with its files under `.oblivion/pglite`.
 */
export async function openDefaultDatabase(options: DefaultDatabaseOptions = {}): Promise<Database> {
  const url = options.databaseUrl ?? process.env.DATABASE_URL
  if (url) return openPostgres(url, { max: options.poolSize })
  const dataDir = options.dataDir ?? process.env.OBLIVION_DATA_DIR ?? path.join(REPO_ROOT, '.oblivion', 'pglite')
  await mkdir(dataDir, { recursive: true })
  return openPglite({ dataDir })
}
