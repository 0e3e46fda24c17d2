import { PayloadTooLargeError } from '../http.ts'
import { IdentityError } from '../identity.ts'

/**
 * An error answered in PostgREST's shape `{code, details, hint, message}`. `code` is a SQLSTATE
 * (forwarded from Postgres) or one of PostgREST's own `PGRSTxxx` codes, so supabase-js users see
 * on our gateway exactly what hosted Supabase would give them.
 */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'RestError'
  }

  get body() {
    return { code: this.code, details: this.details, hint: this.hint, message: this.message }
  }
}

/**
 * Raised while planning a request when a table, function, column or relationship is not in the
 * schema cache: the caller reloads the cache once and plans again (tables created after start).
 */
export class SchemaCacheMiss extends RestError {}

/** PGRST100: the query string does not follow PostgREST's grammar. */
export function parseError(what: string, near: string): RestError {
  return new RestError(400, 'PGRST100', `"failed to parse ${what} (${near})"`, null,
    'See https://docs.postgrest.org/en/v12/references/api/tables_views.html for the filter and select grammar')
}

interface PgLikeError {
  code: string
  message: string
  detail?: string
  hint?: string
}

/** Errors from node-pg and PGlite carry a five-character SQLSTATE in `code`. */
function isDatabaseError(error: unknown): error is PgLikeError {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof (error as Error).message === 'string'
}

/** PostgREST's SQLSTATE → HTTP status table (docs.postgrest.org, "HTTP Status Codes"). */
export function statusOfSqlState(code: string, role: string): number {
  if (code === '42501') return role === 'anon' ? 401 : 403
  if (code === '23503' || code === '23505') return 409
  if (code === '25006') return 405
  if (code === '42P01' || code === '42883') return 404
  if (code === 'P0001') return 400
  if (code === '53400') return 500
  const cls = code.slice(0, 2)
  if (cls === '08' || cls === '53') return 503
  if (cls === '0L' || cls === '0P' || cls === '28') return 403
  if (['09', '25', '2D', '38', '39', '3B', '40', '54', '55', '57', '58', 'F0', 'HV', 'P0', 'XX'].includes(cls)) return 500
  return 400
}

const JWT_HINT = 'Sign in again to get a fresh access token, or send the anon key as the bearer token'

/**
 * Any error a REST request can end in, as the response PostgREST (behind hosted Supabase's API
 * gateway) gives. `undefined` for a bug: the gateway logs it and answers 500.
 */
export function toRestError(error: unknown, role: string): RestError | undefined {
  if (error instanceof RestError) return error
  if (error instanceof IdentityError) {
    // The API key gate answers in Kong's shape; token problems in PostgREST's.
    if (error.reason === 'no_api_key') {
      return new RestError(401, 'PGRST301', 'No API key found in request', null, 'No `apikey` request header or url param was found.')
    }
    if (error.reason === 'invalid_api_key') {
      return new RestError(401, 'PGRST301', 'Invalid API key', null, 'Double check your Supabase `anon` or `service_role` API key.')
    }
    const expired = error.reason === 'expired'
    const message = expired ? 'JWT expired' : error.message
    return new RestError(401, expired ? 'PGRST303' : 'PGRST301', message, null, JWT_HINT, {
      'WWW-Authenticate': `Bearer error="invalid_token", error_description="${message.replace(/"/g, "'")}"`,
    })
  }
  if (error instanceof PayloadTooLargeError) {
    return new RestError(413, 'PGRST413', error.message, `The gateway's limit is ${error.limitBytes} bytes per JSON body (limits.jsonBodyBytes)`,
      'Send fewer rows per request, or put large payloads in Storage and keep a reference in the row')
  }
  if (isDatabaseError(error)) {
    const status = statusOfSqlState(error.code, role)
    return new RestError(status, error.code, error.message, error.detail ?? null, error.hint ?? null,
      status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {})
  }
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|57P0\d)$/.test(code)) {
    return new RestError(503, 'PGRST000', 'Could not connect with the database', (error as Error).message,
      'Check that PostgreSQL is running and DATABASE_URL points at it')
  }
  return undefined
}
