/**
 * When to try a failed chain step again, per key (a job's settlement, a slash): the coordinator
 * passes every few seconds, but a chain that is down is asked again only after 2 s, 4 s, 8 s …
 * up to 5 minutes, so an outage costs a few requests, not one per pass per job.
 */
export class RetryBackoff {
  private readonly failures = new Map<string, { count: number; notBefore: number }>()

  constructor(
    private readonly initialMs = 2_000,
    private readonly maxMs = 300_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `key` may be tried now. */
  ready(key: string): boolean {
    const entry = this.failures.get(key)
    return !entry || this.now() >= entry.notBefore
  }

  /** Records a failure; returns the wait before the next try, in ms. */
  failed(key: string): number {
    const count = (this.failures.get(key)?.count ?? 0) + 1
    const wait = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(count - 1, 20))
    this.failures.set(key, { count, notBefore: this.now() + wait })
    return wait
  }

  succeeded(key: string): void {
    this.failures.delete(key)
  }
}
