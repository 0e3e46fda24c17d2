import { rm } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { openDefaultDatabase, REPO_ROOT } from '../db/open-default.ts'
import { prepareDatabase } from '../migrate/prepare.ts'

const HELP = `Usage: npm start [-- options]

Brings up Oblivion's database and applies the migrations:
the embedded PGlite database (no install; files under .oblivion/pglite) by default,
or any PostgreSQL server given by DATABASE_URL / --database-url.

Options:
  --database-url URL   PostgreSQL server to use instead of the embedded database
  --data-dir DIR       folder of the embedded database (default: .oblivion/pglite, or OBLIVION_DATA_DIR)
  --reset              delete the embedded database first (asks nothing: the data is gone)
  --json               print the status as one JSON object
  -h, --help           show this help

Exit codes: 0 ready, 1 the database could not be prepared, 2 bad options.`

function parseOptions() {
  try {
    return parseArgs({
      strict: true,
      options: {
        'database-url': { type: 'string' },
        'data-dir': { type: 'string' },
        reset: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`)
    process.exit(2)
  }
}

async function main() {
  const options = parseOptions()
  if (options.help) {
    console.log(HELP)
    return
  }
  const databaseUrl = options['database-url'] ?? process.env.DATABASE_URL
  if (options.reset && databaseUrl) {
    console.error('--reset only deletes the embedded database; drop a server database with your own tools.')
    process.exit(2)
  }
  const dataDir = path.resolve(options['data-dir'] ?? process.env.OBLIVION_DATA_DIR ?? path.join(REPO_ROOT, '.oblivion', 'pglite'))
  if (options.reset) await rm(dataDir, { recursive: true, force: true })

  const db = await openDefaultDatabase({ databaseUrl, dataDir })
  try {
    const status = await prepareDatabase(db)
    if (options.json) {
      console.log(JSON.stringify(status))
      return
    }
    console.log(
      [
        'Oblivion database ready',
        `  database    ${status.kind === 'pglite' ? `embedded PGlite, files in ${path.relative(process.cwd(), dataDir) || '.'}` : status.location}`,
        `  server      ${status.serverVersion}`,
        `  platform    ${status.bootstrapped ? 'local bootstrap applied (roles, auth, storage, realtime publication)' : 'hosted Supabase detected: bootstrap skipped'}`,
        `  migrations  ${status.migrations.applied.length} applied now, ${status.migrations.alreadyApplied.length} already applied`,
        `  network     ${status.stats.workers.registered} workers, ${status.stats.jobs.total} jobs, ${status.stats.tasks.queued} tasks queued`,
      ].join('\n'),
    )
  } finally {
    await db.close()
  }
}

main().catch((error: Error) => {
  console.error(`Could not prepare the database: ${error.message}`)
  process.exit(1)
})
