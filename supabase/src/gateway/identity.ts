import type { IncomingMessage } from 'node:http'
import type { RequestIdentity } from '../db/request-context.ts'
import type { GatewayKeys } from './config.ts'
import { header } from './http.ts'
import { JwtError, verifyJwt, type JwtClaims } from './jwt.ts'

export const API_ROLES = ['anon', 'authenticated', 'service_role'] as const
export type ApiRole = (typeof API_ROLES)[number]

/** Who sent a request: the database role and claims it runs as, and the token it came with. */
export interface CallerIdentity extends RequestIdentity {
  claims: JwtClaims
  token: string
}

/** Why a request has no usable identity; each surface answers it in its own error shape. */
export class IdentityError extends Error {
  constructor(
    readonly reason: 'no_api_key' | 'invalid_api_key' | JwtError['reason'] | 'bad_role',
    message: string,
  ) {
    super(message)
    this.name = 'IdentityError'
  }
}

/**
 * The API key gate hosted Supabase puts in front of REST, Auth and Realtime: `apikey` (header, or
 * the query parameter websockets use) must be this install's anon or service_role key.
 */
export function assertApiKey(apikey: string | null | undefined, keys: GatewayKeys): void {
  if (!apikey) {
    throw new IdentityError('no_api_key', 'No API key found in request: send the anon key as the apikey header')
  }
  if (apikey !== keys.anonKey && apikey !== keys.serviceRoleKey) {
    throw new IdentityError('invalid_api_key', 'Invalid API key: use the anon key `npm start` printed for this install')
  }
}

/** Verifies a bearer token (an API key or a user's access token) and maps it to a database role. */
export function identityFromToken(token: string, keys: GatewayKeys): CallerIdentity {
  let claims: JwtClaims
  try {
    claims = verifyJwt(token, keys.jwtSecret)
  } catch (error) {
    if (error instanceof JwtError) throw new IdentityError(error.reason, error.message)
    throw error
  }
  const role = claims.role ?? 'anon'
  if (!(API_ROLES as readonly string[]).includes(role)) {
    throw new IdentityError('bad_role', `JWT role ${JSON.stringify(role)} is not one of ${API_ROLES.join(', ')}`)
  }
  return { role: role as ApiRole, claims, token }
}

/** `Authorization: Bearer <jwt>`, else the `apikey` header, as PostgREST behind Kong sees it. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const auth = header(req, 'authorization')
  const match = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null
  return match?.[1] ?? header(req, 'apikey')
}

/** The caller of an HTTP request that went through the API key gate. */
export function callerOf(req: IncomingMessage, keys: GatewayKeys): CallerIdentity {
  assertApiKey(header(req, 'apikey'), keys)
  return identityFromToken(bearerToken(req)!, keys)
}
