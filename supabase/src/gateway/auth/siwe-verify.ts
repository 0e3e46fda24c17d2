import { verifyMessage } from 'ethers'
import { AuthApiError, badRequest } from './auth-error.ts'
import { parseSiweMessage, SiweParseError, type SiweMessage } from './siwe-message.ts'

/** GoTrue's MaximumValidityDuration for Ethereum messages: Issued At within ±10 minutes of now. */
export const SIWE_MAX_AGE_MS = 10 * 60 * 1000
// GoTrue refuses messages shorter than 64 characters or longer than 20 KiB before parsing them.
const MIN_MESSAGE_CHARS = 64
const MAX_MESSAGE_CHARS = 20 * 1024
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/
// Loopback hosts are always allowed, on any port and over plain http (local development).
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

export interface VerifiedSiwe {
  message: SiweMessage
  /** Lower-case 0x address that signed: the wallet's identity. */
  address: string
  /** The nonce may be remembered until then; afterwards the message fails the time checks anyway. */
  replayableUntil: Date
}

/** A refusal of a well-formed message (GoTrue answers these 400 `invalid_grant`). */
const refused = (code: string, message: string) => new AuthApiError(400, code, message)

/**
 * Everything GoTrue checks for `grant_type=web3` on Ethereum, in its order: the EIP-4361 text,
 * the EIP-191 personal_sign signature against the message's address, the URI (allowed host, https
 * unless loopback), domain == URI host, Not Before / Expiration Time, and Issued At within ±10
 * minutes. Replays are refused afterwards, in the database (see sql/nonces.ts).
 */
export function verifySiwe(
  input: { message: unknown; signature: unknown },
  options: { allowedHosts: string[]; now?: Date },
): VerifiedSiwe {
  const { message: text, signature } = input
  if (typeof text !== 'string' || text.length < MIN_MESSAGE_CHARS) {
    throw badRequest('validation_failed', 'message is required: the EIP-4361 Sign-In with Ethereum text the wallet signed')
  }
  if (text.length > MAX_MESSAGE_CHARS) throw badRequest('validation_failed', 'message must not exceed 20KB')
  if (typeof signature !== 'string' || !SIGNATURE.test(signature)) {
    throw badRequest('validation_failed', 'signature must be 65 bytes long, encoded as a 0x-prefixed 130 character-long hexadecimal string')
  }
  let message: SiweMessage
  try {
    message = parseSiweMessage(text)
  } catch (error) {
    if (error instanceof SiweParseError) throw badRequest('validation_failed', error.message)
    throw error
  }

  let signer: string
  try {
    signer = verifyMessage(text, signature)
  } catch {
    throw refused('web3_signature_invalid', 'Signature does not match address in message: it is not a valid personal_sign signature')
  }
  if (signer.toLowerCase() !== message.address.toLowerCase()) {
    throw refused('web3_signature_invalid', 'Signature does not match address in message: sign the exact message text with that wallet')
  }

  const uri = message.uri
  const host = uri.hostname.toLowerCase()
  const loopback = LOOPBACK.has(host)
  const allowed = new Set(options.allowedHosts.map((h) => h.toLowerCase()))
  if (uri.protocol !== 'https:' && !(loopback && uri.protocol === 'http:')) {
    throw refused('web3_uri_not_allowed', 'Signed Ethereum message is using URI which does not use HTTPS')
  }
  if (!loopback && !allowed.has(host) && !allowed.has(uri.host.toLowerCase())) {
    throw refused(
      'web3_uri_not_allowed',
      `Signed Ethereum message is using URI host ${uri.host} which is not allowed on this server (message was signed for another app); add it to siweDomains`,
    )
  }
  if (message.domain.toLowerCase() !== uri.host.toLowerCase()) {
    throw refused('web3_domain_mismatch', `Signed Ethereum message is using Domain ${message.domain} that does not match the URI host ${uri.host}`)
  }

  const now = (options.now ?? new Date()).getTime()
  if (message.notBefore && now < message.notBefore.getTime()) {
    throw refused('web3_message_not_yet_valid', 'Signed Ethereum message becomes valid in the future (Not Before)')
  }
  if (message.expirationTime && now > message.expirationTime.getTime()) {
    throw refused('web3_message_expired', 'Signed Ethereum message is expired (Expiration Time): sign a new one')
  }
  const issuedAt = message.issuedAt.getTime()
  if (now > issuedAt + SIWE_MAX_AGE_MS) {
    throw refused('web3_message_expired', 'Ethereum message was issued too long ago (more than 10 minutes): sign a new one')
  }
  if (now < issuedAt - SIWE_MAX_AGE_MS) {
    throw refused('web3_message_not_yet_valid', 'Ethereum message was issued too far in the future (more than 10 minutes): check the clock')
  }

  const lastValid = Math.min(issuedAt + SIWE_MAX_AGE_MS, message.expirationTime?.getTime() ?? Number.POSITIVE_INFINITY)
  return { message, address: message.address.toLowerCase(), replayableUntil: new Date(lastValid) }
}
