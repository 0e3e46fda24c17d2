import type { IncomingMessage } from 'node:http'
import type { Database, Queryable } from '../../db/database.ts'
import type { GatewayKeys } from '../config.ts'
import { authenticateBearer, type AuthenticatedCaller } from './access-token.ts'
import { AuthApiError, badRequest } from './auth-error.ts'
import { deleteSessions, sessionExists, type LogoutScope } from './sql/sessions.ts'
import { findUser, publicUser, type AuthUser } from './sql/users.ts'

/**
 * GoTrue's `requireAuthentication` plus its user/session load: the token must verify, its user
 * exist, and the session it names still exist — a signed-out or revoked session's access tokens
 * stop working here at once, even before they expire (403 `session_not_found`, which supabase-js
 * turns into AuthSessionMissingError and a local sign-out).
 */
async function authenticatedUser(q: Queryable, req: IncomingMessage, keys: GatewayKeys): Promise<{ caller: AuthenticatedCaller; user: AuthUser }> {
  const caller = authenticateBearer(req, keys)
  const user = await findUser(q, caller.userId)
  if (!user) throw new AuthApiError(403, 'user_not_found', 'User from sub claim in JWT does not exist')
  if (caller.sessionId && !(await sessionExists(q, caller.sessionId, caller.userId))) {
    throw new AuthApiError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist: the user signed out or the session was revoked; sign in again')
  }
  return { caller, user }
}

/** GET /user: the bare user object. */
export async function getUser(db: Database, req: IncomingMessage, keys: GatewayKeys) {
  const { user } = await authenticatedUser(db, req, keys)
  return publicUser(user)
}

/**
 * PUT /user with `{data}`: merges `data` into the user's user_metadata (supabase-js
 * `updateUser({ data })`). Email, phone and password changes are not offered by this gateway.
 */
export async function updateUser(db: Database, req: IncomingMessage, keys: GatewayKeys, body: Record<string, unknown>) {
  for (const field of ['email', 'phone', 'password', 'nonce'] as const) {
    if (body[field] !== undefined) {
      throw new AuthApiError(422, 'validation_failed', `Changing ${field} is not supported by this gateway: only "data" (user_metadata) can be updated`)
    }
  }
  const data = body.data
  if (data === undefined || data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw badRequest('validation_failed', '"data" must be a JSON object of user_metadata fields to set')
  }
  return db.transaction(async (tx) => {
    const { user } = await authenticatedUser(tx, req, keys)
    await tx.query(
      `update auth.users set raw_user_meta_data = raw_user_meta_data || $2::jsonb, updated_at = now() where id = $1::uuid`,
      [user.id, JSON.stringify(data)],
    )
    return publicUser((await findUser(tx, user.id))!)
  })
}

const SCOPES: readonly LogoutScope[] = ['global', 'local', 'others']

/**
 * POST /logout?scope=global|local|others: ends all the user's sessions, this one, or all but
 * this one. Their refresh tokens go with them; access tokens naming them fail GET /user.
 */
export async function logout(db: Database, req: IncomingMessage, keys: GatewayKeys, scopeParam: string | null): Promise<void> {
  const scope = (scopeParam ?? 'global') as LogoutScope
  if (!SCOPES.includes(scope)) {
    throw badRequest('validation_failed', `Unsupported logout scope ${JSON.stringify(scopeParam)}: use global, local or others`)
  }
  await db.transaction(async (tx) => {
    const { caller } = await authenticatedUser(tx, req, keys)
    await deleteSessions(tx, caller.userId, caller.sessionId, scope)
  })
}
