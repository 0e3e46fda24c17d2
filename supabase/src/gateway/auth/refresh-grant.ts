import type { Database } from '../../db/database.ts'
import { badRequest } from './auth-error.ts'
import { hashRefreshToken, loadSignInUser, newRefreshToken, sessionResponse, type SessionResponse, type TokenOptions } from './session-issuer.ts'
import { rotateRefreshToken } from './sql/sessions.ts'

/**
 * POST /token?grant_type=refresh_token with `{refresh_token}`: rotation with reuse detection.
 *
 * A refresh token works exactly once. GoTrue is more lenient: by default it lets a rotated token
 * be used again within REFRESH_TOKEN_REUSE_INTERVAL (10 s), and always when it is the parent of
 * the session's current token (a client that lost the response), answering with the current
 * token instead of a new one. We choose a reuse interval of 0: any later presentation of a
 * rotated token revokes the whole session (`refresh_token_already_used`, like GoTrue past its
 * interval). supabase-js never needs the leniency within one client — it runs one refresh at a
 * time (its `refreshingDeferred` and storage lock) and stores the result before using it —
 * so a second presentation means a second holder of the token, which is what reuse detection
 * exists to catch. The one benign case, two requests racing on the same token, is told apart
 * in SQL (see rotateRefreshToken): the loser is refused and the winner's session is kept.
 */
export async function refreshGrant(db: Database, body: Record<string, unknown>, options: TokenOptions): Promise<SessionResponse> {
  const presented = body.refresh_token
  if (typeof presented !== 'string' || presented === '') {
    throw badRequest('validation_failed', 'refresh_token required: send the refresh_token of the session')
  }
  const next = newRefreshToken()
  const result = await db.transaction(async (tx) => {
    let rotation
    try {
      rotation = await rotateRefreshToken(tx, hashRefreshToken(presented), next.hash)
    } catch (error) {
      // The session was deleted (signed out) between finding the token and inserting its child.
      if ((error as { code?: string }).code === '23503') throw notFound()
      throw error
    }
    // `reused` must commit: the session's deletion is the point of reuse detection.
    if (rotation.outcome !== 'rotated') return rotation
    return { ...rotation, user: await loadSignInUser(tx, rotation.session.user_id) }
  })
  switch (result.outcome) {
    case 'rotated':
      return sessionResponse(result.user, result.session, next.token, options)
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
