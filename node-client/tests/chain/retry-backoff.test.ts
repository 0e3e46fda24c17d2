import { describe, expect, it } from 'vitest'
import { RetryBackoff } from '../../src/coordinator/chain/retry-backoff.ts'

describe('RetryBackoff', () => {
  it('waits 2 s, 4 s, 8 s … up to the maximum after each failure, per key, and forgets a success', () => {
    let now = 0
    const backoff = new RetryBackoff(2_000, 10_000, () => now)
    expect(backoff.ready('a')).toBe(true)
    expect([backoff.failed('a'), backoff.failed('a'), backoff.failed('a'), backoff.failed('a')]).toEqual([2_000, 4_000, 8_000, 10_000])
    expect(backoff.ready('a')).toBe(false)
    expect(backoff.ready('b')).toBe(true) // keys are independent
    now = 9_999
    expect(backoff.ready('a')).toBe(false)
    now = 10_000
    expect(backoff.ready('a')).toBe(true)
    backoff.succeeded('a')
    expect(backoff.failed('a')).toBe(2_000)
  })
})
