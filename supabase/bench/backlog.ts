/**
 * Keeps a queue about `depth` items deep while workers drain it, the way producers keep a live
 * queue fed. A fixed depth makes the two queues comparable: pg-boss's fetch sorts every ready
 * job (its cost grows with the backlog: 1 ms at 1,000 ready jobs, 28 ms at 16,000, measured),
 * so a benchmark that pre-loads the whole run's jobs would measure pg-boss's sort, not its queue.
 *
 * The count is kept here, not read from the database: `claimed()` after each claim, and one
 * refill batch at a time, on the producer's own connection, whenever it falls below `depth`.
 */
export class Backlog {
  private queued = 0
  private refilling: Promise<void> | undefined
  private failure: unknown

  constructor(
    /** Queues one batch; resolves to how many items it queued. */
    private readonly refill: () => Promise<number>,
    private readonly depth: number,
  ) {}

  /** Fills up to `depth`, starting from `queued` items already waiting (outside any timed window). */
  async fill(queued: number): Promise<void> {
    this.queued = queued
    while (this.queued < this.depth) this.queued += await this.refill()
  }

  claimed(): void {
    if (this.failure !== undefined) throw this.failure
    this.queued--
    if (this.refilling || this.queued >= this.depth) return
    this.refilling = this.refill()
      .then((added) => void (this.queued += added))
      .catch((error: unknown) => void (this.failure = error))
      .finally(() => (this.refilling = undefined))
  }

  /** Waits for a refill in flight, so nothing writes while the level's pool closes. */
  async settle(): Promise<void> {
    await this.refilling
    if (this.failure !== undefined) throw this.failure
  }
}
