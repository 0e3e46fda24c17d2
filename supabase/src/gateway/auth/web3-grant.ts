import { randomUUID } from 'node:crypto'
import type { Database } from '../../db/database.ts'
import { badRequest } from './auth-error.ts'
import { issueSession, type SessionResponse, type TokenOptions } from './session-issuer.ts'
import { verifySiwe } from './siwe-verify.ts'
import { consumeNonce, purgeExpiredNonces } from './sql/nonces.ts'
import { upsertIdentityUser } from './sql/users.ts'

/**
 * POST /token?grant_type=web3 with `{chain: "ethereum", message, signature}`: Sign-In with
 * Ethereum. The message is verified (siwe-verify.ts), its nonce is consumed for that address
 * (replays refused), the wallet's user found or created, and a session issued — all in one
 * transaction, so a refused or failed sign-in leaves the nonce unused and creates nobody.
 */
export async function web3Grant(
  db: Database,
  body: Record<string, unknown>,
  options: TokenOptions & { allowedHosts: string[]; userAgent?: string },
): Promise<SessionResponse> {
  if (body.chain !== 'ethereum') {
    throw badRequest('web3_unsupported_chain', `Unsupported chain ${JSON.stringify(body.chain ?? null)}: this gateway signs in with "ethereum" only`)
  }
  const verified = verifySiwe({ message: body.message, signature: body.signature }, { allowedHosts: options.allowedHosts })
  const { message, address } = verified
  const providerId = `web3:ethereum:${address}`
  const identityData = {
    sub: providerId,
    custom_claims: {
      address,
      chain: 'ethereum',
      network: message.chainId,
      domain: message.domain,
      ...(message.statement !== undefined ? { statement: message.statement } : {}),
    },
  }
  return db.transaction(async (tx) => {
    await purgeExpiredNonces(tx)
    if (!(await consumeNonce(tx, address, message.nonce, verified.replayableUntil))) {
      throw badRequest('web3_nonce_reused', 'This Sign-In with Ethereum message was already used (its nonce was seen before): sign a new message with a fresh nonce')
    }
    const { userId } = await upsertIdentityUser(tx, { provider: 'web3', providerId, identityData }, randomUUID())
    return issueSession(tx, { ...options, userId, method: 'web3' })
  })
}
