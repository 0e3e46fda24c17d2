import { randomUUID } from 'node:crypto'
import type { Database } from '../../db/database.ts'
import { AuthApiError, badRequest } from './auth-error.ts'
import { issueSession, type SessionResponse, type TokenOptions } from './session-issuer.ts'
import { createAnonymousUser } from './sql/users.ts'

/**
 * POST /signup. supabase-js's `signInAnonymously()` sends `{data, gotrue_meta_security}` without
 * email, phone or password: a new anonymous user and its session. Email and phone sign-ups are
 * not offered by this gateway (Oblivion signs in with a wallet), answered as GoTrue does when
 * those providers are disabled.
 */
export async function anonymousSignUp(db: Database, body: Record<string, unknown>, options: TokenOptions & { userAgent?: string }): Promise<SessionResponse> {
  if (body.email !== undefined || body.password !== undefined) {
    throw new AuthApiError(422, 'email_provider_disabled', 'Email signups are disabled on this gateway: use signInWithWeb3 (Ethereum) or signInAnonymously')
  }
  if (body.phone !== undefined) {
    throw new AuthApiError(422, 'phone_provider_disabled', 'Phone signups are disabled on this gateway: use signInWithWeb3 (Ethereum) or signInAnonymously')
  }
  const data = body.data ?? {}
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw badRequest('validation_failed', '"data" (the new user\'s user_metadata) must be a JSON object')
  }
  return db.transaction(async (tx) => {
    const userId = randomUUID()
    await createAnonymousUser(tx, userId, data as Record<string, unknown>)
    return issueSession(tx, { ...options, userId, method: 'anonymous' })
  })
}
