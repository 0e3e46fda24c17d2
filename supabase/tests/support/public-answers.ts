import { expect } from 'vitest'

/** Keys a public function must never return: they identify people or reveal their work. */
export const PRIVATE_KEYS = ['owner_id', 'name', 'spec', 'reward_wei', 'capabilities', 'payout_address']

/** Every key of every object in `value`, however deep. */
export function keysIn(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysIn(item, into)
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      into.add(key)
      keysIn(inner, into)
    }
  }
  return into
}

/** What anon may read (network_stats, network_topology…) has no private key and mentions none of `secrets`. */
export function expectNothingPrivate(answer: unknown, secrets: string[]): void {
  expect([...keysIn(answer)].filter((key) => PRIVATE_KEYS.includes(key)), 'private keys in the answer').toEqual([])
  const text = JSON.stringify(answer)
  for (const secret of secrets) expect(text, `the answer mentions ${secret}`).not.toContain(secret)
}
