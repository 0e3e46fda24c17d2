import type { Queryable } from '../../../db/database.ts'

/**
 * Records a SIWE nonce as used by `address`; false when it already was (a replay). One
 * statement: of two concurrent sign-ins with the same message, the second waits on the primary
 * key and then finds the row, so exactly one gets through. A row past `expires_at` is reused
 * (its message can no longer pass the time checks, so the nonce is free again).
 */
export async function consumeNonce(q: Queryable, address: string, nonce: string, expiresAt: Date): Promise<boolean> {
  const { rows } = await q.query(
    `insert into auth.web3_nonces as n (address, nonce, expires_at) values ($1::text, $2::text, $3::timestamptz)
     on conflict (address, nonce) do update set expires_at = excluded.expires_at where n.expires_at < now()
     returning 1`,
    [address, nonce, expiresAt.toISOString()],
  )
  return rows.length === 1
}

/** Forgets nonces whose messages expired; indexed on expires_at, so cheap to run on every sign-in. */
export async function purgeExpiredNonces(q: Queryable): Promise<void> {
  await q.query(`delete from auth.web3_nonces where expires_at < now()`)
}
