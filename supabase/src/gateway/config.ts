import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { signJwt } from './jwt.ts'

/** The secrets of one local install: what hosted Supabase shows under Project Settings → API. */
export interface GatewayKeys {
  /** HS256 secret every token is signed with. Never leaves the config file. */
  jwtSecret: string
  /** Public: pages and workers send it as `apikey`; it runs requests as `anon`. */
  anonKey: string
  /** Private: runs requests as `service_role` (BYPASSRLS). Only the coordinator may have it. */
  serviceRoleKey: string
}

/** What the gateway refuses, each with a clear error instead of a crash or an unbounded buffer. */
export interface GatewayLimits {
  /** JSON bodies of REST, Auth and broadcast requests (413 beyond). */
  jsonBodyBytes: number
  /** Storage uploads (413 beyond); config.toml `storage.file_size_limit`. */
  uploadBytes: number
  /** Rows one REST read returns at most (PostgREST's db-max-rows; config.toml `api.max_rows`). */
  maxRows: number
  /** Rows one REST insert/upsert may carry (400 beyond). */
  maxWriteRows: number
  /** Channels one realtime socket may join (an error reply beyond). */
  channelsPerSocket: number
  /** Access tokens live this long (GoTrue's default JWT expiry). */
  accessTokenSeconds: number
  /**
   * A rotated refresh token presented again this soon after its rotation gets the session's current
   * token back instead of revoking the session (GoTrue's REFRESH_TOKEN_REUSE_INTERVAL, default 10).
   */
  refreshTokenReuseSeconds: number
}

export const DEFAULT_LIMITS: GatewayLimits = {
  jsonBodyBytes: 1024 * 1024,
  uploadBytes: 50 * 1024 * 1024,
  maxRows: 1000,
  maxWriteRows: 1000,
  channelsPerSocket: 100,
  accessTokenSeconds: 3600,
  refreshTokenReuseSeconds: 10,
}

const TEN_YEARS = 10 * 365 * 24 * 3600

/** Fresh keys: a 256-bit secret and the anon/service_role API keys signed with it. */
export function generateKeys(): GatewayKeys {
  const jwtSecret = randomBytes(32).toString('base64url')
  const iat = Math.floor(Date.now() / 1000)
  const key = (role: string) => signJwt({ iss: 'oblivion-local', role, iat, exp: iat + TEN_YEARS }, jwtSecret)
  return { jwtSecret, anonKey: key('anon'), serviceRoleKey: key('service_role') }
}

/**
 * The per-install keys in `<dir>/gateway.json` (mode 0600), created on first start. Keeping them
 * stable across restarts keeps sessions and the workers' configured anon key valid.
 */
export async function loadOrCreateKeys(dir: string): Promise<{ keys: GatewayKeys; file: string; created: boolean }> {
  const file = path.join(dir, 'gateway.json')
  try {
    const keys = JSON.parse(await readFile(file, 'utf8')) as GatewayKeys
    if (!keys.jwtSecret || !keys.anonKey || !keys.serviceRoleKey) {
      throw new Error(`${file} lacks jwtSecret, anonKey or serviceRoleKey; delete it to generate new keys (signs everyone out)`)
    }
    return { keys, file, created: false }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(dir, { recursive: true })
  const keys = generateKeys()
  await writeFile(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 })
  await chmod(file, 0o600)
  return { keys, file, created: true }
}
