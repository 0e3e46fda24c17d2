import type { Database } from '../../db/database.ts'
import { badRequest } from './auth-error.ts'
import { childRefreshToken, hashRefreshToken, loadSignInUser, sessionResponse, type SessionResponse, type TokenOptions } from './session-issuer.ts'
import { reissueChild, rotateRefreshToken } from './sql/sessions.ts'

/**
 * POST /token?grant_type=refresh_token with `{refresh_token}`: rotation with reuse detection, as
 * GoTrue does it. A refresh token rotates once; presented again within the reuse interval (10 s,
 * GoTrue's REFRESH_TOKEN_REUSE_INTERVAL) while its child is still the session's live token, it
 * gets that same child back: supabase-js can present one token twice, when a response is lost or
 * when it steals its own navigator lock after 10 s and refreshes beside the request still in
 * flight (a browser test on a loaded 2-core machine lost its session that way). Later, or once the
 * child has rotated on, a presentation means a second holder of the token, which is what reuse
 * detection exists to catch: the session is revoked. The child is derived from the presented
 * token (childRefreshToken) because the database keeps only hashes.
 */
export async function refreshGrant(db: Database, body: Record<string, unknown>, options: TokenOptions): Promise<SessionResponse> {
  const presented = body.refresh_token
  if (typeof presented !== 'string' || presented === '') {
    throw badRequest('validation_failed', 'refresh_token required: send the refresh_token of the session')
  }
  const presentedHash = hashRefreshToken(presented)
  const child = childRefreshToken(presented, options.keys)
  const result = await db.transaction(async (tx) => {
    let rotation
    try {
      rotation = await rotateRefreshToken(tx, presentedHash, child.hash, options.refreshTokenReuseSeconds ?? 0)
    } catch (error) {
      // The session was deleted (signed out) between finding the token and inserting its child.
      if ((error as { code?: string }).code === '23503') throw notFound()
      throw error
    }
    if (rotation.outcome === 'raced') {
      // A concurrent refresh of the same token won: answer with the child it issued, if still live.
      const session = await reissueChild(tx, presentedHash, child.hash)
      if (session) rotation = { outcome: 'rotated' as const, session }
    }
    // `reused` must commit: the session's deletion is the point of reuse detection.
    if (rotation.outcome !== 'rotated') return rotation
    return { ...rotation, user: await loadSignInUser(tx, rotation.session.user_id) }
  })
  switch (result.outcome) {
    case 'rotated':
      return sessionResponse(result.user, result.session, child.token, options)
    case 'reused':
      throw badRequest(
        'refresh_token_already_used',
        'Invalid Refresh Token: Already Used. A refresh token that was already rotated was presented again, so its session was revoked: sign in again',
      )
    case 'raced':
      throw badRequest(
        'refresh_token_already_used',
        'Invalid Refresh Token: Already Used by a concurrent refresh of the same session: use the session that refresh returned',
      )
    case 'not_found':
      throw notFound()
  }
}

const notFound = () =>
  badRequest('refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found (never issued, or its session was signed out): sign in again')
