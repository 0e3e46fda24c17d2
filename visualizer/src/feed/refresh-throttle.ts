/**
 * Runs a refresh when asked, at most once per `minIntervalMs` and never two at once: the first
 * request runs at once, requests made meanwhile fold into one run when the interval is over.
 * What a burst of change pulses turns into: one read now, one when the burst settles.
 */
export class RefreshThrottle {
  private lastRunAt = Number.NEGATIVE_INFINITY
  private timer: ReturnType<typeof setTimeout> | null = null
  private running = false
  private pending = false
  private cancelled = false

  constructor(
    private readonly task: () => Promise<void>,
    private readonly minIntervalMs: number,
  ) {}

  request(): void {
    if (this.cancelled) return
    this.pending = true
    this.schedule()
  }

  /** Runs as soon as the current run (if any) is over, ignoring the interval: after a reconnect. */
  requestNow(): void {
    this.lastRunAt = Number.NEGATIVE_INFINITY
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.request()
  }

  cancel(): void {
    this.cancelled = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule(): void {
    if (this.timer || this.running || !this.pending || this.cancelled) return
    const wait = Math.max(0, this.lastRunAt + this.minIntervalMs - Date.now())
    this.timer = setTimeout(() => {
      this.timer = null
      this.pending = false
      this.running = true
      this.lastRunAt = Date.now()
      this.task()
        .catch(() => {}) // the task reports its own failures
        .finally(() => {
          this.running = false
          this.schedule()
        })
    }, wait)
  }
}
