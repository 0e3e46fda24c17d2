import { createHash } from 'node:crypto'
import type { Writable } from 'node:stream'
import pg from 'pg'
import type { Database, Queryable, QueryOptions, QueryResult } from './database.ts'
import { after, sendAhead, type SentAhead } from './send-ahead.ts'
import { listenOnDedicatedClient } from './postgres-listener.ts'

export interface PostgresOptions {
  /** Pool size; the claim benchmark opens one connection per concurrent worker. */
  max?: number
  applicationName?: string
}

// Prepared statements: parsing and planning were the largest part of the server's CPU per
// request through the gateway (measured: +15–25 % claim cycles/s once prepared). Names come
// from the text; at most MAX_PREPARED texts per process get one, so a client sending endless
// query shapes cannot grow every connection's statement cache without bound.
const MAX_PREPARED = 200
const preparedNames = new Map<string, string>()

function statementName(sql: string): string | undefined {
  let name = preparedNames.get(sql)
  if (!name && preparedNames.size < MAX_PREPARED) {
    name = `ob_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`
    preparedNames.set(sql, name)
  }
  return name
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<QueryResult<R>> {
      const name = options.prepared ? statementName(sql) : undefined
      const res = await client.query(name ? { name, text: sql, values: params } : { text: sql, values: params })
      return { rows: res.rows as R[], rowCount: res.rowCount ?? res.rows.length }
    },
    async exec(sql: string) {
      // Without parameters pg uses the simple protocol, which accepts several statements.
      await client.query(sql)
    },
  }
}

/** Prints a connection string without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '<unparseable DATABASE_URL>'
  }
}

// PostgREST answers bigint columns (ids, counts) as JSON numbers and PGlite parses them as
// numbers; do the same here so both backends return identical rows. Ids and counters stay far
// below 2^53.
const INT8_OID = 20
const parseInt8 = (value: string) => Number(value)
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Database & { pool: pg.Pool }> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'oblivion',
    types: typeParsers,
    // Statements issued without awaiting the previous one go out together; each still gets its
    // own answer. Only used where the order is safe (send-ahead.ts); everything else awaits.
    pipeline: true,
  })
  // An idle client that loses its server (restart, failover) emits 'error'; without a listener
  // Node would crash the process. The pool drops that client and opens a new one on demand.
  pool.on('error', () => {})
  try {
    await pool.query('select 1')
  } catch (error) {
    await pool.end()
    throw new Error(
      `Cannot connect to PostgreSQL at ${redactUrl(url)}: ${(error as Error).message}. ` +
        'Check DATABASE_URL, or unset it to use the embedded PGlite database.',
      { cause: error },
    )
  }
  return {
    kind: 'postgres',
    location: redactUrl(url),
    pool,
    ...wrap(pool),
    async transaction(fn, options = {}) {
      const client = await pool.connect()
      try {
        // `begin` travels with the statements issued in the same tick (the request context and
        // the request's own statement): corked, they leave in one write (see send-ahead.ts).
        const socket = (client as unknown as { connection: { stream: Writable } }).connection.stream
        socket.cork()
        process.nextTick(() => socket.uncork())
        const begun = sendAhead(client.query('begin'))
        const statements = wrap(client)
        let committed: SentAhead<unknown> | undefined
        let sent = 0
        const tx: Queryable = {
          ...statements,
          query(sql, params, queryOptions) {
            if (committed) {
              return Promise.reject(new Error(`This transaction was committed after ${sent} statements (commitAfterStatements); run "${sql.slice(0, 60)}" in a transaction of its own`))
            }
            const result = statements.query(sql, params, queryOptions)
            if (++sent === options.commitAfterStatements) committed = sendAhead(client.query('commit'))
            return result as never
          },
        }
        const result = await after(begun, () => fn(tx))
        await (committed ? committed.settle() : client.query('commit'))
        return result
      } catch (error) {
        await client.query('rollback').catch(() => {})
        throw error
      } finally {
        client.release()
      }
    },
    listen: (channel, onNotify, onReconnect) =>
      listenOnDedicatedClient(url, channel, onNotify, onReconnect, `${options.applicationName ?? 'oblivion'}-listen`),
    close: () => pool.end(),
  }
}
