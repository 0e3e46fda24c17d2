/**
 * `npm run bench:gateway`: the local gateway measured through the official supabase-js, on a
 * PostgreSQL server and on embedded PGlite:
 *   (a) claim+complete cycles/s through `rpc` with N workers (target ≥ 1,000/s on PostgreSQL, 32 workers);
 *   (b) latency from an insert committed to each subscriber's postgres_changes callback,
 *       p50/p99 with 100 subscribers (targets p50 ≤ 5 ms, p99 ≤ 25 ms).
 * Prints one JSON document to stdout; progress goes to stderr.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { Database } from '../src/db/database.ts'
import { openPglite } from '../src/db/pglite.ts'
import { openPostgres, redactUrl } from '../src/db/postgres.ts'
import { generateKeys } from '../src/gateway/config.ts'
import { startGateway } from '../src/gateway/gateway.ts'
import { resolvePostgresServer, withDatabase } from '../src/local-postgres/throwaway-cluster.ts'
import { applyPlatformBootstrap, migrate } from '../src/migrate/migrate.ts'
import { measureClaimCycles } from './gateway/claim-cycles.ts'
import { measureRealtimeLatency } from './gateway/realtime-latency.ts'

const HELP = `Usage: npm run bench:gateway [-- options]

Measures the local Supabase-compatible gateway through the official supabase-js client:
  claim_cycles      claim_task + complete_task cycles/s via rpc() with --workers concurrent workers
  realtime_latency  insert committed → postgres_changes callback, p50/p99 over --subscribers subscribers
on a PostgreSQL server (DATABASE_URL, else a throwaway local cluster with fsync off) and on
in-memory PGlite.

Options:
  --backends LIST    postgres,pglite (default both)
  --workers N        concurrent workers for claim_cycles (default 32)
  --seconds N        timed window for claim_cycles (default 5)
  --subscribers N    realtime subscribers (default 100)
  --changes N        inserts timed for realtime_latency (default 200)
  -h, --help         show this help

Exit codes: 0 measured (whether or not a target was met), 1 the benchmark failed, 2 bad options.`

const TARGETS = { claim_cycles_per_s_postgres: 1000, realtime_p50_ms: 5, realtime_p99_ms: 25 }

function options() {
  const { values } = parseArgs({
    strict: true,
    options: {
      backends: { type: 'string', default: 'postgres,pglite' },
      workers: { type: 'string', default: '32' },
      seconds: { type: 'string', default: '5' },
      subscribers: { type: 'string', default: '100' },
      changes: { type: 'string', default: '200' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return 'help' as const
  const positive = (name: string, text: string) => {
    const n = Number(text)
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} needs a positive whole number, got ${JSON.stringify(text)}`)
    return n
  }
  const backends = values.backends.split(',').map((b) => b.trim())
  for (const b of backends) if (b !== 'postgres' && b !== 'pglite') throw new Error(`--backends: unknown backend ${JSON.stringify(b)}`)
  return {
    backends: backends as Array<'postgres' | 'pglite'>,
    workers: positive('workers', values.workers),
    seconds: positive('seconds', values.seconds),
    subscribers: positive('subscribers', values.subscribers),
    changes: positive('changes', values.changes),
  }
}

async function measureBackend(db: Database, opts: Exclude<ReturnType<typeof options>, 'help'>) {
  await applyPlatformBootstrap(db)
  await migrate(db)
  const keys = generateKeys()
  const storageDir = await mkdtemp(path.join(os.tmpdir(), 'oblivion-bench-storage-'))
  const gateway = await startGateway({ db, keys, storageDir, onError: (e, where) => console.error(`[gateway] ${where}:`, e) })
  try {
    const common = { url: gateway.url, anonKey: keys.anonKey, serviceRoleKey: keys.serviceRoleKey, jwtSecret: keys.jwtSecret }
    console.error(`  claim cycles: ${opts.workers} workers, ${opts.seconds} s`)
    const claims = await measureClaimCycles({ ...common, workers: opts.workers, seconds: opts.seconds })
    console.error(`  realtime latency: ${opts.subscribers} subscribers, ${opts.changes} inserts`)
    const realtime = await measureRealtimeLatency({ ...common, db, subscribers: opts.subscribers, changes: opts.changes })
    return { claim_cycles: claims, realtime_latency: realtime }
  } finally {
    await gateway.close()
    await rm(storageDir, { recursive: true, force: true })
  }
}

async function main() {
  let opts: ReturnType<typeof options>
  try {
    opts = options()
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`)
    process.exit(2)
  }
  if (opts === 'help') return console.log(HELP)
  const report: Record<string, unknown> = { benchmark: 'gateway', node: process.version, cpus: os.cpus().length, targets: TARGETS }
  if (opts.backends.includes('postgres')) {
    const server = await resolvePostgresServer()
    const name = `oblivion_bench_gateway_${process.pid}`
    const admin = await openPostgres(server.url, { max: 1 })
    await admin.exec(`drop database if exists ${name}`)
    await admin.exec(`create database ${name}`)
    const db = await openPostgres(withDatabase(server.url, name), { max: 20 })
    console.error(`postgres (${redactUrl(server.url)})`)
    try {
      report.postgres = await measureBackend(db, opts)
    } finally {
      await db.close()
      await admin.exec(`drop database if exists ${name} with (force)`).catch(() => {})
      await admin.close()
      await server.stop()
    }
  }
  if (opts.backends.includes('pglite')) {
    console.error('pglite (in memory)')
    const db = await openPglite()
    try {
      report.pglite = await measureBackend(db, opts)
    } finally {
      await db.close()
    }
  }
  console.log(JSON.stringify(report, null, 2))
}

main().catch((error: Error) => {
  console.error(`bench:gateway failed: ${error.stack ?? error.message}`)
  process.exit(1)
})
