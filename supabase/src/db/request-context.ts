import type { Database, Queryable } from './database.ts'
import { after, sendAhead } from './send-ahead.ts'

/** Who a request runs as: the JWT's role and claims, exactly as PostgREST applies them. */
export interface RequestIdentity {
  role: 'anon' | 'authenticated' | 'service_role'
  /** JWT claims; `sub` is the auth user id that `auth.uid()` returns. */
  claims?: Record<string, unknown>
}

export interface RequestOptions {
  method?: string
  path?: string
  /** GET/HEAD run READ ONLY in PostgREST. */
  readOnly?: boolean
  /**
   * `fn` runs one statement and the request's outcome cannot depend on its result (no rollback
   * decided after it): COMMIT travels right behind it (TransactionOptions.commitAfterStatements).
   */
  oneStatement?: boolean
}

/**
 * Runs `fn` as one PostgREST request: one transaction whose first statement switches to the
 * JWT's role and publishes the claims that `auth.uid()`/`auth.role()`/`auth.jwt()` read, so RLS
 * and grants decide exactly as on hosted Supabase. The settings are transaction-local
 * (`set_config(..., true)`), so nothing leaks to the next request on the same connection —
 * which matters on PGlite, where every request shares one session.
 */
export function withRequestContext<T>(
  db: Database,
  identity: RequestIdentity,
  fn: (tx: Queryable) => Promise<T>,
  options: RequestOptions = {},
): Promise<T> {
  const claims = { role: identity.role, ...identity.claims }
  return db.transaction(async (tx) => {
    // One statement sets everything (a separate `set transaction read only` would be another),
    // and it is sent ahead: it leaves with the request's own statement, in one write.
    const context = sendAhead(tx.query(
      `select set_config('role', $1::text, true),
              set_config('request.jwt.claims', $2::text, true),
              set_config('request.method', $3::text, true),
              set_config('request.path', $4::text, true),
              set_config('transaction_read_only', $5::text, true)`,
      [identity.role, JSON.stringify(claims), options.method ?? 'POST', options.path ?? '/', options.readOnly ? 'on' : 'off'],
      { prepared: true },
    ))
    return after(context, () => fn(tx))
  }, options.oneStatement ? { commitAfterStatements: 2 } : {})
}

/** The identity of a signed-in user, as the gateway derives it from a valid access token. */
export function userIdentity(userId: string, extraClaims: Record<string, unknown> = {}): RequestIdentity {
  return { role: 'authenticated', claims: { sub: userId, aud: 'authenticated', ...extraClaims } }
}

export const anonIdentity: RequestIdentity = { role: 'anon', claims: {} }
export const serviceIdentity: RequestIdentity = { role: 'service_role', claims: {} }
