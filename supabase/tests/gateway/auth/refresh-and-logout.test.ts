import { isAuthSessionMissingError, type Session } from '@supabase/supabase-js'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '../../support/databases.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { hashRefreshToken } from '../../../src/gateway/auth/session-issuer.ts'
import { authFetch, countRows, jwtPayload, signedSiwe } from './auth-helpers.ts'

describe.each(BACKENDS)('refresh-token rotation and logout on %s', (backend) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway(backend)
  })
  afterAll(() => gw?.close())

  async function walletSession(wallet = Wallet.createRandom()): Promise<Session> {
    const { data, error } = await gw.anonClient().auth.signInWithWeb3({ chain: 'ethereum', ...(await signedSiwe(wallet)) })
    expect(error).toBeNull()
    return data.session!
  }
  // A fresh client per call: supabase-js caches a failed refresh per token for a while.
  const refresh = (refreshToken: string) => gw.anonClient().auth.refreshSession({ refresh_token: refreshToken })
  const getUser = (accessToken: string) => gw.anonClient().auth.getUser(accessToken)
  /** As if the token had been rotated 11 s ago: past the 10 s reuse interval. */
  const ageRotation = (refreshToken: string) =>
    gw.db.query(`update auth.refresh_tokens set updated_at = now() - interval '11 seconds' where token_hash = $1`, [hashRefreshToken(refreshToken)])

  it('rotates: a new refresh token and access token for the same session and user', async () => {
    const first = await walletSession()
    const { data, error } = await refresh(first.refresh_token)
    expect(error).toBeNull()
    const second = data.session!
    expect(second.refresh_token).not.toBe(first.refresh_token)
    expect(second.user.id).toBe(first.user.id)
    const before = jwtPayload(first.access_token)
    const after = jwtPayload(second.access_token)
    expect(after.session_id).toBe(before.session_id)
    expect(after.amr).toEqual(before.amr) // how the user authenticated does not change on refresh
    expect((await refresh(second.refresh_token)).error).toBeNull()
  })

  it('a rotated token presented again within 10 s gets the same new token (a lost response, a retry), without a new rotation', async () => {
    const first = await walletSession()
    const second = (await refresh(first.refresh_token)).data.session!
    const again = await refresh(first.refresh_token)
    expect(again.error).toBeNull()
    expect(again.data.session!.refresh_token).toBe(second.refresh_token)
    expect(jwtPayload(again.data.session!.access_token).session_id).toBe(jwtPayload(first.access_token).session_id)
    expect(await countRows(gw, 'auth.refresh_tokens', `session_id = $1::uuid`, [jwtPayload(first.access_token).session_id])).toBe(2)
    // The session goes on from there, once.
    const third = (await refresh(second.refresh_token)).data.session!
    expect(third.refresh_token).not.toBe(second.refresh_token)
    // Once the child has rotated on, the grandparent is a replay even within the interval.
    expect((await refresh(first.refresh_token)).error).toMatchObject({ code: 'refresh_token_already_used' })
    expect(isAuthSessionMissingError((await getUser(third.access_token)).error)).toBe(true)
  })

  it('a rotated token presented again after the reuse interval is refused and revokes the whole session', async () => {
    const first = await walletSession()
    const second = (await refresh(first.refresh_token)).data.session!
    await ageRotation(first.refresh_token)

    const reused = await refresh(first.refresh_token)
    expect(reused.data.session).toBeNull()
    expect(reused.error).toMatchObject({ name: 'AuthApiError', status: 400, code: 'refresh_token_already_used' })

    // The newest token no longer refreshes, and the session's access tokens stop working.
    expect((await refresh(second.refresh_token)).error).toMatchObject({ code: 'refresh_token_not_found' })
    expect(isAuthSessionMissingError((await getUser(second.access_token)).error)).toBe(true)
    expect(await countRows(gw, 'auth.sessions', `id = $1::uuid`, [jwtPayload(first.access_token).session_id])).toBe(0)
  })

  it('two concurrent refreshes of one token rotate it once and both get the new token', async () => {
    for (let round = 0; round < 3; round++) {
      const session = await walletSession()
      const results = await Promise.all([refresh(session.refresh_token), refresh(session.refresh_token)])
      for (const r of results) expect(r.error).toBeNull()
      expect(results[0]!.data.session!.refresh_token).toBe(results[1]!.data.session!.refresh_token)
      expect(await countRows(gw, 'auth.refresh_tokens', `session_id = $1::uuid`, [jwtPayload(session.access_token).session_id])).toBe(2)
      expect((await refresh(results[0]!.data.session!.refresh_token)).error).toBeNull()
    }
  })

  it('refreshing keeps other sessions of the same user apart', async () => {
    const wallet = Wallet.createRandom()
    const laptop = await walletSession(wallet)
    const phone = await walletSession(wallet)
    expect(jwtPayload(laptop.access_token).session_id).not.toBe(jwtPayload(phone.access_token).session_id)
    await refresh(laptop.refresh_token)
    await ageRotation(laptop.refresh_token)
    expect((await refresh(laptop.refresh_token)).error).toMatchObject({ code: 'refresh_token_already_used' })
    // Only the laptop's session was revoked.
    expect((await refresh(phone.refresh_token)).error).toBeNull()
  })

  it('signOut (global): refresh fails and the old access token fails getUser', async () => {
    const wallet = Wallet.createRandom()
    const client = gw.anonClient()
    const { data } = await client.auth.signInWithWeb3({ chain: 'ethereum', ...(await signedSiwe(wallet)) })
    const session = data.session!
    const elsewhere = await walletSession(wallet)

    const { error } = await client.auth.signOut()
    expect(error).toBeNull()
    expect((await client.auth.getSession()).data.session).toBeNull()

    expect((await refresh(session.refresh_token)).error).toMatchObject({ status: 400, code: 'refresh_token_not_found' })
    expect((await refresh(elsewhere.refresh_token)).error).toMatchObject({ code: 'refresh_token_not_found' })
    const res = await authFetch(gw, '/user', { method: 'GET', bearer: session.access_token })
    expect(res).toMatchObject({ status: 403, body: { code: 'session_not_found' } })
    expect(isAuthSessionMissingError((await getUser(session.access_token)).error)).toBe(true)
    expect(await countRows(gw, 'auth.sessions', `user_id = $1::uuid`, [session.user.id])).toBe(0)
  })

  it('logout scopes: local ends this session, others every other one', async () => {
    const wallet = Wallet.createRandom()
    const [a, b, c] = [await walletSession(wallet), await walletSession(wallet), await walletSession(wallet)]

    expect(await authFetch(gw, '/logout?scope=others', { bearer: a.access_token })).toMatchObject({ status: 204 })
    expect((await getUser(a.access_token)).error).toBeNull()
    expect(isAuthSessionMissingError((await getUser(b.access_token)).error)).toBe(true)
    expect((await refresh(c.refresh_token)).error).toMatchObject({ code: 'refresh_token_not_found' })

    const d = await walletSession(wallet)
    expect(await authFetch(gw, '/logout?scope=local', { bearer: a.access_token })).toMatchObject({ status: 204 })
    expect(isAuthSessionMissingError((await getUser(a.access_token)).error)).toBe(true)
    expect((await getUser(d.access_token)).error).toBeNull()

    expect(await authFetch(gw, '/logout?scope=everywhere', { bearer: d.access_token })).toMatchObject({
      status: 400,
      body: { code: 'validation_failed' },
    })
    // Logging out again with a token of an ended session: GoTrue's 403, which supabase-js treats as signed out.
    expect(await authFetch(gw, '/logout', { bearer: a.access_token })).toMatchObject({ status: 403, body: { code: 'session_not_found' } })
  })
})
