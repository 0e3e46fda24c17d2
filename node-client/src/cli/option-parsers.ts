import os from 'node:os'
import { InvalidArgumentError } from 'commander'

/**
 * Parsers for option values. Each refuses a bad value with a sentence that says what is
 * accepted; commander prints it as `error: option '--x <n>' argument 'y' is invalid. …` and the
 * CLI exits 2.
 */

export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`)
    }
    return n
  }
}

/** A decimal number of `unit` (seconds, hours) within [min, max]. */
function decimalBetween(min: number, max: number, unit: string): (value: string) => number {
  return (value) => {
    const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected a number of ${unit} from ${min} to ${max}.`)
    }
    return n
  }
}

export const secondsBetween = (min: number, max: number) => decimalBetween(min, max, 'seconds')
export const hoursBetween = (min: number, max: number) => decimalBetween(min, max, 'hours')

/** As the workers table requires: letters, digits, `.`, `_`, `-`; starts with a letter or digit. */
export const WORKER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** A worker name from this machine's host name: what `--name` defaults to. */
export function defaultWorkerName(hostname = os.hostname()): string {
  const name = hostname.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64)
  return name || 'worker'
}

export function workerName(value: string): string {
  if (!WORKER_NAME.test(value)) {
    throw new InvalidArgumentError('Expected 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit.')
  }
  return value
}

/** A positive whole number of wei as a decimal string (a uint256 does not fit a JS number). */
export function weiAmount(value: string): string {
  if (!/^[1-9][0-9]{0,77}$/.test(value)) {
    throw new InvalidArgumentError('Expected a positive whole number of wei in decimal digits, e.g. 1000000000000000000 for 1 coin.')
  }
  return value
}

export function jobId(value: string): string {
  const id = value.trim().toLowerCase()
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new InvalidArgumentError('Expected a job id, a uuid such as 0b6f3c8e-5d1a-4f0e-9c3b-2a7d8e9f1a2b (`job create` prints it).')
  }
  return id
}

/** A uuid named for messages: `uuidOf('model id', 'printed by job status')`. */
export function uuidOf(what: string, where: string): (value: string) => string {
  return (value) => {
    const id = value.trim().toLowerCase()
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
      throw new InvalidArgumentError(`Expected ${what}, a uuid such as 0b6f3c8e-5d1a-4f0e-9c3b-2a7d8e9f1a2b (${where}).`)
    }
    return id
  }
}

export function networkUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InvalidArgumentError('Expected an http(s) URL such as http://127.0.0.1:54321.')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('Expected an http:// or https:// URL.')
  return value.replace(/\/+$/, '')
}

const WEI_PER_COIN = 10n ** 18n

/**
 * An amount of the chain's coin (SHM): decimal coins ("0.5", "12", at most 18 decimals), or whole
 * wei with a `wei` suffix ("1000wei"). Positive. Returns wei.
 */
export function coinAmount(value: string): bigint {
  const text = value.trim()
  const wei = /^(\d{1,78})\s*wei$/i.exec(text)
  const coins = /^(\d{1,60})(?:\.(\d{1,18}))?$/.exec(text)
  const amount = wei ? BigInt(wei[1]!) : coins ? BigInt(coins[1]!) * WEI_PER_COIN + BigInt((coins[2] ?? '').padEnd(18, '0')) : -1n
  if (amount <= 0n) {
    throw new InvalidArgumentError('Expected a positive amount of coins such as 0.5 or 12 (at most 18 decimals), or of wei such as 1000wei.')
  }
  return amount
}

