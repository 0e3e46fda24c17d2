import type { Queryable } from '../../db/database.ts'
import type { PostgresBinding } from './channel-member.ts'

/** How long one renewal keeps a table's changes captured; renewed every WATCH_RENEW_MS. */
export const WATCH_SECONDS = 120
export const WATCH_RENEW_MS = 30_000

/**
 * Tells the capture trigger (platform/realtime.sql) to record the changes of these bindings'
 * tables for the next WATCH_SECONDS. Awaited before a join is answered, so every change
 * committed after the client sees SUBSCRIBED is captured.
 */
export async function watchTables(db: Queryable, bindings: Iterable<Pick<PostgresBinding, 'schema' | 'table'>>): Promise<void> {
  const tables = new Map<string, { schema: string; table: string }>()
  for (const b of bindings) {
    const table = b.table === undefined || b.table === '' ? '*' : b.table
    tables.set(`${b.schema}.${table}`, { schema: b.schema, table })
  }
  if (tables.size === 0) return
  await db.query('select realtime.watch_tables($1::jsonb, $2::integer)', [JSON.stringify([...tables.values()]), WATCH_SECONDS])
}
