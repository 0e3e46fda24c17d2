import type { Queryable } from '../../db/database.ts'

/** One captured row change (realtime.change_log, platform/realtime.sql). */
export interface ChangeRow {
  id: number
  txid: number
  schema: string
  table: string
  type: 'INSERT' | 'UPDATE' | 'DELETE'
  record: Record<string, unknown> | null
  oldRecord: Record<string, unknown> | null
  /** ISO 8601 (UTC, ms): when the row changed, sent as commit_timestamp. */
  changedAt: string
}

interface ChangeLogRow {
  id: number
  txid: number
  schema_name: string
  table_name: string
  change_type: ChangeRow['type']
  record: Record<string, unknown> | null
  old_record: Record<string, unknown> | null
  changed_at: string
}

const COLUMNS = `id, txid, schema_name, table_name, change_type, record, old_record,
  to_char(changed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as changed_at`

const toChange = (r: ChangeLogRow): ChangeRow => ({
  id: Number(r.id),
  txid: Number(r.txid),
  schema: r.schema_name,
  table: r.table_name,
  type: r.change_type,
  record: r.record,
  oldRecord: r.old_record,
  changedAt: r.changed_at,
})

/** The changes of the given (committed) transactions, in the order they were made. */
export async function readTransactions(db: Queryable, txids: number[]): Promise<ChangeRow[]> {
  const { rows } = await db.query<ChangeLogRow>(
    `select ${COLUMNS} from realtime.change_log where txid = any($1::bigint[]) order by id`,
    [txids],
  )
  return rows.map(toChange)
}

/**
 * Changes no gateway has delivered yet (committed while none listened), oldest first. Order by
 * id is the order rows changed, which across concurrent transactions approximates commit order
 * (the live path uses NOTIFY order, which is exact).
 */
export async function readUndelivered(db: Queryable, limit: number): Promise<ChangeRow[]> {
  const { rows } = await db.query<ChangeLogRow>(
    `select ${COLUMNS} from realtime.change_log where not delivered order by id limit $1::integer`,
    [limit],
  )
  return rows.map(toChange)
}

export async function markDelivered(db: Queryable, txids: number[]): Promise<void> {
  await db.query('update realtime.change_log set delivered = true where txid = any($1::bigint[]) and not delivered', [txids])
}

export async function pruneChangeLog(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ pruned: number }>('select realtime.prune_change_log() as pruned')
  return rows[0]?.pruned ?? 0
}
