import { performance } from 'node:perf_hooks'
import PgBoss from 'pg-boss'
import type { Backlog } from './backlog.ts'
import type { QueueUnderTest } from './measure.ts'

const QUEUE = 'bench_claims'
const SCHEMA = 'pgboss'
/** Jobs per refill: the same batch as one round of a benchmark job on our side. */
const BATCH = 100

/**
 * pg-boss with only its queue in play: no supervisor (maintenance, expiry), no scheduler, no
 * state monitor, so nothing but fetch, complete and the refills touches the server.
 */
function startBoss(url: string, max: number): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, schema: SCHEMA, max, supervise: false, schedule: false, migrate: true })
  boss.on('error', (error) => process.stderr.write(`pg-boss: ${error.message}\n`))
  return boss.start()
}

/** Installs pg-boss into the (empty) database at `url` and creates the benchmark queue. */
export async function preparePgBoss(url: string): Promise<QueueUnderTest & { close(): Promise<void> }> {
  const producer = await startBoss(url, 2)
  await producer.createQueue(QUEUE)
  return {
    queued: async () => (await producer.getQueueSize(QUEUE)) ?? 0,

    async refill() {
      await producer.insert(Array.from({ length: BATCH }, (_, shard) => ({ name: QUEUE, data: { shard } })))
      return BATCH
    },

    async tidy() {
      await producer.getDb().executeSql(`vacuum analyze ${SCHEMA}.job`, [])
    },

    // A few connections beyond one per worker, as pg-boss would be sized in production.
    async openLevel(level: number, backlog: Backlog) {
      const boss = await startBoss(url, level + 2)
      const cycle = async () => {
        const started = performance.now()
        const [job] = await boss.fetch(QUEUE, { batchSize: 1 })
        const claimMs = performance.now() - started
        if (!job) throw new Error('pg-boss fetch found no job: the backlog ran dry (raise --backlog), or the fetch failed (pg-boss hides fetch errors)')
        backlog.claimed()
        await boss.complete(QUEUE, job.id)
        return { claimMs }
      }
      return { cycle, close: () => boss.stop({ graceful: false, wait: true }) }
    },

    close: () => producer.stop({ graceful: false, wait: true }),
  }
}
