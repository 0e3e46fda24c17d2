import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashRefreshToken } from '../../../src/gateway/auth/session-issuer.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { jwtPayload, signedSiwe } from './auth-helpers.ts'

type AuthClient = ReturnType<TestGateway['anonClient']>['auth']

// Only a PostgreSQL server can interleave two refreshes of one token: PGlite runs one
// transaction at a time, so there the later refresh always sees the token already rotated
// (covered, on both backends, by refresh-and-logout.test.ts).
describe('a refresh that loses a race on a PostgreSQL server', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway('postgres')
  })
  afterAll(() => gw?.close())

  it('is refused without revoking the session the winner just refreshed', async () => {
    const { data } = await gw.anonClient().auth.signInWithWeb3({ chain: 'ethereum', ...(await signedSiwe(Wallet.createRandom())) })
    const session = data.session!
    const sessionId = jwtPayload(session.access_token).session_id

    let loser: ReturnType<AuthClient['refreshSession']> | undefined
    await gw.db.transaction(async (winner) => {
      // The "winner" rotates the token and holds its row lock until it commits.
      await winner.query(`update auth.refresh_tokens set revoked = true, updated_at = now() where token_hash = $1`, [
        hashRefreshToken(session.refresh_token),
      ])
      loser = gw.anonClient().auth.refreshSession({ refresh_token: session.refresh_token })
      // Commit only once the loser's statement is waiting on that lock (its snapshot predates the
      // commit). Polled from another connection: pg_stat_activity is frozen within a transaction.
      for (let polls = 0; ; polls++) {
        const { rows } = await gw.db.query(
          `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%presented%'`,
        )
        if (rows.length > 0) break
        if (polls > 1000) throw new Error('the refresh never waited on the rotated token: is the rotation still one locking statement?')
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })
    const { data: lost, error } = await loser!
    expect(lost.session).toBeNull()
    expect(error).toMatchObject({ status: 400, code: 'refresh_token_already_used' })
    expect(error!.message).toMatch(/concurrent refresh/)
    const { rows } = await gw.db.query(`select 1 from auth.sessions where id = $1::uuid`, [sessionId])
    expect(rows).toHaveLength(1)
  })
})
