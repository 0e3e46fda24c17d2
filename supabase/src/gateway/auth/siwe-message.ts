import { getAddress } from 'ethers'

/** A Sign-In with Ethereum message (EIP-4361), as parsed from the text the wallet signed. */
export interface SiweMessage {
  scheme?: string
  /** RFC 3986 authority (host[:port]) that asks for the sign-in. */
  domain: string
  /** As written in the message (supabase-js writes it lower-case). */
  address: string
  statement?: string
  uri: URL
  version: '1'
  chainId: number
  nonce: string
  issuedAt: Date
  expirationTime?: Date
  notBefore?: Date
  requestId?: string
  resources: string[]
}

/** The message does not follow EIP-4361; `message` says which line and why. */
export class SiweParseError extends Error {
  constructor(message: string) {
    super(`Invalid Sign-In with Ethereum message: ${message}`)
    this.name = 'SiweParseError'
  }
}

const HEADER = /^(?:([A-Za-z][A-Za-z0-9+.-]*):\/\/)?(\S+) wants you to sign in with your Ethereum account:$/
// authority = host [ ":" port ]: a DNS name / IPv4, or a bracketed IPv6 literal.
const AUTHORITY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
// statement = 1*( reserved / unreserved / " " ) — RFC 3986 characters only, no line breaks.
const STATEMENT = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;= ]+$/
const CHAIN_ID = /^[1-9][0-9]{0,15}$/
// nonce = at least 8 ( ALPHA / DIGIT ): something a replay cannot guess.
const NONCE = /^[A-Za-z0-9]{8,}$/
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/
const REQUEST_ID = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]*$/

function dateTime(field: string, value: string): Date {
  const date = new Date(value)
  if (!RFC3339.test(value) || Number.isNaN(date.getTime())) {
    throw new SiweParseError(`"${field}" must be an RFC 3339 date-time such as 2026-01-01T00:00:00.000Z, got ${JSON.stringify(value)}`)
  }
  return date
}

function uri(field: string, value: string): URL {
  try {
    return new URL(value)
  } catch {
    throw new SiweParseError(`"${field}" must be an absolute URI, got ${JSON.stringify(value)}`)
  }
}

/**
 * Parses the exact text layout of EIP-4361 (the one supabase-js's `createSiweMessage` and viem
 * write): header, address, blank line, optional statement plus blank line, then the tagged
 * fields in their fixed order. Anything else — a missing or reordered field, an extra line,
 * CR line endings — is refused, so the text that was signed means exactly one thing.
 */
export function parseSiweMessage(text: string): SiweMessage {
  if (text.includes('\r')) throw new SiweParseError('lines must end with LF only')
  const lines = text.split('\n')
  let at = 0
  const next = () => lines[at++]

  const header = HEADER.exec(next() ?? '')
  if (!header) throw new SiweParseError('the first line must be "<domain> wants you to sign in with your Ethereum account:"')
  const scheme = header[1]
  const domain = header[2]!
  if (!AUTHORITY.test(domain)) throw new SiweParseError(`the domain ${JSON.stringify(domain)} is not a host[:port]`)

  const address = next() ?? ''
  if (!ADDRESS.test(address)) throw new SiweParseError('the second line must be the 0x-prefixed, 40 hex digit address')
  const mixedCase = address.slice(2) !== address.slice(2).toLowerCase() && address.slice(2) !== address.slice(2).toUpperCase()
  if (mixedCase && getAddress(address.toLowerCase()) !== address) {
    throw new SiweParseError('the address has mixed case but is not a valid EIP-55 checksum address')
  }
  if (next() !== '') throw new SiweParseError('a blank line must follow the address')

  let statement: string | undefined
  const afterAddress = next()
  if (afterAddress !== '') {
    if (afterAddress === undefined || !STATEMENT.test(afterAddress)) {
      throw new SiweParseError('the statement may hold only RFC 3986 characters and spaces, on one line')
    }
    statement = afterAddress
    if (next() !== '') throw new SiweParseError('a blank line must follow the statement')
  }

  const field = (tag: string, required: boolean): string | undefined => {
    const line = lines[at]
    if (line !== undefined && line.startsWith(`${tag}: `)) {
      at++
      return line.slice(tag.length + 2)
    }
    if (required) throw new SiweParseError(`expected the "${tag}: " line at line ${at + 1}`)
    return undefined
  }

  const uriText = field('URI', true)!
  const version = field('Version', true)!
  if (version !== '1') throw new SiweParseError(`"Version" must be 1, got ${JSON.stringify(version)}`)
  const chainId = field('Chain ID', true)!
  if (!CHAIN_ID.test(chainId)) throw new SiweParseError(`"Chain ID" must be a positive EIP-155 chain id, got ${JSON.stringify(chainId)}`)
  const nonce = field('Nonce', true)!
  if (!NONCE.test(nonce)) throw new SiweParseError('"Nonce" must be at least 8 letters or digits (a fresh random value per sign-in)')
  const issuedAt = dateTime('Issued At', field('Issued At', true)!)
  const expiration = field('Expiration Time', false)
  const notBefore = field('Not Before', false)
  const requestId = field('Request ID', false)
  if (requestId !== undefined && !REQUEST_ID.test(requestId)) throw new SiweParseError('"Request ID" may hold only URI path characters')

  const resources: string[] = []
  if (lines[at] === 'Resources:') {
    at++
    while (lines[at]?.startsWith('- ')) {
      const resource = lines[at++]!.slice(2)
      uri('Resources', resource)
      resources.push(resource)
    }
  }
  if (at !== lines.length) throw new SiweParseError(`unexpected text at line ${at + 1}: ${JSON.stringify(lines[at]?.slice(0, 80))}`)

  return {
    ...(scheme ? { scheme } : {}),
    domain,
    address,
    ...(statement !== undefined ? { statement } : {}),
    uri: uri('URI', uriText),
    version: '1',
    chainId: Number(chainId),
    nonce,
    issuedAt,
    ...(expiration !== undefined ? { expirationTime: dateTime('Expiration Time', expiration) } : {}),
    ...(notBefore !== undefined ? { notBefore: dateTime('Not Before', notBefore) } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
    resources,
  }
}
