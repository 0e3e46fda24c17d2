import { PGlite } from '@electric-sql/pglite'
import type { Database, Queryable, QueryResult } from './database.ts'

export interface PgliteOptions {
  /** Folder for the data files; omitted = in memory. */
  dataDir?: string
  /** A data-dir dump (from `dumpPglite`) to start from: how tests clone a migrated template. */
  loadDataDir?: Blob
}

function wrap(q: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async query<R>(sql: string, params: unknown[] = []): Promise<QueryResult<R>> {
      const res = await q.query<R>(sql, params)
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length }
    },
    async exec(sql: string) {
      await q.exec(sql)
    },
  }
}

/**
 * PGlite has ONE session: PGlite's own mutex runs each query and transaction one at a time,
 * so a transaction here never interleaves with another. `SKIP LOCKED` therefore never skips.
 */
export async function openPglite(options: PgliteOptions = {}): Promise<Database & { pglite: PGlite }> {
  const pglite = await PGlite.create(options.dataDir, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {})
  return {
    kind: 'pglite',
    location: options.dataDir ?? 'memory://',
    pglite,
    ...wrap(pglite),
    // commitAfterStatements saves a round trip on a server; in process there is none to save.
    transaction: (fn) => pglite.transaction((tx) => fn(wrap(tx))),
    // In-process: the session never drops, so there is nothing to reconnect (onReconnect unused).
    // PGlite sends LISTEN as written: quote the name so `realtime:changes` stays one identifier.
    listen: (channel, onNotify) => pglite.listen(`"${channel.replaceAll('"', '""')}"`, onNotify),
    close: () => pglite.close(),
  }
}

/** An uncompressed dump of the data dir, reloadable with `openPglite({ loadDataDir })` (~0.7 s). */
export async function dumpPglite(db: Database & { pglite: PGlite }): Promise<Blob> {
  return db.pglite.dumpDataDir('none')
}
