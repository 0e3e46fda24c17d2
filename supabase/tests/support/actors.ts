import { randomUUID } from 'node:crypto'
import { callFunction } from '../../src/db/call-function.ts'
import type { Database, Queryable } from '../../src/db/database.ts'
import {
  anonIdentity,
  serviceIdentity,
  userIdentity,
  withRequestContext,
  type RequestIdentity,
} from '../../src/db/request-context.ts'

/** Someone acting on the database through PostgREST-style requests (one transaction each). */
export interface Actor {
  readonly identity: RequestIdentity
  /** The auth user id; undefined for anon and service_role. */
  readonly userId?: string
  rpc<R = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<R[]>
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>
  run<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
}

export function actor(db: Database, identity: RequestIdentity, userId?: string): Actor {
  const run = <T>(fn: (tx: Queryable) => Promise<T>) => withRequestContext(db, identity, fn)
  return {
    identity,
    userId,
    run,
    rpc: (name, args) => run((tx) => callFunction(tx, name, args)),
    query: async (sql, params) => (await run((tx) => tx.query(sql, params))).rows as never,
  }
}

/**
 * Creates an auth user (as GoTrue would) and returns an actor signed in as that user. `wallet`:
 * the user signed in with that wallet (Sign-In with Ethereum), so it may be paid there.
 */
export async function signUp(db: Database, options: { wallet?: string | null } = {}): Promise<Actor & { userId: string }> {
  const id = randomUUID()
  await db.query(`insert into auth.users (id, aud, role) values ($1::uuid, 'authenticated', 'authenticated')`, [id])
  if (options.wallet) await linkWallet(db, id, options.wallet)
  return actor(db, userIdentity(id), id) as Actor & { userId: string }
}

/** The web3 identity Sign-In with Ethereum records for a wallet (as the gateway's web3 grant writes it). */
export async function linkWallet(db: Database, userId: string, address: string): Promise<void> {
  await db.query(
    `insert into auth.identities (provider_id, provider, user_id, identity_data) values ($1::text, 'web3', $2::uuid, '{}'::jsonb)`,
    [`web3:ethereum:${address}`, userId],
  )
}

export const anon = (db: Database) => actor(db, anonIdentity)
export const service = (db: Database) => actor(db, serviceIdentity)
