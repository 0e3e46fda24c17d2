import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Queryable } from '../../../src/db/database.ts'
import { childRefreshToken, hashRefreshToken } from '../../../src/gateway/auth/session-issuer.ts'
import { rotateRefreshToken } from '../../../src/gateway/auth/sql/sessions.ts'
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts'
import { jwtPayload, signedSiwe } from './auth-helpers.ts'

type AuthClient = ReturnType<TestGateway['anonClient']>['auth']

// Only a PostgreSQL server can interleave two refreshes of one token: PGlite runs one
// transaction at a time, so there the later refresh always sees the token already rotated and
// gets its child within the reuse interval (covered, on both backends, by refresh-and-logout.test.ts).
describe('a refresh that loses a race on a PostgreSQL server', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway('postgres')
  })
  afterAll(() => gw?.close())

  /**
   * Lets `winner` (a transaction holding the presented token's row lock) commit only once a real
   * refresh of the same token is waiting on that lock: its statement's snapshot predates the commit.
   */
  async function raceAgainst(refreshToken: string, winner: (tx: Queryable) => Promise<void>) {
    let loser: ReturnType<AuthClient['refreshSession']> | undefined
    await gw.db.transaction(async (tx) => {
      await winner(tx)
      loser = gw.anonClient().auth.refreshSession({ refresh_token: refreshToken })
      // Polled from another connection: pg_stat_activity is frozen within a transaction.
      for (let polls = 0; ; polls++) {
        const { rows } = await gw.db.query(
          `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%presented%'`,
        )
        if (rows.length > 0) break
        if (polls > 1000) throw new Error('the refresh never waited on the rotated token: is the rotation still one locking statement?')
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })
    return loser!
  }

  it('gets the token the winning refresh issued, and the session goes on', async () => {
    const { data } = await gw.anonClient().auth.signInWithWeb3({ chain: 'ethereum', ...(await signedSiwe(Wallet.createRandom())) })
    const session = data.session!
    const child = childRefreshToken(session.refresh_token, gw.keys)
    // The winner: the gateway's own rotation statement, committed while the loser waits.
    const lost = await raceAgainst(session.refresh_token, async (tx) => {
      expect((await rotateRefreshToken(tx, hashRefreshToken(session.refresh_token), child.hash, 10)).outcome).toBe('rotated')
    })
    const { data: refreshed, error } = await lost
    expect(error).toBeNull()
    expect(refreshed.session!.refresh_token).toBe(child.token)
    expect(jwtPayload(refreshed.session!.access_token).session_id).toBe(jwtPayload(session.access_token).session_id)
    expect((await gw.anonClient().auth.refreshSession({ refresh_token: child.token })).error).toBeNull()
  })

  it('is refused without revoking the session when the winner left no live child', async () => {
    const { data } = await gw.anonClient().auth.signInWithWeb3({ chain: 'ethereum', ...(await signedSiwe(Wallet.createRandom())) })
    const session = data.session!
    const sessionId = jwtPayload(session.access_token).session_id

    // The "winner" revokes the token without a child (as a sign-out of it would) and holds its row lock until it commits.
    const loser = await raceAgainst(session.refresh_token, async (tx) => {
      await tx.query(`update auth.refresh_tokens set revoked = true, updated_at = now() where token_hash = $1`, [hashRefreshToken(session.refresh_token)])
    })
    const { data: lost, error } = await loser
    expect(lost.session).toBeNull()
    expect(error).toMatchObject({ status: 400, code: 'refresh_token_already_used' })
    expect(error!.message).toMatch(/concurrent refresh/)
    const { rows } = await gw.db.query(`select 1 from auth.sessions where id = $1::uuid`, [sessionId])
    expect(rows).toHaveLength(1)
  })
})
