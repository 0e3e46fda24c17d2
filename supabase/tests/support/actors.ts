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

/** Creates an auth user (as GoTrue would) and returns an actor signed in as that user. */
export async function signUp(db: Database): Promise<Actor & { userId: string }> {
  const id = randomUUID()
  await db.query(`insert into auth.users (id, aud, role) values ($1::uuid, 'authenticated', 'authenticated')`, [id])
  return actor(db, userIdentity(id), id) as Actor & { userId: string }
}

export const anon = (db: Database) => actor(db, anonIdentity)
export const service = (db: Database) => actor(db, serviceIdentity)
