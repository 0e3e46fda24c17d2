import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * HS256 JSON Web Tokens, as GoTrue issues them and PostgREST/Realtime/Storage verify them.
 * Node's crypto has HMAC, which is all HS256 needs; a dependency would add nothing.
 */
export type JwtClaims = Record<string, unknown> & { role?: string; sub?: string; exp?: number; iat?: number }

export class JwtError extends Error {
  constructor(
    readonly reason: 'malformed' | 'bad_signature' | 'unsupported_algorithm' | 'expired' | 'not_yet_valid',
    message: string,
  ) {
    super(message)
    this.name = 'JwtError'
  }
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url')
const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))

function hmac(secret: string, input: string): Buffer {
  return createHmac('sha256', secret).update(input).digest()
}

export function signJwt(claims: JwtClaims, secret: string): string {
  const body = `${HEADER}.${base64url(JSON.stringify(claims))}`
  return `${body}.${base64url(hmac(secret, body))}`
}

/** Verifies signature, `exp` and `nbf` (seconds since the epoch, no leeway) and returns the claims. */
export function verifyJwt(token: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): JwtClaims {
  const parts = token.split('.')
  if (parts.length !== 3) throw new JwtError('malformed', 'The token is not a JWT (expected three dot-separated parts)')
  const [header, payload, signature] = parts as [string, string, string]
  let alg: unknown
  let claims: unknown
  try {
    alg = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')).alg
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  } catch {
    throw new JwtError('malformed', 'The token is not a JWT (its header or payload is not base64url JSON)')
  }
  if (alg !== 'HS256') {
    // Not echoed: an unsigned header is attacker text (and ends up in WWW-Authenticate headers).
    throw new JwtError('unsupported_algorithm', 'JWT algorithm is not accepted; tokens are HS256')
  }
  const expected = hmac(secret, `${header}.${payload}`)
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JwtError('bad_signature', 'JWT signature does not match: the token was not issued by this gateway')
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new JwtError('malformed', 'The JWT payload is not a JSON object')
  }
  const c = claims as JwtClaims
  if (typeof c.exp === 'number' && nowSeconds >= c.exp) throw new JwtError('expired', 'JWT expired')
  if (typeof c.nbf === 'number' && nowSeconds < c.nbf) throw new JwtError('not_yet_valid', 'JWT is not valid yet (nbf)')
  return c
}
