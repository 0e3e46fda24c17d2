import type { IncomingMessage } from 'node:http'
import type { GatewayKeys } from '../config.ts'
import { bearerToken, IdentityError, identityFromToken, type CallerIdentity } from '../identity.ts'
import { storageErrors } from './storage-errors.ts'

/**
 * The caller of an authenticated storage request. storage-api has no apikey gate of its own: it
 * verifies the bearer JWT (supabase-js sends the anon key when nobody is signed in).
 */
export function storageCaller(req: IncomingMessage, keys: GatewayKeys): CallerIdentity {
  const token = bearerToken(req)
  if (!token) {
    throw storageErrors.invalidJwt('No authorization token: send Authorization: Bearer <anon key or session token>')
  }
  try {
    return identityFromToken(token, keys)
  } catch (error) {
    if (error instanceof IdentityError) throw storageErrors.invalidJwt(error.message)
    throw error
  }
}

/** `owner` (uuid) and `owner_id` (text) as storage-api fills them from the JWT's `sub`. */
export function ownerOf(caller: CallerIdentity): { owner: string | null; ownerId: string | null } {
  const sub = typeof caller.claims.sub === 'string' && caller.claims.sub !== '' ? caller.claims.sub : null
  const isUuid = sub !== null && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sub)
  return { owner: isUuid ? sub : null, ownerId: sub }
}
