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

export function secondsBetween(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected a number of seconds from ${min} to ${max}.`)
    }
    return n
  }
}

/** As the workers table requires: letters, digits, `.`, `_`, `-`; starts with a letter or digit. */
export const WORKER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

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
