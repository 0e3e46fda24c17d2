import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { inject } from 'vitest'
import type { Database } from '../../src/db/database.ts'
import { openPglite } from '../../src/db/pglite.ts'
import { openPostgres } from '../../src/db/postgres.ts'
import { withDatabase } from '../../src/local-postgres/throwaway-cluster.ts'

export type Backend = 'postgres' | 'pglite'

/**
 * A fresh, migrated database on the real PostgreSQL server, copied from the run's template.
 * `close()` drops it.
 */
export async function freshServerDatabase(options: { max?: number } = {}): Promise<Database> {
  const serverUrl = inject('pgServerUrl')
  const name = `oblivion_test_${randomBytes(6).toString('hex')}`
  const admin = await openPostgres(serverUrl, { max: 1 })
  try {
    await admin.exec(`create database ${name} template ${inject('pgTemplate')}`)
  } finally {
    await admin.close()
  }
  const db = await openPostgres(withDatabase(serverUrl, name), { max: options.max ?? 10 })
  return {
    ...db,
    async close() {
      await db.close()
      const dropper = await openPostgres(serverUrl, { max: 1 })
      await dropper.exec(`drop database if exists ${name} with (force)`).finally(() => dropper.close())
    },
  }
}

/** A fresh, migrated embedded PGlite database, reloaded from the run's template dump. */
export async function freshPgliteDatabase(): Promise<Database> {
  const dump = new Blob([await readFile(inject('pgliteTemplatePath'))])
  return openPglite({ loadDataDir: dump })
}

export function freshDatabase(backend: Backend): Promise<Database> {
  return backend === 'postgres' ? freshServerDatabase() : freshPgliteDatabase()
}

/** Both backends, for `describe.each`: the embedded default must behave as the server does. */
export const BACKENDS: Backend[] = ['postgres', 'pglite']
