import { randomUUID } from 'node:crypto'
import { isAuthSessionMissingError } from '@supabase/supabase-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signJwt } from '../../../src/gateway/jwt.ts'
import { BACKENDS } from '../../support/databases.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { authFetch, countRows, jwtPayload } from './auth-helpers.ts'

describe.each(BACKENDS)('anonymous sign-in, GET/PUT /user and bad input on %s', (backend) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(backend)
  })
  afterAll(() => gw?.close())

  it('signs in anonymously: a session getUser accepts, is_anonymous, a row in auth.users', async () => {
    const client = gw.anonClient()
    const { data, error } = await client.auth.signInAnonymously({ options: { data: { nickname: 'worker-7' } } })
    expect(error).toBeNull()
    const { session, user } = data
    expect(user).toMatchObject({ is_anonymous: true, role: 'authenticated', aud: 'authenticated', user_metadata: { nickname: 'worker-7' } })
    expect(jwtPayload(session!.access_token)).toMatchObject({
      sub: user!.id,
      role: 'authenticated',
      is_anonymous: true,
      amr: [{ method: 'anonymous', timestamp: expect.any(Number) }],
    })
    const { rows } = await gw.db.query<{ is_anonymous: boolean }>(`select is_anonymous from auth.users where id = $1::uuid`, [user!.id])
    expect(rows).toEqual([{ is_anonymous: true }])

    // The client keeps the session: getUser() without arguments uses it.
    const { data: me, error: meError } = await client.auth.getUser()
    expect(meError).toBeNull()
    expect(me.user).toMatchObject({ id: user!.id, is_anonymous: true })
  })

  it('updates user_metadata with updateUser({ data })', async () => {
    const client = gw.anonClient()
    const { data: signedIn } = await client.auth.signInAnonymously()
    const { data, error } = await client.auth.updateUser({ data: { theme: 'dark' } })
    expect(error).toBeNull()
    expect(data.user).toMatchObject({ id: signedIn.user!.id, user_metadata: { theme: 'dark' } })
    const refused = await client.auth.updateUser({ email: 'a@b.example' })
    expect(refused.error).toMatchObject({ status: 422, code: 'validation_failed' })
  })

  it('refuses an expired access token (403 bad_jwt), a forged one, and an API key as a user', async () => {
    const { data } = await gw.anonClient().auth.signInAnonymously()
    const claims = jwtPayload(data.session!.access_token)
    const now = Math.floor(Date.now() / 1000)
    const expired = signJwt({ ...claims, iat: now - 7200, exp: now - 3600 }, gw.keys.jwtSecret)
    const viaClient = await gw.anonClient().auth.getUser(expired)
    expect(viaClient.data.user).toBeNull()
    expect(viaClient.error).toMatchObject({ status: 403, code: 'bad_jwt' })
    expect(viaClient.error!.message).toMatch(/expired/)

    const forged = signJwt({ ...claims, exp: now + 3600 }, 'not-the-secret')
    expect((await authFetch(gw, '/user', { method: 'GET', bearer: forged })).body).toMatchObject({ code: 'bad_jwt' })
    const anonAsUser = await authFetch(gw, '/user', { method: 'GET', bearer: gw.keys.anonKey })
    expect(anonAsUser).toMatchObject({ status: 403, body: { code: 'bad_jwt' } })
    expect(await authFetch(gw, '/user', { method: 'GET' })).toMatchObject({ status: 401, body: { code: 'no_authorization' } })
  })

  it('refuses a valid token whose session or user does not exist', async () => {
    const { data } = await gw.anonClient().auth.signInAnonymously()
    const claims = jwtPayload(data.session!.access_token)
    const otherSession = signJwt({ ...claims, session_id: randomUUID() }, gw.keys.jwtSecret)
    const res = await authFetch(gw, '/user', { method: 'GET', bearer: otherSession })
    expect(res).toMatchObject({ status: 403, body: { code: 'session_not_found' } })
    expect(res.headers.get('x-supabase-api-version')).toBe('2024-01-01')
    const { error } = await gw.anonClient().auth.getUser(otherSession)
    expect(isAuthSessionMissingError(error)).toBe(true)

    const ghost = signJwt({ ...claims, sub: randomUUID() }, gw.keys.jwtSecret)
    expect(await authFetch(gw, '/user', { method: 'GET', bearer: ghost })).toMatchObject({ status: 403, body: { code: 'user_not_found' } })
  })

  it('answers bad input with 400 codes, a missing API key with 401, a huge body with 413', async () => {
    const unknownGrant = await authFetch(gw, '/token?grant_type=magic', { body: {} })
    expect(unknownGrant).toMatchObject({ status: 400, body: { code: 'unsupported_grant_type' } })
    expect(await authFetch(gw, '/token', { body: {} })).toMatchObject({ status: 400, body: { code: 'unsupported_grant_type' } })
    expect(await authFetch(gw, '/token?grant_type=refresh_token', { body: {} })).toMatchObject({ status: 400, body: { code: 'validation_failed' } })
    expect(await authFetch(gw, '/token?grant_type=web3', { body: { chain: 'ethereum' } })).toMatchObject({
      status: 400,
      body: { code: 'validation_failed' },
    })
    expect(await authFetch(gw, '/token?grant_type=web3', { body: { chain: 'solana', message: 'x', signature: 'y' } })).toMatchObject({
      status: 400,
      body: { code: 'web3_unsupported_chain' },
    })
    expect(await authFetch(gw, '/token?grant_type=refresh_token', { rawBody: '{"refresh_token": ' })).toMatchObject({
      status: 400,
      body: { code: 'bad_json' },
    })
    expect(await authFetch(gw, '/signup', { rawBody: '[1,2]' })).toMatchObject({ status: 400, body: { code: 'bad_json' } })
    expect(await authFetch(gw, '/signup', { body: { email: 'a@b.example', password: 'hunter22' } })).toMatchObject({
      status: 422,
      body: { code: 'email_provider_disabled' },
    })
    expect(await authFetch(gw, '/token?grant_type=password', { body: { email: 'a@b.example', password: 'x' } })).toMatchObject({ status: 422 })
    expect(await authFetch(gw, '/nope', { body: {} })).toMatchObject({ status: 404, body: { code: 'not_found' } })
    expect(await authFetch(gw, '/signup', { method: 'GET' })).toMatchObject({ status: 405 })

    const usersBefore = await countRows(gw, 'auth.users')
    expect(await authFetch(gw, '/signup', { body: {}, apikey: null })).toMatchObject({ status: 401, body: { code: 'no_api_key' } })
    expect(await authFetch(gw, '/signup', { body: {}, apikey: 'not-a-key' })).toMatchObject({ status: 401, body: { code: 'invalid_api_key' } })
    expect(await authFetch(gw, '/signup', { rawBody: JSON.stringify({ data: { blob: 'x'.repeat(1024 * 1024 + 1) } }) })).toMatchObject({
      status: 413,
      body: { code: 'request_too_large' },
    })
    expect(await countRows(gw, 'auth.users')).toBe(usersBefore)
  })

  it('the client reads those errors as AuthApiError with GoTrue codes', async () => {
    const { data, error } = await gw.anonClient().auth.refreshSession({ refresh_token: 'never-issued' })
    expect(data.session).toBeNull()
    expect(error).toMatchObject({ name: 'AuthApiError', status: 400, code: 'refresh_token_not_found' })
  })
})
