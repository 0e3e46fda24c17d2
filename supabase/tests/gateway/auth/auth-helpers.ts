import { randomBytes } from 'node:crypto'
import type { Wallet, HDNodeWallet } from 'ethers'
import type { TestGateway } from '../support/test-gateway.ts'

export interface SiweFields {
  domain: string
  address: string
  statement?: string
  uri: string
  chainId: number
  nonce?: string
  issuedAt: Date
  expirationTime?: Date
  notBefore?: Date
}

/**
 * The EIP-4361 text exactly as supabase-js 2.119 writes it (auth-js lib/web3/ethereum.ts
 * `createSiweMessage`): lower-cased address, optional statement, optional nonce.
 */
export function siweMessage(f: SiweFields): string {
  const statement = f.statement ? `${f.statement}\n` : ''
  const prefix = `${f.domain} wants you to sign in with your Ethereum account:\n${f.address.toLowerCase()}\n\n${statement}`
  let suffix = `URI: ${f.uri}\nVersion: 1\nChain ID: ${f.chainId}${f.nonce ? `\nNonce: ${f.nonce}` : ''}\nIssued At: ${f.issuedAt.toISOString()}`
  if (f.expirationTime) suffix += `\nExpiration Time: ${f.expirationTime.toISOString()}`
  if (f.notBefore) suffix += `\nNot Before: ${f.notBefore.toISOString()}`
  return `${prefix}\n${suffix}`
}

export const freshNonce = () => randomBytes(12).toString('hex')

/** A message for a page on localhost:3000 (always allowed), signed by `wallet`. */
export async function signedSiwe(wallet: Wallet | HDNodeWallet, overrides: Partial<SiweFields> = {}) {
  const message = siweMessage({
    domain: 'localhost:3000',
    address: wallet.address,
    statement: 'Sign in to Oblivion',
    uri: 'http://localhost:3000/login',
    chainId: 8119,
    nonce: freshNonce(),
    issuedAt: new Date(),
    ...overrides,
  })
  return { message, signature: await wallet.signMessage(message) }
}

/** A raw request to /auth/v1 (for statuses and bodies the client hides). */
export async function authFetch(
  gw: TestGateway,
  path: string,
  init: { method?: string; body?: unknown; rawBody?: string; apikey?: string | null; bearer?: string } = {},
) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-Supabase-Api-Version': '2024-01-01' }
  const apikey = init.apikey === undefined ? gw.keys.anonKey : init.apikey
  if (apikey !== null) headers.apikey = apikey
  if (init.bearer) headers.Authorization = `Bearer ${init.bearer}`
  const res = await fetch(`${gw.url}/auth/v1${path}`, {
    method: init.method ?? 'POST',
    headers,
    ...(init.rawBody !== undefined ? { body: init.rawBody } : init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined }
}

export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

export async function countRows(gw: TestGateway, table: 'auth.sessions' | 'auth.users' | 'auth.identities' | 'auth.refresh_tokens', where = 'true', params: unknown[] = []) {
  const { rows } = await gw.db.query<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`, params)
  return rows[0]!.n
}
