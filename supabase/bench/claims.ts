/**
 * `npm run bench:claims`: claim+complete cycles per second of Oblivion's task queue at several
 * worker concurrencies, against pg-boss on the same PostgreSQL server, and on embedded PGlite.
 * Prints one JSON report to stdout; progress goes to stderr.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { Database } from '../src/db/database.ts'
import { openPglite } from '../src/db/pglite.ts'
import { openPostgres, redactUrl } from '../src/db/postgres.ts'
import { resolvePostgresServer, withDatabase, type PostgresServer } from '../src/local-postgres/throwaway-cluster.ts'
import { applyPlatformBootstrap, migrate } from '../src/migrate/migrate.ts'
import { cpuMeter, type CpuMeter } from './cpu.ts'
import { measureLevel, type Measurement, type QueueUnderTest } from './measure.ts'
import { prepareOurs } from './ours.ts'
import { preparePgBoss } from './pgboss.ts'

const DEFAULT_BACKLOG = 1000

const HELP = `Usage: npm run bench:claims [-- options]

Measures claim+complete cycles per second with N concurrent workers:
  ours_postgres  claim_task then complete_task, each one PostgREST-style transaction
                 (role authenticated + JWT claims) on its own connection, one worker row each
  pgboss         pg-boss fetch (batch 1) then complete, same server, its own database
  ours_pglite    the same cycle as ours_postgres on in-memory PGlite (one session: serialized)
The server is DATABASE_URL, else a throwaway local cluster (fsync off) removed afterwards.

Options:
  --levels LIST   comma-separated worker counts (default 1,8,32)
  --seconds N     timed window per level, in seconds (default 5)
  --warmup N      untimed warm-up before each window, in seconds (default 1)
  --backlog N     items kept queued while workers drain each queue, refilled 100 at a
                  time by a producer connection (default ${DEFAULT_BACKLOG}, at least 100).
                  pg-boss's fetch sorts every ready job, so its cost grows with this.
  -h, --help      show this help

Prints one JSON document to stdout; progress goes to stderr.
Exit codes: 0 measured (whether or not the target was met), 1 the benchmark failed, 2 bad options.`

const TARGET = { level: 32, required_ratio: 1.0 }

interface Options {
  levels: number[]
  seconds: number
  warmup: number
  backlog: number
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options | 'help' {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        levels: { type: 'string', default: '1,8,32' },
        seconds: { type: 'string', default: '5' },
        warmup: { type: 'string', default: '1' },
        backlog: { type: 'string', default: String(DEFAULT_BACKLOG) },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (values.help) return 'help'
  const positive = (name: string, text: string, integer: boolean) => {
    const value = Number(text)
    if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new UsageError(`--${name} needs a positive ${integer ? 'whole ' : ''}number, got ${JSON.stringify(text)}`)
    }
    return value
  }
  const levels = values.levels.split(',').map((level) => positive('levels', level.trim(), true))
  if (levels.some((level) => level > 64)) throw new UsageError('--levels: at most 64 workers per level (each needs its own connection)')
  const backlog = positive('backlog', values.backlog, true)
  if (backlog < 100) throw new UsageError('--backlog: at least 100 (one refill batch)')
  return { levels, backlog, seconds: positive('seconds', values.seconds, false), warmup: positive('warmup', values.warmup, false) }
}

function packageVersion(name: string): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve(name))
  while (dir !== path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (manifest.name === name) return manifest.version ?? 'unknown'
    } catch {
      // no package.json at this level; keep walking up
    }
    dir = path.dirname(dir)
  }
  return 'unknown'
}

const progress = (line: string) => process.stderr.write(`${line}\n`)

const BACKENDS = ['ours_postgres', 'pgboss', 'ours_pglite'] as const
type Backend = (typeof BACKENDS)[number]

/** A new, empty database on the server, dropped by the returned function. */
async function createServerDatabase(serverUrl: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = await openPostgres(serverUrl, { max: 1, applicationName: 'oblivion-bench' })
  try {
    await admin.exec(`drop database if exists ${name} with (force)`)
    await admin.exec(`create database ${name}`)
  } finally {
    await admin.close()
  }
  return {
    url: withDatabase(serverUrl, name),
    async drop() {
      const dropper = await openPostgres(serverUrl, { max: 1, applicationName: 'oblivion-bench' })
      await dropper.exec(`drop database if exists ${name} with (force)`).finally(() => dropper.close())
    },
  }
}

async function migrated(db: Database): Promise<Database> {
  await applyPlatformBootstrap(db)
  await migrate(db)
  return db
}

async function main(options: Options, server: PostgresServer, cleanups: Array<() => Promise<void>>) {
  const workers = Math.max(...options.levels)
  const serverFacts = await openPostgres(server.url, { max: 1 })
  const serverVersion = (await serverFacts.query<{ server_version: string }>('show server_version')).rows[0]!.server_version
  const serverCpu = await cpuMeter(serverFacts, server.owned)
  await serverFacts.close()

  progress(`ours_postgres: preparing a migrated database with ${workers} workers and 3 running jobs…`)
  const oursDatabase = await createServerDatabase(server.url, `oblivion_bench_${process.pid}`)
  cleanups.push(() => oursDatabase.drop())
  const oursAdmin = await migrated(await openPostgres(oursDatabase.url, { max: 2, applicationName: 'oblivion-bench' }))
  cleanups.push(() => oursAdmin.close())
  const oursPostgres = await prepareOurs(oursAdmin, workers, (size) =>
    openPostgres(oursDatabase.url, { max: size, applicationName: 'oblivion-bench' }),
  )

  progress('pgboss: installing pg-boss into its own database…')
  const bossDatabase = await createServerDatabase(server.url, `pgboss_bench_${process.pid}`)
  cleanups.push(() => bossDatabase.drop())
  const pgboss = await preparePgBoss(bossDatabase.url)
  cleanups.push(() => pgboss.close())

  progress(`ours_pglite: preparing an in-memory PGlite the same way…`)
  const lite = await openPglite()
  cleanups.push(() => lite.close())
  const pgliteVersion = (await lite.query<{ server_version: string }>('show server_version')).rows[0]!.server_version
  // One PGlite for setup, refills and every worker: it has a single session anyway.
  const oursPglite = await prepareOurs(await migrated(lite), workers, async () => lite)

  // Level by level, the backends back to back: a busy neighbour on the machine then skews
  // one level of every backend rather than every level of one backend.
  const queues: Record<Backend, QueueUnderTest> = { ours_postgres: oursPostgres, pgboss, ours_pglite: oursPglite }
  const meters: Record<Backend, CpuMeter> = { ours_postgres: serverCpu, pgboss: serverCpu, ours_pglite: await cpuMeter(lite, false) }
  const timing = { warmupMs: options.warmup * 1000, windowMs: options.seconds * 1000, backlog: options.backlog }
  const loadBefore = os.loadavg()[0]!
  const results = []
  for (const level of options.levels) {
    const row: Partial<Record<Backend, Measurement>> = {}
    for (const backend of BACKENDS) {
      const m = (row[backend] = await measureLevel(queues[backend], level, { ...timing, cpu: meters[backend] }))
      const cpu = `CPU/cycle node ${m.cpu_ms_per_cycle.node} ms` + (m.cpu_ms_per_cycle.postgres === null ? '' : `, postgres ${m.cpu_ms_per_cycle.postgres} ms`)
      progress(`[${backend}] ${level} workers: ${m.cycles_per_s} cycles/s (claim p50 ${m.claim_ms.p50} ms, p99 ${m.claim_ms.p99} ms; ${cpu})`)
    }
    const ratio = Number((row.ours_postgres!.cycles_per_s / row.pgboss!.cycles_per_s).toFixed(2))
    results.push({ workers: level, ...row, ratio_vs_pgboss: ratio })
  }

  const targetRatio = results.find((r) => r.workers === TARGET.level)?.ratio_vs_pgboss ?? null
  return {
    benchmark: 'claim+complete cycles per second',
    machine: {
      cores: os.availableParallelism(),
      cpu: os.cpus()[0]?.model ?? 'unknown',
      // Other processes on the machine (parallel test runs) take cores from the benchmark.
      load_average_1m: { before: Number(loadBefore.toFixed(2)), after: Number(os.loadavg()[0]!.toFixed(2)) },
      node: process.version,
      server_version: serverVersion,
      server: server.owned ? 'throwaway local cluster (fsync, synchronous_commit, full_page_writes off)' : redactUrl(server.url),
      pglite_version: packageVersion('@electric-sql/pglite'),
      pglite_server_version: pgliteVersion,
      pg_boss_version: packageVersion('pg-boss'),
    },
    method: {
      levels: options.levels,
      warmup_s: options.warmup,
      backlog: options.backlog,
      backlog_note: 'items kept queued during every window, topped up 100 at a time (one round of one job / one pg-boss insert) by a producer connection; pg-boss fetch sorts all ready jobs, so its cost grows with the backlog, ours does not',
      window_s: options.seconds,
      ours_cycle: 'claim_task, then complete_task ({artifact_cid, sample_count}): two transactions of begin, set_config(role, jwt claims), rpc, commit; one connection and one worker (cap 2) per concurrent worker; 3 running jobs, refilled one 100-task round at a time',
      pgboss_cycle: 'fetch (batchSize 1), then complete: two autocommit statements; pool of workers + 2 connections; supervise/schedule off; refilled 100 jobs at a time',
      claim_ms: 'latency of the claim transaction (pg-boss: of fetch), p50/p99 over the timed window',
      cpu_ms_per_cycle: 'CPU time per cycle of this Node process (PGlite runs inside it) and of all PostgreSQL server processes (null when the server is not local): far less skewed than cycles/s by other load on the machine',
    },
    results,
    target: { ...TARGET, ratio: targetRatio, met: targetRatio === null ? null : targetRatio >= TARGET.required_ratio },
  }
}

async function cli(): Promise<number> {
  let options: Options | 'help'
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`bench:claims: ${error.message}\nRun with --help for the options.\n`)
    return 2
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`)
    return 0
  }

  const cleanups: Array<() => Promise<void>> = []
  let server: PostgresServer | undefined
  // Ctrl-C must not leave a throwaway cluster running.
  process.once('SIGINT', () => {
    progress('bench:claims: interrupted; stopping the server…')
    void (server?.stop() ?? Promise.resolve()).finally(() => process.exit(130))
  })
  try {
    progress('Starting PostgreSQL (DATABASE_URL, else a throwaway cluster)…')
    server = await resolvePostgresServer()
    const report = await main(options, server, cleanups)
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    return 0
  } catch (error) {
    process.stderr.write(`bench:claims failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return 1
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
    await server?.stop()
  }
}

process.exitCode = await cli()
