import type { Database } from '../../db/database.ts'

/** What a postgres_changes payload needs to know about a table. */
export interface TableInfo {
  /** Every column with its type name as realtime-js reads it (`int8`, `_text` for arrays). */
  columns: { name: string; type: string }[]
  primaryKey: string[]
  /** REPLICA IDENTITY FULL: old_record carries the whole old row, else only the primary key. */
  replicaIdentityFull: boolean
  /** Row level security is enabled: old_record is only the primary key, even under FULL. */
  rowSecurity: boolean
  /** In the supabase_realtime publication. */
  published: boolean
  /** The capture trigger (platform/realtime.sql) is installed. */
  captured: boolean
}

const TABLE_INFO_SQL = `
  select c.relreplident = 'f' as replica_identity_full, c.relrowsecurity as row_security,
         coalesce((select json_agg(json_build_object('name', a.attname, 'type', t.typname) order by a.attnum)
                     from pg_catalog.pg_attribute a join pg_catalog.pg_type t on t.oid = a.atttypid
                    where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'::json) as columns,
         coalesce((select json_agg(a.attname order by array_position(i.indkey::int2[], a.attnum))
                     from pg_catalog.pg_index i
                     join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                    where i.indrelid = c.oid and i.indisprimary), '[]'::json) as primary_key,
         exists (select 1 from pg_catalog.pg_publication_rel pr
                   join pg_catalog.pg_publication p on p.oid = pr.prpubid
                  where p.pubname = 'supabase_realtime' and pr.prrelid = c.oid) as published,
         exists (select 1 from pg_catalog.pg_trigger tg
                  where tg.tgrelid = c.oid and tg.tgname = 'realtime_capture_change') as captured
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname = $1::text and c.relname = $2::text and c.relkind in ('r', 'p')`

interface TableInfoRow {
  replica_identity_full: boolean
  row_security: boolean
  columns: TableInfo['columns']
  primary_key: string[]
  published: boolean
  captured: boolean
}

/**
 * Table metadata cached per table: read fresh when a channel joins (tests and migrations add
 * tables at any time) and whenever a change carries a column the cache does not know.
 */
export class TableCatalog {
  private readonly cache = new Map<string, TableInfo | undefined>()
  private syncing?: Promise<number>

  constructor(private readonly db: Database) {}

  async refresh(schema: string, table: string): Promise<TableInfo | undefined> {
    const { rows } = await this.db.query<TableInfoRow>(TABLE_INFO_SQL, [schema, table])
    const row = rows[0]
    const info = row && {
      columns: row.columns,
      primaryKey: row.primary_key,
      replicaIdentityFull: row.replica_identity_full,
      rowSecurity: row.row_security,
      published: row.published,
      captured: row.captured,
    }
    this.cache.set(`${schema}.${table}`, info)
    return info
  }

  async get(schema: string, table: string, record?: Record<string, unknown> | null): Promise<TableInfo | undefined> {
    const key = `${schema}.${table}`
    const cached = this.cache.get(key)
    const stale = cached && record && Object.keys(record).some((name) => !cached.columns.some((c) => c.name === name))
    if (cached && !stale) return cached
    return this.refresh(schema, table)
  }

  /** Installs the capture trigger on published tables that lack it (e.g. created after start). */
  async syncTriggers(): Promise<number> {
    // 100 channels joining at once need one sync, not 100 queued behind an advisory lock.
    this.syncing ??= this.runSync().finally(() => (this.syncing = undefined))
    return this.syncing
  }

  private async runSync(): Promise<number> {
    const { rows } = await this.db.query<{ changed: number }>('select realtime.sync_change_triggers() as changed')
    if ((rows[0]?.changed ?? 0) > 0) this.cache.clear()
    return rows[0]?.changed ?? 0
  }
}
