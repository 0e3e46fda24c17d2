import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import type { Database } from '../../../src/db/database.ts'
import { generateKeys, type GatewayKeys, type GatewayLimits } from '../../../src/gateway/config.ts'
import { startGateway, type Gateway } from '../../../src/gateway/gateway.ts'
import { issueSession } from '../../../src/gateway/auth/session-issuer.ts'
import { linkWallet } from '../../support/actors.ts'
import { freshDatabase, type Backend } from '../../support/databases.ts'

export interface TestGateway {
  readonly backend: Backend
  readonly db: Database
  readonly keys: GatewayKeys
  readonly url: string
  readonly gateway: Gateway
  readonly storageDir: string
  /** The official client with the anon key (and the given session token, if any). */
  anonClient(accessToken?: string): SupabaseClient
  /** The official client with the service_role key: what the coordinator uses. */
  serviceClient(): SupabaseClient
  /**
   * A user created directly in auth.users with a real session (as a sign-in makes one) and its
   * access token, for tests of surfaces other than Auth (the Auth tests sign in through /auth/v1).
   */
  /** A signed-in user; `wallet`: as if it signed in with that wallet (its web3 identity), so it may be paid there. */
  createUser(options?: { wallet?: string }): Promise<{ userId: string; accessToken: string; client: SupabaseClient }>
  /** Stops the gateway and starts a new one on the same port, database and keys. */
  restart(): Promise<void>
  close(): Promise<void>
}

/**
 * The official supabase-js as a page or worker creates it, made to work on Node 20 (no global
 * WebSocket: pass `ws`) and without a persisted session or a background refresh timer.
 */
export function officialClient(url: string, key: string, accessToken?: string): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket as never },
    // A pre-made user token goes to REST, Realtime and Storage alike (supabase-js's
    // third-party-auth hook; `client.auth` is then unavailable, as it is not needed).
    ...(accessToken ? { accessToken: async () => accessToken } : {}),
  })
}

/** A fresh migrated database (per test file) with the gateway in front of it, on a free port. */
export async function startTestGateway(
  backend: Backend,
  options: { limits?: Partial<GatewayLimits>; siweDomains?: string[] } = {},
): Promise<TestGateway> {
  const db = await freshDatabase(backend)
  const keys = generateKeys()
  const storageDir = await mkdtemp(path.join(os.tmpdir(), 'oblivion-storage-'))
  const start = (port = 0) =>
    startGateway({ db, keys, storageDir, port, limits: options.limits, siweDomains: options.siweDomains })
  let gateway = await start()
  const port = Number(new URL(gateway.url).port)
  const clients: SupabaseClient[] = []
  const track = (client: SupabaseClient) => (clients.push(client), client)

  return {
    backend,
    db,
    keys,
    get url() {
      return gateway.url
    },
    get gateway() {
      return gateway
    },
    storageDir,
    anonClient: (accessToken) => track(officialClient(gateway.url, keys.anonKey, accessToken)),
    serviceClient: () => track(officialClient(gateway.url, keys.serviceRoleKey)),
    async createUser(options = {}) {
      const userId = randomUUID()
      await db.query(`insert into auth.users (id, aud, role) values ($1::uuid, 'authenticated', 'authenticated')`, [userId])
      if (options.wallet) await linkWallet(db, userId, options.wallet)
      const session = await issueSession(db, {
        keys,
        issuer: `${gateway.url}/auth/v1`,
        accessTokenSeconds: 3600,
        userId,
        method: 'test',
      })
      const accessToken = session.access_token
      return { userId, accessToken, client: track(officialClient(gateway.url, keys.anonKey, accessToken)) }
    },
    async restart() {
      await gateway.close()
      gateway = await start(port)
    },
    async close() {
      await Promise.all(clients.map((c) => c.removeAllChannels().catch(() => {})))
      await gateway.close()
      await db.close()
      await rm(storageDir, { recursive: true, force: true })
    },
  }
}
