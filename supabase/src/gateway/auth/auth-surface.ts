import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GatewayContext, Surface } from '../gateway.ts'
import { header, PayloadTooLargeError, readJson } from '../http.ts'
import { assertApiKey, IdentityError } from '../identity.ts'
import { anonymousSignUp } from './anonymous-sign-up.ts'
import { AuthApiError, badRequest, sendAuthEmpty, sendAuthError, sendAuthJson } from './auth-error.ts'
import { refreshGrant } from './refresh-grant.ts'
import type { TokenOptions } from './session-issuer.ts'
import { getUser, logout, updateUser } from './user-endpoints.ts'
import { web3Grant } from './web3-grant.ts'

/** What GET /settings reports: the sign-in methods this gateway offers. */
const SETTINGS = {
  external: { anonymous_users: true, web3: true, email: false, phone: false },
  disable_signup: false,
  mailer_autoconfirm: false,
  phone_autoconfirm: false,
  sms_provider: '',
  saml_enabled: false,
}

/** A JSON object body within the limit: 413 beyond it, 400 `bad_json` for anything else. */
async function readObject(req: IncomingMessage, limitBytes: number): Promise<Record<string, unknown>> {
  let body: unknown
  try {
    body = await readJson(req, limitBytes)
  } catch (error) {
    if (error instanceof SyntaxError) throw badRequest('bad_json', `Could not parse request body as JSON: ${error.message}`)
    throw error
  }
  if (body === undefined) return {}
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('bad_json', 'The request body must be a JSON object')
  }
  return body as Record<string, unknown>
}

/**
 * Supabase Auth (GoTrue) at /auth/v1, for what supabase-js calls: anonymous sign-in, Sign-In with
 * Ethereum, refresh-token rotation, GET/PUT /user and logout. Sessions, refresh tokens, identities
 * and used SIWE nonces live in Postgres (platform/auth.sql), so several gateway processes in front
 * of one PostgreSQL server agree, and every answer carries GoTrue's API version so supabase-js
 * reads error codes.
 */
export function createAuthSurface(context: GatewayContext): Surface {
  const tokens = (): TokenOptions => ({
    keys: context.keys,
    issuer: `${context.url}/auth/v1`,
    accessTokenSeconds: context.limits.accessTokenSeconds,
    refreshTokenReuseSeconds: context.limits.refreshTokenReuseSeconds,
  })
  const userAgentOf = (req: IncomingMessage) => {
    const ua = header(req, 'user-agent')
    return ua ? { userAgent: ua.slice(0, 512) } : {}
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    const method = req.method ?? 'GET'
    const allow = (...methods: string[]) => {
      if (!methods.includes(method)) throw new AuthApiError(405, 'method_not_allowed', `${method} ${path} is not supported: use ${methods.join(' or ')}`)
    }
    const body = () => readObject(req, context.limits.jsonBodyBytes)
    switch (path) {
      case '/health':
        allow('GET')
        return sendAuthJson(res, 200, { name: 'GoTrue', version: 'oblivion-local', description: 'Oblivion gateway auth (GoTrue-compatible)' })
      case '/settings':
        allow('GET')
        return sendAuthJson(res, 200, SETTINGS)
      case '/signup':
        allow('POST')
        return sendAuthJson(res, 200, await anonymousSignUp(context.db, await body(), { ...tokens(), ...userAgentOf(req) }))
      case '/token': {
        allow('POST')
        const grantType = url.searchParams.get('grant_type')
        const payload = await body()
        if (grantType === 'web3') {
          return sendAuthJson(res, 200, await web3Grant(context.db, payload, { ...tokens(), allowedHosts: context.siweDomains, ...userAgentOf(req) }))
        }
        if (grantType === 'refresh_token') return sendAuthJson(res, 200, await refreshGrant(context.db, payload, tokens()))
        if (grantType === 'password' || grantType === 'pkce' || grantType === 'id_token') {
          throw new AuthApiError(422, 'provider_disabled', `grant_type=${grantType} is not offered by this gateway: use signInWithWeb3 (Ethereum) or signInAnonymously`)
        }
        throw badRequest('unsupported_grant_type', `Unsupported grant_type ${JSON.stringify(grantType)}: use web3 or refresh_token`)
      }
      case '/user':
        allow('GET', 'PUT')
        if (method === 'GET') return sendAuthJson(res, 200, await getUser(context.db, req, context.keys))
        return sendAuthJson(res, 200, await updateUser(context.db, req, context.keys, await body()))
      case '/logout':
        allow('POST')
        await logout(context.db, req, context.keys, url.searchParams.get('scope'))
        return sendAuthEmpty(res, 204)
      default:
        throw new AuthApiError(404, 'not_found', `No auth endpoint at /auth/v1${path}`)
    }
  }

  return {
    async handle(req, res, path, url) {
      try {
        // Hosted Supabase's API gateway refuses requests without this project's anon or
        // service_role key before they reach GoTrue.
        assertApiKey(header(req, 'apikey') ?? url.searchParams.get('apikey'), context.keys)
        await route(req, res, path, url)
      } catch (error) {
        if (error instanceof AuthApiError) return sendAuthError(res, error)
        if (error instanceof IdentityError) return sendAuthError(res, new AuthApiError(401, error.reason, error.message))
        if (error instanceof PayloadTooLargeError) return sendAuthError(res, new AuthApiError(413, 'request_too_large', error.message))
        throw error
      }
    },
  }
}
