import './supabase-js-notices.ts'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { createClient, type SupabaseClient, type User } from '@supabase/supabase-js'
import { getBytes, toBeHex } from 'ethers'
import WebSocket from 'ws'
import { CliError } from './cli-error.ts'
import { credentialsFile, fileLock, fileSessionStorage } from './credential-store.ts'

/** Which network to talk to, as the global options give it. */
export interface NetworkAddress {
  url: string
  home: string
  /** From --anon-key or SUPABASE_ANON_KEY; else `<home>/gateway.json`. */
  anonKey?: string | undefined
}

/** What `npm start` writes to `<home>/gateway.json`. */
interface GatewayFile {
  jwtSecret?: string
  anonKey?: string
  serviceRoleKey?: string
}

export function gatewayFile(home: string): string {
  return path.join(home, 'gateway.json')
}

async function readGatewayFile(home: string): Promise<GatewayFile | undefined> {
  const file = gatewayFile(home)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw new CliError('CLI_BAD_GATEWAY_FILE', `could not read ${file}: ${(error as Error).message}`)
  }
  try {
    const parsed = JSON.parse(text) as unknown
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as GatewayFile
  } catch {
    // reported below
  }
  throw new CliError('CLI_BAD_GATEWAY_FILE', `${file} is not the JSON object \`npm start\` writes ({jwtSecret, anonKey, serviceRoleKey})`, {
    hint: 'restart `npm start` with the same --home, or pass --anon-key',
  })
}

/** The anon key: --anon-key / SUPABASE_ANON_KEY, else `<home>/gateway.json`. */
export async function resolveAnonKey(address: NetworkAddress): Promise<string> {
  if (address.anonKey) return address.anonKey
  const keys = await readGatewayFile(address.home)
  if (keys?.anonKey) return keys.anonKey
  throw new CliError('CLI_NO_ANON_KEY', `no anon key for the network at ${address.url}`, {
    hint: `pass --anon-key, set SUPABASE_ANON_KEY, or point --home at the folder where \`npm start\` wrote gateway.json (looked in ${gatewayFile(address.home)})`,
  })
}

/** The service_role key (the coordinator only): SUPABASE_SERVICE_ROLE_KEY, else `<home>/gateway.json`. */
export async function resolveServiceRoleKey(home: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.SUPABASE_SERVICE_ROLE_KEY) return env.SUPABASE_SERVICE_ROLE_KEY
  const keys = await readGatewayFile(home)
  if (keys?.serviceRoleKey) return keys.serviceRoleKey
  throw new CliError(
    'CLI_NO_SERVICE_KEY',
    'the coordinator needs the service_role key: run it on the machine that ran `npm start` or set SUPABASE_SERVICE_ROLE_KEY',
    { hint: `looked in ${gatewayFile(home)}` },
  )
}

/**
 * One request before anything else, so that a gateway that is down, or a key from another
 * network, is reported as such instead of as a failed sign-in or query further on.
 */
export async function checkReachable(url: string, apiKey: string): Promise<void> {
  let response: Response
  try {
    response = await fetch(new URL('/auth/v1/health', url), { headers: { apikey: apiKey }, signal: AbortSignal.timeout(10_000) })
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const why = cause?.code ?? cause?.message ?? (error as Error).message
    throw new CliError('CLI_UNREACHABLE', `could not reach the network at ${url}: is \`npm start\` running?`, {
      hint: `${why}; pass --url (or set OBLIVION_URL) if the gateway runs elsewhere`,
      cause: error,
    })
  }
  await response.body?.cancel()
  if (response.status === 401 || response.status === 403) {
    throw new CliError('CLI_KEY_REFUSED', `the network at ${url} refused the API key (HTTP ${response.status})`, {
      hint: 'the key belongs to another network: use the anon key `npm start` printed for this one (or its --home)',
    })
  }
}

interface ClientAuth {
  storage: ReturnType<typeof fileSessionStorage>
  lock: ReturnType<typeof fileLock>
  storageKey: string
}

/**
 * supabase-js as every part of the CLI uses it. Node 20 has no global WebSocket: Realtime gets
 * `ws` (docs/environment.md). Without `auth`, no session is kept (the service role's client).
 */
export function createNetworkClient(url: string, key: string, auth?: ClientAuth): SupabaseClient {
  return createClient(url, key, {
    realtime: { transport: WebSocket as never },
    auth: auth
      ? {
          storage: auth.storage as never,
          storageKey: auth.storageKey,
          // A custom lock is supabase-js's way to serialise auth across processes (its own
          // single-flight refresh only covers one process). Deprecated for v3; fine in v2.
          lock: auth.lock,
          persistSession: true,
          autoRefreshToken: true,
          detectSessionInUrl: false,
        }
      : { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  })
}

/** The profile whose identity creates, follows and downloads jobs from this machine. */
export const JOB_PROFILE = 'cli'

export interface UserConnection {
  supabase: SupabaseClient
  userId: string
  /** True when this run signed in anew (first run of the profile, or the stored session was dead). */
  newIdentity: boolean
}

export interface ConnectOptions {
  /** `cli` for the job commands, the worker's name for a worker: one identity per profile. */
  profile: string
  /** Told when the stored session could not be used and a new identity was made. */
  onNotice?: (message: string) => void
  /**
   * Sign in as this wallet (Sign-In with Ethereum) instead of an anonymous identity: a worker is
   * paid only at a wallet its identity signed in with (register_worker, OB012).
   */
  wallet?: WalletSignIn
}

/** What Sign-In with Ethereum needs of a wallet (an ethers Wallet has it all but the chain id). */
export interface WalletSignIn {
  /** Checksummed. */
  address: string
  /** The chain the message names (EIP-4361 `Chain ID`). */
  chainId: number
  signMessage(message: Uint8Array): Promise<string>
}

function isNetworkFailure(error: { name?: string; status?: number }): boolean {
  return error.name === 'AuthRetryableFetchError' || error.status === 0
}

/**
 * Signs in with the profile's stored session, refreshing it if needed; signs in anew only when
 * there is none, it is no longer accepted (the gateway's database was reset, the refresh token was
 * revoked) or it is not `options.wallet`'s: with the wallet (Sign-In with Ethereum) when one is
 * given, else anonymously. The session file is `<home>/credentials/<profile>.json`.
 */
export async function connectAsUser(address: NetworkAddress, options: ConnectOptions): Promise<UserConnection> {
  const anonKey = await resolveAnonKey(address)
  await checkReachable(address.url, anonKey)
  const file = credentialsFile(address.home, options.profile)
  const supabase = createNetworkClient(address.url, anonKey, {
    storage: fileSessionStorage(file),
    lock: fileLock(`${file}.lock`),
    // Per host and port: one profile may hold sessions of several networks (local, hosted).
    storageKey: `sb-${new URL(address.url).host}-auth-token`,
  })

  const stored = await supabase.auth.getSession()
  if (stored.error && isNetworkFailure(stored.error)) throw unreachable(address.url, stored.error)
  if (stored.data.session) {
    const user = await supabase.auth.getUser()
    if (user.data.user && (!options.wallet || signedInWith(user.data.user, options.wallet.address))) {
      return { supabase, userId: user.data.user.id, newIdentity: false }
    }
    if (user.error && isNetworkFailure(user.error)) throw unreachable(address.url, user.error)
    const next = options.wallet ? `signing in with the wallet ${options.wallet.address}` : 'signing in as a new anonymous identity'
    options.onNotice?.(
      user.data.user
        ? `the identity stored in ${file} is not the wallet ${options.wallet!.address}'s; ${next}`
        : `the stored session in ${file} is no longer accepted (${user.error?.message ?? 'unknown user'}); ${next}`,
    )
    await supabase.auth.signOut({ scope: 'local' })
  }

  if (options.wallet) return signInWithWallet(supabase, address.url, options.wallet)
  const signIn = await supabase.auth.signInAnonymously()
  if (signIn.error || !signIn.data.user) {
    if (signIn.error && isNetworkFailure(signIn.error)) throw unreachable(address.url, signIn.error)
    throw new CliError('CLI_SIGN_IN', `could not sign in to ${address.url}: ${signIn.error?.message ?? 'no user returned'}`, {
      hint: 'anonymous sign-ins must be enabled on the network (they are on `npm start`)',
    })
  }
  return { supabase, userId: signIn.data.user.id, newIdentity: true }
}

/** The identity Sign-In with Ethereum gives a wallet (provider `web3`, id `web3:ethereum:<address>`). */
function signedInWith(user: User, address: string): boolean {
  return (user.identities ?? []).some((i) => i.provider === 'web3' && i.id.toLowerCase() === `web3:ethereum:${address.toLowerCase()}`)
}

/**
 * Sign-In with Ethereum through supabase-js (EIP-4361 message for the gateway's host, a fresh
 * nonce), the wallet answering supabase-js' three EIP-1193 calls itself.
 */
async function signInWithWallet(supabase: SupabaseClient, url: string, wallet: WalletSignIn): Promise<UserConnection> {
  const eip1193 = {
    async request({ method, params }: { method: string; params?: unknown[] }): Promise<unknown> {
      if (method === 'eth_requestAccounts') return [wallet.address]
      if (method === 'eth_chainId') return toBeHex(wallet.chainId)
      if (method === 'personal_sign') return wallet.signMessage(getBytes(String(params?.[0])))
      throw new Error(`the CLI's wallet does not answer ${method}`)
    },
  }
  const { data, error } = await supabase.auth.signInWithWeb3({
    chain: 'ethereum',
    wallet: eip1193 as never,
    statement: 'Sign in to Oblivion with the wallet this worker is paid at.',
    options: { url, signInWithEthereum: { chainId: wallet.chainId, nonce: randomBytes(12).toString('hex') } },
  })
  if (error || !data.user) {
    if (error && isNetworkFailure(error)) throw unreachable(url, error)
    throw new CliError('CLI_SIGN_IN', `could not sign in to ${url} with the wallet ${wallet.address}: ${error?.message ?? 'no user returned'}`, {
      hint: 'the network must accept Sign-In with Ethereum for its host (`npm start` does for 127.0.0.1 and localhost)',
    })
  }
  return { supabase, userId: data.user.id, newIdentity: true }
}

/** The coordinator's client: service_role key, no session. */
export async function connectAsService(address: NetworkAddress): Promise<SupabaseClient> {
  const key = await resolveServiceRoleKey(address.home)
  await checkReachable(address.url, key)
  return createNetworkClient(address.url, key)
}

/** Lets the process end: closes Realtime sockets and stops the token refresh timer. */
export async function disconnect(supabase: SupabaseClient): Promise<void> {
  await supabase.removeAllChannels().catch(() => {})
  await supabase.auth.stopAutoRefresh().catch(() => {})
  supabase.realtime.disconnect()
}

function unreachable(url: string, error: Error): CliError {
  return new CliError('CLI_UNREACHABLE', `could not reach the network at ${url}: is \`npm start\` running?`, {
    hint: error.message,
    cause: error,
  })
}
