/**
 * The one database interface every part of Oblivion's server side uses: the migration runner,
 * the tests, the benchmark and (next) the local gateway. Two implementations: the embedded
 * PGlite default and a PostgreSQL server reached through a `pg` pool.
 */
export interface QueryResult<R> {
  rows: R[]
  rowCount: number
}

export interface QueryOptions {
  /**
   * Keep the statement prepared on the server connection and reuse it (PostgreSQL server only).
   * For hot statements whose result columns never change shape (a table that gains a column
   * would fail a prepared `select *` with "cached plan must not change result type").
   */
  prepared?: boolean
}

export interface TransactionOptions {
  /**
   * The transaction is exactly this many statements and ends whatever `fn` makes of their
   * results: COMMIT is sent right behind the last one (in the same write on a server), saving a
   * round trip. A failed statement turns that COMMIT into a rollback; a statement after the last
   * is refused (it would run outside the transaction). Only for callers whose outcome cannot
   * depend on what the statements return.
   */
  commitAfterStatements?: number
}

export interface Queryable {
  /** One statement; parameters are always bound, never spliced into the text. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>>
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  /** Where the data lives, safe to print (no password). */
  readonly location: string
  /** Runs `fn` in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>
  /**
   * LISTENs on `channel`; `onNotify` gets each payload in commit order. A NOTIFY is only ever a
   * latency hint: notifications sent while the listening connection was down are lost, so after
   * it comes back `onReconnect` runs for the caller to catch up from the tables. Resolves to a
   * function that stops listening.
   */
  listen(channel: string, onNotify: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>
  close(): Promise<void>
}
