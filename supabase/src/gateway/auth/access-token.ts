import type { IncomingMessage } from 'node:http'
import type { GatewayKeys } from '../config.ts'
import { header } from '../http.ts'
import { JwtError, signJwt, verifyJwt, type JwtClaims } from '../jwt.ts'
import { AuthApiError } from './auth-error.ts'
import type { SessionRow } from './sql/sessions.ts'
import type { AuthUser } from './sql/users.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** GoTrue's access-token claims for a user's session. */
export function accessTokenClaims(
  user: AuthUser,
  session: SessionRow,
  options: { issuer: string; lifetimeSeconds: number; now?: number },
): JwtClaims & { exp: number } {
  const iat = options.now ?? Math.floor(Date.now() / 1000)
  return {
    iss: options.issuer,
    sub: user.id,
    aud: 'authenticated',
    exp: iat + options.lifetimeSeconds,
    iat,
    email: user.email,
    phone: user.phone,
    app_metadata: user.app_metadata,
    user_metadata: user.user_metadata,
    role: 'authenticated',
    aal: session.aal,
    amr: [{ method: session.amr_method, timestamp: session.authenticated_at }],
    session_id: session.id,
    is_anonymous: user.is_anonymous,
  }
}

export function signAccessToken(claims: JwtClaims, keys: GatewayKeys): string {
  return signJwt(claims, keys.jwtSecret)
}

/** Who a user-facing endpoint (GET /user, POST /logout) is called by. */
export interface AuthenticatedCaller {
  userId: string
  sessionId?: string
  claims: JwtClaims
}

/**
 * GoTrue's `requireAuthentication`: a Bearer token that verifies with this install's secret and
 * names a user (`sub`). 401 `no_authorization` without a token, 403 `bad_jwt` for a bad or
 * expired one. Whether the user and session still exist is checked against the database next.
 */
export function authenticateBearer(req: IncomingMessage, keys: GatewayKeys): AuthenticatedCaller {
  const auth = header(req, 'authorization')
  const token = auth ? /^Bearer\s+(\S+)$/i.exec(auth.trim())?.[1] : undefined
  if (!token) throw new AuthApiError(401, 'no_authorization', 'This endpoint requires a valid Bearer token (the session access_token)')
  let claims: JwtClaims
  try {
    claims = verifyJwt(token, keys.jwtSecret)
  } catch (error) {
    if (!(error instanceof JwtError)) throw error
    const why = error.reason === 'expired' ? 'token is expired: refresh the session' : error.message
    throw new AuthApiError(403, 'bad_jwt', `invalid JWT: unable to parse or verify signature, ${why}`)
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') {
    throw new AuthApiError(403, 'bad_jwt', 'invalid claim: missing sub claim (an API key is not a user session: sign in first)')
  }
  if (!UUID.test(claims.sub)) throw new AuthApiError(403, 'bad_jwt', 'invalid claim: sub claim must be a UUID')
  const sessionId = claims.session_id
  if (sessionId !== undefined && (typeof sessionId !== 'string' || !UUID.test(sessionId))) {
    throw new AuthApiError(403, 'bad_jwt', 'invalid claim: session_id claim must be a UUID')
  }
  return { userId: claims.sub, claims, ...(sessionId ? { sessionId } : {}) }
}
