import type { IncomingMessage } from 'node:http'
import type { Queryable } from '../../db/database.ts'
import { withRequestContext } from '../../db/request-context.ts'
import type { GatewayContext, Surface } from '../gateway.ts'
import { header, readBody } from '../http.ts'
import { callerOf, type CallerIdentity } from '../identity.ts'
import { deleteStatement, insertStatement, updateStatement, writtenColumns, type JsonObject } from './mutation-sql.ts'
import { parsePreferences, type Preferences } from './preferences.ts'
import { parseQueryParams, type QueryParams } from './query-params.ts'
import { RestError, SchemaCacheMiss, toRestError } from './rest-error.ts'
import { JSON_TYPE, OBJECT_TYPE, RollbackWith, sendRest, sendRestError, type RestResponse } from './rest-response.ts'
import { resultStatement, type ResultRow, type ResultShape } from './result-sql.ts'
import { chooseFunction, functionCall } from './rpc-sql.ts'
import { findFunctions, findRelation, SchemaCache } from './schema-cache.ts'
import type { SchemaSnapshot } from './schema-catalog.ts'
import { SelectBuilder, selectStatement } from './select-sql.ts'
import { ident, SqlParams } from './sql-params.ts'

/** A statement planned outside the transaction: the catalog is never read while a request runs. */
interface Plan {
  sql: string
  values: unknown[]
}

/** What the client accepts: a JSON array (default) or one object, with or without null keys. */
interface Accept {
  single: boolean
  stripNulls: boolean
}

/**
 * Every statement here answers the same columns whatever the table (total, n, body: see
 * result-sql.ts) or no rows at all, so it may stay prepared on the server: a table that changes
 * shape re-plans it, never breaks it.
 */
const PREPARED = { prepared: true }

/** Postgres said a cached name is gone (dropped table, changed function): reload before the next request. */
const STALE_SQLSTATES = new Set(['42P01', '42703', '42883'])
const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'columns', 'on_conflict', 'and', 'or', 'not.and', 'not.or'])

/**
 * `/rest/v1`: PostgREST's API over the `public` schema. Each request is one transaction run as
 * the caller's JWT role with its claims set (withRequestContext), so grants and RLS decide;
 * READ ONLY for GET/HEAD; COMMIT, or ROLLBACK on error and on `Prefer: tx=rollback`.
 */
export function createRestSurface(context: GatewayContext): Surface {
  const { db, limits } = context
  const cache = new SchemaCache(db)

  /** Plans against the cache; a name it does not know reloads it once (tables created after start). */
  async function planned(build: (schema: SchemaSnapshot) => Plan): Promise<Plan> {
    const schema = await cache.current()
    try {
      return build(schema)
    } catch (error) {
      if (!(error instanceof SchemaCacheMiss)) throw error
      const fresh = await cache.reload(schema.loadedAt)
      if (fresh === schema) throw error
      return build(fresh)
    }
  }

  async function readJsonBody(req: IncomingMessage): Promise<unknown> {
    const bytes = await readBody(req, limits.jsonBodyBytes)
    if (bytes.length === 0) return undefined
    try {
      return JSON.parse(bytes.toString('utf8'))
    } catch (error) {
      throw new RestError(400, 'PGRST102', 'Empty or invalid json', (error as Error).message, 'Send a JSON object or an array of objects')
    }
  }

  /**
   * One request's transaction. `decided`: its outcome cannot depend on the statement's result
   * (no `tx=rollback`, no `.single()` that must undo a write), so COMMIT goes out with it.
   */
  function run(caller: CallerIdentity, method: string, path: string, readOnly: boolean, decided: boolean, fn: (tx: Queryable) => Promise<RestResponse>) {
    return withRequestContext(db, caller, fn, { method, path, readOnly, oneStatement: decided })
  }

  async function serveRead(caller: CallerIdentity, name: string, url: URL, method: string, path: string, accept: Accept, prefs: Preferences) {
    const query = parseQueryParams(url.searchParams)
    const root = query.directives.get('')!
    const offset = root.offset ?? 0
    // PostgREST's db-max-rows: a read never returns more; Content-Range shows the truncation.
    root.limit = Math.min(root.limit ?? Number.POSITIVE_INFINITY, limits.maxRows)
    const plan = await planned((schema) => {
      const relation = findRelation(schema, name)
      const params = new SqlParams()
      const builder = new SelectBuilder(schema, params, query.directives)
      const parts = builder.parts(relation, `public.${ident(relation.name)}`, query.select, '', 't0')
      builder.assertAllPathsUsed()
      const where = parts.where.length > 0 ? ` where ${parts.where.join(' and ')}` : ''
      const countSql = prefs.count ? `(select count(*) from ${parts.from}${where})` : undefined
      return { sql: resultStatement(selectStatement(parts), { ...accept, countSql }), values: params.values }
    })
    // Read only: commit or rollback end it the same way.
    return run(caller, method, path, true, true, async (tx) => {
      const { rows } = await tx.query<ResultRow>(plan.sql, plan.values, PREPARED)
      return rowsResponse(rows[0]!, { offset, single: accept.single, counted: Boolean(prefs.count), status: 200 })
    })
  }

  async function serveWrite(caller: CallerIdentity, name: string, url: URL, method: string, path: string, accept: Accept, prefs: Preferences, req: IncomingMessage) {
    const query = parseQueryParams(url.searchParams)
    const representation = prefs.return === 'representation'
    let body: unknown
    let rows: JsonObject[] = []
    if (method !== 'DELETE') {
      body = await readJsonBody(req)
      rows = Array.isArray(body) ? (body as JsonObject[]) : [body as JsonObject]
      if (body === undefined || rows.some((row) => row === null || typeof row !== 'object' || Array.isArray(row))) {
        throw new RestError(400, 'PGRST102', 'Empty or invalid json', 'The body must be a JSON object or an array of objects', null)
      }
      if (method === 'PATCH' && Array.isArray(body)) {
        throw new RestError(400, 'PGRST102', 'Empty or invalid json', 'PATCH takes one JSON object: the new values of the matching rows', null)
      }
      if (rows.length > limits.maxWriteRows) {
        throw new RestError(400, 'PGRST414', `An insert of ${rows.length} rows is more than the ${limits.maxWriteRows} rows one request may write`,
          `The gateway's limit is ${limits.maxWriteRows} rows per insert/upsert (limits.maxWriteRows)`, `Send the rows in batches of at most ${limits.maxWriteRows}`)
      }
    }
    const noop = method === 'PATCH' && Object.keys(rows[0] ?? {}).length === 0
    const plan = await planned((schema) => {
      const relation = findRelation(schema, name)
      const params = new SqlParams()
      const builder = new SelectBuilder(schema, params, query.directives)
      const conditions = query.directives.get('')!.conditions
      let mutation: string
      if (method === 'POST') {
        const names = query.columns ?? Object.keys(rows[0] ?? {})
        mutation = insertStatement(relation, rows, writtenColumns(relation, names),
          { onConflict: query.onConflict, resolution: prefs.resolution, missingDefault: prefs.missingDefault }, params)
      } else if (method === 'PATCH') {
        const values = rows[0]!
        mutation = noop ? '' : updateStatement(relation, values, writtenColumns(relation, Object.keys(values)), conditions, builder, params)
      } else mutation = deleteStatement(relation, conditions, builder)
      if (!representation) return { sql: mutation, values: params.values }
      const parts = builder.parts(relation, '"pgrst_source"', query.select, '', 't0', false)
      builder.assertAllPathsUsed()
      // A count here is the number of rows written.
      const select = resultStatement(selectStatement(parts), { ...accept, countSql: prefs.count ? 'count(*)' : undefined })
      if (noop) return { sql: select.replace('"pgrst_source" as "t0"', `(select * from public.${ident(relation.name)} where false) as "t0"`), values: params.values }
      return { sql: `with "pgrst_source" as (${mutation} returning "t0".*) ${select}`, values: params.values }
    })
    const status = method === 'POST' ? 201 : representation ? 200 : 204
    return run(caller, method, path, false, !prefs.rollback && !accept.single, async (tx) => {
      let response: RestResponse
      if (representation) {
        const { rows: result } = await tx.query<ResultRow>(plan.sql, plan.values, PREPARED)
        response = rowsResponse(result[0]!, { offset: 0, single: accept.single, counted: Boolean(prefs.count), status })
      } else {
        const written = noop ? 0 : (await tx.query(plan.sql, plan.values, PREPARED)).rowCount
        response = { status, headers: { 'Content-Range': `*/${prefs.count ? written : '*'}` } }
      }
      if (prefs.applied.length > 0) response.headers['Preference-Applied'] = prefs.applied.join(', ')
      if (prefs.rollback) throw new RollbackWith(response)
      return response
    })
  }

  async function serveRpc(caller: CallerIdentity, name: string, url: URL, method: string, path: string, accept: Accept, prefs: Preferences, req: IncomingMessage) {
    const fromQueryString = method !== 'POST'
    let body: unknown
    let args: Record<string, unknown> = {}
    if (!fromQueryString) {
      body = (await readJsonBody(req)) ?? {}
      if (body !== null && typeof body === 'object' && !Array.isArray(body)) args = body as Record<string, unknown>
    }
    let skip = new Set<string>()
    let query: QueryParams | undefined
    const plan = await planned((schema) => {
      const overloads = findFunctions(schema, name, Object.keys(args))
      if (fromQueryString) {
        // Query parameters named like an argument are arguments; the rest filter the result.
        const argNames = new Set(overloads.flatMap((fn) => fn.args.map((a) => a.name)))
        args = {}
        for (const [key, value] of url.searchParams) if (!RESERVED.has(key) && argNames.has(key)) args[key] = value
        skip = new Set(Object.keys(args))
      }
      const fn = chooseFunction(name, overloads, Object.keys(args))
      query = parseQueryParams(url.searchParams, skip)
      const params = new SqlParams()
      const call = functionCall(fn, args, fromQueryString, params, body)
      if (fn.returns.kind === 'void') return { sql: `select from ${call}`, values: params.values }
      const shape: ResultShape = { single: accept.single || !fn.setof, stripNulls: accept.stripNulls }
      if (fn.returns.kind === 'scalar') {
        return { sql: resultStatement(`select "pgrst_x" as "v" from ${call} as "pgrst_x"`, shape, '"pgrst_r"."v"'), values: params.values }
      }
      const root = query.directives.get('')!
      root.limit = Math.min(root.limit ?? Number.POSITIVE_INFINITY, limits.maxRows)
      const builder = new SelectBuilder(schema, params, query.directives)
      const parts = builder.parts(fn.returns.relation, call, query.select, '', 't0')
      builder.assertAllPathsUsed()
      return { sql: resultStatement(selectStatement(parts), shape), values: params.values }
    })
    return run(caller, method, path, fromQueryString, fromQueryString || (!prefs.rollback && !accept.single), async (tx) => {
      const { rows } = await tx.query<ResultRow>(plan.sql, plan.values, PREPARED)
      const row = rows[0]
      const response: RestResponse = row && 'body' in row
        ? rowsResponse(row, { offset: query?.directives.get('')?.offset ?? 0, single: accept.single, counted: Boolean(prefs.count), status: 200 })
        : { status: 204, headers: {} }
      if (row && 'body' in row && !accept.single && response.body !== undefined) response.headers['Content-Type'] = JSON_TYPE
      if (prefs.rollback) throw new RollbackWith(response)
      return response
    })
  }

  /** The body, Content-Range and status of a statement built by resultStatement. */
  function rowsResponse(row: ResultRow, options: { offset: number; single: boolean; counted: boolean; status: number }): RestResponse {
    const total = options.counted && row.total !== null ? Number(row.total) : undefined
    if (options.single && row.n !== 1) {
      throw new RestError(406, 'PGRST116', 'Cannot coerce the result to a single JSON object', `The result contains ${row.n} rows`, null)
    }
    if (total !== undefined && options.offset > total) {
      throw new RestError(416, 'PGRST103', 'Requested range not satisfiable',
        `An offset of ${options.offset} was requested, but there are only ${total} rows.`, null, { 'Content-Range': `*/${total}` })
    }
    const range = row.n > 0 ? `${options.offset}-${options.offset + row.n - 1}` : '*'
    const partial = total !== undefined && !options.single && (options.offset > 0 || row.n < total)
    return {
      status: partial && options.status === 200 ? 206 : options.status,
      body: row.body ?? 'null',
      headers: { 'Content-Range': `${range}/${total ?? '*'}`, 'Content-Type': options.single ? OBJECT_TYPE : JSON_TYPE },
    }
  }

  async function serve(req: IncomingMessage, caller: CallerIdentity, path: string, url: URL): Promise<RestResponse> {
    const method = req.method ?? 'GET'
    const reading = method === 'GET' || method === 'HEAD'
    const profile = header(req, reading ? 'accept-profile' : 'content-profile')
    if (profile && profile !== 'public') {
      throw new RestError(406, 'PGRST106', 'The schema must be one of the following: public', null, 'Only the public schema is exposed')
    }
    const accept = parseAccept(header(req, 'accept'))
    const prefs = parsePreferences(req.headers.prefer)
    const match = /^\/(?:(rpc)\/)?([^/]+)\/?$/.exec(path)
    if (!match) {
      throw new RestError(404, 'PGRST125', `Invalid path specified in request URL: ${path}`, null, 'Use /rest/v1/<table> or /rest/v1/rpc/<function>')
    }
    let name: string
    try {
      name = decodeURIComponent(match[2]!)
    } catch {
      throw new RestError(400, 'PGRST100', `"failed to parse the path (${match[2]})"`, null, null)
    }
    if (match[1]) {
      if (!reading && method !== 'POST') throw methodNotAllowed(method, 'a function: use GET, HEAD or POST')
      return serveRpc(caller, name, url, method, path, accept, prefs, req)
    }
    if (reading) return serveRead(caller, name, url, method, path, accept, prefs)
    if (method === 'POST' || method === 'PATCH' || method === 'DELETE') return serveWrite(caller, name, url, method, path, accept, prefs, req)
    throw methodNotAllowed(method, 'a table: use GET, HEAD, POST, PATCH or DELETE')
  }

  let stopListening: (() => Promise<void>) | undefined
  return {
    async start() {
      // Warm the cache so the first request does not pay for it; a database that is not ready
      // yet is read again on the first request.
      await cache.current().catch(() => undefined)
      // PostgREST's `NOTIFY pgrst, 'reload schema'` (an empty payload reloads too). Names the
      // cache does not know reload it anyway; this covers changed ones (a function's new signature).
      const onNotify = (payload: string) => {
        if (payload === '' || payload === 'reload schema') cache.markStale()
      }
      stopListening = await db.listen('pgrst', onNotify, () => cache.markStale()).catch(() => undefined)
    },
    async close() {
      await stopListening?.().catch(() => undefined)
    },
    async handle(req, res, path, url) {
      const head = req.method === 'HEAD'
      let role = 'anon'
      try {
        const caller = callerOf(req, context.keys)
        role = caller.role
        sendRest(res, await serve(req, caller, path, url), head)
      } catch (error) {
        if (error instanceof RollbackWith) return sendRest(res, error.response, head)
        const restError = toRestError(error, role)
        if (!restError) throw error
        // 42883 also means "operator does not exist" (a filter on a type without it): that is the
        // client's mistake, not a changed schema, and must not cost a reload per request.
        const operatorError = restError.code === '42883' && restError.message.startsWith('operator')
        if (STALE_SQLSTATES.has(restError.code) && !operatorError && !(restError instanceof SchemaCacheMiss)) cache.markStale()
        sendRestError(res, restError, head)
      }
    },
  }
}

function methodNotAllowed(method: string, what: string): RestError {
  return new RestError(405, 'PGRST117', `Unsupported HTTP method: ${method}`, null, `This gateway serves ${what}`)
}

function parseAccept(value: string | undefined): Accept {
  if (!value) return { single: false, stripNulls: false }
  const unsupported: string[] = []
  for (const entry of value.split(',')) {
    const [type = '', ...parameters] = entry.split(';').map((s) => s.trim())
    const stripNulls = parameters.includes('nulls=stripped')
    if (type === 'application/vnd.pgrst.object+json' || type === 'application/vnd.pgrst.object') return { single: true, stripNulls }
    if (['application/json', 'application/vnd.pgrst.array+json', '*/*', 'application/*'].includes(type)) return { single: false, stripNulls }
    unsupported.push(type)
  }
  throw new RestError(406, 'PGRST107', `None of these media types are available: ${unsupported.join(', ')}`, null,
    'This gateway answers application/json and application/vnd.pgrst.object+json')
}
