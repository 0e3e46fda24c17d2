import type { Database } from '../../db/database.ts'
import type { ChangeDispatcher } from './change-dispatcher.ts'
import { markDelivered, pruneChangeLog, readTransactions, readUndelivered, type ChangeRow } from './change-log.ts'
import type { ChannelMember } from './channel-member.ts'
import type { ChannelRegistry } from './channel-registry.ts'

export const CHANGES_CHANNEL = 'realtime:changes'
/** Read at most this many transactions per round trip when notifications pile up. */
const MAX_TXIDS_PER_READ = 200
const CATCH_UP_LIMIT = 10_000
const PRUNE_EVERY_MS = 60_000
/**
 * How long a delivered transaction id is remembered: long enough for a catch-up (which first
 * waits for pending "delivered" marks) and the NOTIFYs after a reconnect not to deliver it twice.
 * Kept short on purpose: at 600 watched transactions/s, 20 minutes of ids would be ~70 MB.
 */
const PROCESSED_TTL_MS = 2 * 60_000
/**
 * After a start, changes no gateway delivered (committed while none ran) and the changes of the
 * first seconds are held this long for channels that RESUME (rejoin after the restart, see
 * resume-points.ts): the realtime-js backoff reconnects within 1–10 s.
 */
export const RESUME_WINDOW_MS = 30_000

/**
 * The one reader of the change log: wakes on NOTIFY (one per committed transaction, in commit
 * order), reads those transactions' rows, and hands them to the dispatcher. Everything runs in
 * one serial queue, so each subscriber gets changes in commit order and each once. A NOTIFY is
 * only a latency hint: at start and whenever the LISTEN connection comes back, it catches up
 * from the log's undelivered rows.
 */
export class ChangeFeed {
  private tail: Promise<void> = Promise.resolve()
  private pending: number[] = []
  private drainQueued = false
  private readonly processed = new Map<number, number>()
  private unlisten?: () => Promise<void>
  private pruneTimer?: NodeJS.Timeout
  private held: ChangeRow[] = []
  private holdUntil = 0
  private closed = false
  private marking: Promise<void> = Promise.resolve()

  constructor(
    private readonly db: Database,
    private readonly dispatcher: ChangeDispatcher,
    private readonly channels: ChannelRegistry,
    private readonly onError: (error: unknown, where: string) => void,
  ) {}

  async start(): Promise<void> {
    this.holdUntil = Date.now() + RESUME_WINDOW_MS
    this.unlisten = await this.db.listen(
      CHANGES_CHANNEL,
      (payload) => this.notified(payload),
      () => this.enqueue('catch-up', () => this.catchUp()),
    )
    this.enqueue('catch-up', () => this.catchUp())
    this.pruneTimer = setInterval(() => this.enqueue('prune', () => this.prune()), PRUNE_EVERY_MS)
    this.pruneTimer.unref()
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.pruneTimer) clearInterval(this.pruneTimer)
    await this.unlisten?.().catch(() => {})
    await this.tail
    await this.marking
  }

  /** Runs `task` in the feed's serial queue (after every change already queued). */
  enqueue(where: string, task: () => Promise<void>): Promise<void> {
    const run = this.tail.then(() => (this.closed && where !== 'resume' ? undefined : task()))
    this.tail = run.catch((error) => this.onError(error, `realtime change feed (${where})`))
    return this.tail
  }

  /**
   * Replays the held changes to a channel that resumed after a restart, then `register`s it for
   * live changes, both inside the queue: no change is missed or sent twice in between.
   */
  resume(member: ChannelMember, register: () => void): Promise<void> {
    return this.enqueue('resume', async () => {
      try {
        if (Date.now() <= this.holdUntil && this.held.length > 0) await this.dispatcher.dispatch(this.held, [member])
      } finally {
        register()
      }
    })
  }

  private notified(payload: string): void {
    const txid = Number(payload)
    if (!Number.isSafeInteger(txid)) return
    this.pending.push(txid)
    if (this.drainQueued) return
    this.drainQueued = true
    this.enqueue('notify', () => this.drain())
  }

  private async drain(): Promise<void> {
    this.drainQueued = false
    while (this.pending.length > 0) {
      const txids = this.pending.splice(0, MAX_TXIDS_PER_READ).filter((t) => !this.processed.has(t))
      if (txids.length === 0) continue
      const rows = await readTransactions(this.db, txids)
      // NOTIFY order is commit order; within a transaction, the order rows changed.
      const rank = new Map(txids.map((t, i) => [t, i]))
      rows.sort((a, b) => rank.get(a.txid)! - rank.get(b.txid)! || a.id - b.id)
      await this.deliver(rows, txids)
    }
  }

  private async catchUp(): Promise<void> {
    await this.marking // what was delivered is marked before we look for what was not
    const rows = (await readUndelivered(this.db, CATCH_UP_LIMIT)).filter((r) => !this.processed.has(r.txid))
    if (rows.length === 0) return
    await this.deliver(rows, [...new Set(rows.map((r) => r.txid))])
  }

  private async deliver(rows: ChangeRow[], txids: number[]): Promise<void> {
    const now = Date.now()
    for (const txid of txids) this.processed.set(txid, now)
    if (now <= this.holdUntil) this.held.push(...rows)
    else this.held = []
    await this.dispatcher.dispatch(rows, this.channels.postgresListeners())
    // Off the queue: the flag only matters to the next gateway's catch-up; the next batch need not wait.
    this.marking = this.marking
      .then(() => markDelivered(this.db, txids))
      .catch((error) => this.onError(error, 'realtime change feed (mark delivered)'))
  }

  private async prune(): Promise<void> {
    if (Date.now() > this.holdUntil) this.held = []
    const horizon = Date.now() - PROCESSED_TTL_MS
    for (const [txid, at] of this.processed) if (at < horizon) this.processed.delete(txid)
    await pruneChangeLog(this.db)
  }
}
