import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto'
import type { Queryable } from '../../db/database.ts'
import type { GatewayKeys } from '../config.ts'
import { accessTokenClaims, signAccessToken } from './access-token.ts'
import { AuthApiError } from './auth-error.ts'
import { createSession, type SessionRow } from './sql/sessions.ts'
import { findUser, publicUser, type AuthUser } from './sql/users.ts'

/** What GoTrue answers a successful sign-in or refresh with (supabase-js needs all of it). */
export interface SessionResponse {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  expires_at: number
  refresh_token: string
  user: ReturnType<typeof publicUser>
}

export interface TokenOptions {
  keys: GatewayKeys
  /** The `iss` claim: `<gateway url>/auth/v1`, as GoTrue's API_EXTERNAL_URL. */
  issuer: string
  accessTokenSeconds: number
  /** See GatewayLimits.refreshTokenReuseSeconds (only the refresh grant reads it). */
  refreshTokenReuseSeconds?: number
}

/** A session's first refresh token: 256 random bits; the database keeps only its SHA-256. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashRefreshToken(token) }
}

/**
 * The token a refresh token rotates into: an HMAC of it under the gateway's secret. Derived, not
 * random, because the database keeps only hashes: a client that presents the same token again
 * within the reuse interval (a lost response, or supabase-js racing itself after stealing its
 * own lock) must get the very token the first refresh issued, and only its holder can ask.
 */
export function childRefreshToken(presented: string, keys: GatewayKeys): { token: string; hash: string } {
  const token = createHmac('sha256', keys.jwtSecret).update(`refresh-token-child:${presented}`).digest('base64url')
  return { token, hash: hashRefreshToken(token) }
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function sessionResponse(user: AuthUser, session: SessionRow, refreshToken: string, options: TokenOptions): SessionResponse {
  const claims = accessTokenClaims(user, session, { issuer: options.issuer, lifetimeSeconds: options.accessTokenSeconds })
  return {
    access_token: signAccessToken(claims, options.keys),
    token_type: 'bearer',
    expires_in: options.accessTokenSeconds,
    expires_at: claims.exp,
    refresh_token: refreshToken,
    user: publicUser(user),
  }
}

export async function loadSignInUser(q: Queryable, userId: string): Promise<AuthUser> {
  const user = await findUser(q, userId)
  if (!user) throw new AuthApiError(403, 'user_not_found', 'User does not exist (it was deleted)')
  if (user.banned) throw new AuthApiError(403, 'user_banned', 'User is banned')
  return user
}

/**
 * Starts a session for an existing user and answers it as GoTrue does: a new session row, its
 * first refresh token, and an access token naming the session. Reusable by other surfaces and
 * tests that need a real session (one that GET /auth/v1/user, refresh and logout accept).
 */
export async function issueSession(
  q: Queryable,
  options: TokenOptions & { userId: string; method: string; userAgent?: string },
): Promise<SessionResponse> {
  const user = await loadSignInUser(q, options.userId)
  const refresh = newRefreshToken()
  const session = await createSession(q, {
    id: randomUUID(),
    userId: user.id,
    amrMethod: options.method,
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    refreshTokenHash: refresh.hash,
  })
  return sessionResponse(user, session, refresh.token, options)
}
