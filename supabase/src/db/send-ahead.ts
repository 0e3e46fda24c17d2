/**
 * A statement sent without waiting for its answer, so that it leaves in the same write as the
 * statement after it (pg's pipeline mode; PGlite runs queued statements in order anyway).
 * Measured through the gateway on 2 cores: a request's begin + set_config + statement + commit
 * as four round trips spent more Node CPU in socket writes than in everything else together.
 *
 * Its error is kept, not thrown into the void: `settle()` rethrows it. Inside a transaction a
 * failed statement aborts the transaction, so whatever follows fails too and never runs
 * without it; settle() then names the cause instead of "current transaction is aborted".
 */
export interface SentAhead<T> {
  settle(): Promise<T>
}

export function sendAhead<T>(statement: Promise<T>): SentAhead<T> {
  // Mark it handled now: it may reject before anyone awaits it.
  statement.catch(() => {})
  return { settle: () => statement }
}

/** Runs `fn`; if it throws, the earlier statement's own error (if any) is the one that counts. */
export async function after<T, R>(earlier: SentAhead<T>, fn: () => Promise<R>): Promise<R> {
  let result: R
  try {
    result = await fn()
  } catch (error) {
    await earlier.settle()
    throw error
  }
  await earlier.settle()
  return result
}
