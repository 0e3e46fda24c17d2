import { rm } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { ANVIL_STATE_FILE, CHAIN_CONFIG_FILE, ChainError, startLocalChain, type LocalChain } from '@oblivion/contracts'
import { openDefaultDatabase, REPO_ROOT } from '../db/open-default.ts'
import { loadOrCreateKeys } from '../gateway/config.ts'
import { startGateway } from '../gateway/gateway.ts'
import { prepareDatabase, type DatabaseStatus } from '../migrate/prepare.ts'

const HELP = `Usage: npm start [-- options]

Brings up the local Oblivion network: the database with every migration applied, the
Supabase-compatible gateway (REST, Auth, Realtime, Storage) that supabase-js talks to, and a
local chain (anvil, Shardeum-like: chain id 8119, Istanbul rules) with the OblivionSettlement
contract deployed. The database is the embedded PGlite (no install; files under .oblivion/pglite)
by default, or any PostgreSQL server given by DATABASE_URL / --database-url. Runs until Ctrl-C.

Options:
  --database-url URL   PostgreSQL server to use instead of the embedded database
  --home DIR           folder for local state: pglite/, storage/, gateway.json with the keys,
                       chain.json and anvil-state.json (default: .oblivion, or OBLIVION_HOME)
  --data-dir DIR       folder of the embedded database (default: <home>/pglite, or OBLIVION_DATA_DIR)
  --port N             gateway port (default: 54321, as the Supabase CLI; 0 = any free port)
  --host HOST          gateway address (default: 127.0.0.1)
  --chain-port N       port of the local chain's JSON-RPC on 127.0.0.1 (default: 8545; 0 = any free port)
  --no-chain           do not start the local chain
  --prepare-only       apply the migrations and exit, without starting the gateway or the chain
  --reset              delete the embedded database, stored objects and the local chain first
                       (asks nothing)
  --json               print the status as one JSON object (one line) once ready
  -h, --help           show this help

Environment: OBLIVION_SIWE_DOMAINS=host1,host2  hosts a Sign-In with Ethereum message may name
besides localhost (your site's host in a deployment).

The anon key printed is public (pages and workers use it). The service_role key bypasses
row-level security: it stays in <home>/gateway.json (mode 0600) and is never printed.

The chain keeps its state in <home>/anvil-state.json across restarts; the contract is deployed
on the first start (owner: anvil account 0, validator: anvil account 1, unbonding delay and
challenge window 60 s) and reused afterwards. <home>/chain.json (mode 0600) holds the RPC URL,
the contract's address and anvil's public dev keys for the coordinator, the CLI and wallets.

Exit codes: 0 stopped cleanly (or ready, with --prepare-only), 1 could not start (or the chain
stopped unexpectedly), 2 bad options.`

function parseOptions() {
  try {
    return parseArgs({
      strict: true,
      options: {
        'database-url': { type: 'string' },
        home: { type: 'string' },
        'data-dir': { type: 'string' },
        port: { type: 'string', default: '54321' },
        host: { type: 'string', default: '127.0.0.1' },
        'chain-port': { type: 'string', default: '8545' },
        'no-chain': { type: 'boolean', default: false },
        'prepare-only': { type: 'boolean', default: false },
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

function usageError(message: string): never {
  console.error(`${message}\n\nSee npm start -- --help.`)
  process.exit(2)
}

/** A path as the user would type it: relative inside the current folder, absolute outside. */
function shown(p: string): string {
  const relative = path.relative(process.cwd(), p)
  return relative && !relative.startsWith('..') ? relative : p
}

function describeDatabase(status: DatabaseStatus, dataDir: string) {
  return [
    `  database    ${status.kind === 'pglite' ? `embedded PGlite, files in ${shown(dataDir)}` : status.location}`,
    `  server      ${status.serverVersion}`,
    `  platform    ${status.bootstrapped ? 'local bootstrap applied (roles, auth, storage, realtime)' : 'hosted Supabase detected: bootstrap skipped'}`,
    `  migrations  ${status.migrations.applied.length} applied now, ${status.migrations.alreadyApplied.length} already applied`,
    `  network     ${status.stats.workers.registered} workers, ${status.stats.jobs.total} jobs, ${status.stats.tasks.queued} tasks queued`,
  ]
}

function describeChain(chain: LocalChain | undefined) {
  if (!chain) return [`  chain       off (--no-chain)`]
  const { config } = chain
  const deployment = chain.deployment === 'reused' ? 'deployed earlier, reused' : `deployed now (${chain.deployReason})`
  return [
    `  chain       anvil ${config.chainId} at ${config.rpcUrl}, settlement ${config.settlement}`,
    `              ${deployment}; addresses and dev keys in ${shown(chain.configFile)}`,
  ]
}

function chainStartError(error: unknown, chainPort: number): Error {
  if (error instanceof ChainError && error.code === 'ANVIL_PORT_IN_USE') {
    return new Error(
      `chain port ${chainPort} on 127.0.0.1 is in use (another npm start, or an anvil left running?). Stop it, or pass --chain-port 0 for any free port (--no-chain to run without a chain).`,
    )
  }
  return new Error(`the local chain did not start: ${(error as Error).message}`)
}

async function main() {
  const options = parseOptions()
  if (options.help) {
    console.log(HELP)
    return
  }
  const port = Number(options.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) usageError(`--port must be a port number (got ${options.port})`)
  const chainPort = Number(options['chain-port'])
  if (!Number.isInteger(chainPort) || chainPort < 0 || chainPort > 65535) {
    usageError(`--chain-port must be a port number (got ${options['chain-port']})`)
  }
  const databaseUrl = options['database-url'] ?? process.env.DATABASE_URL
  const home = path.resolve(options.home ?? process.env.OBLIVION_HOME ?? path.join(REPO_ROOT, '.oblivion'))
  const dataDir = path.resolve(options['data-dir'] ?? process.env.OBLIVION_DATA_DIR ?? path.join(home, 'pglite'))
  const storageDir = path.join(home, 'storage')
  if (options.reset) {
    if (databaseUrl) usageError('--reset only deletes the embedded database; drop a server database with your own tools.')
    await rm(dataDir, { recursive: true, force: true })
    await rm(storageDir, { recursive: true, force: true })
    await rm(path.join(home, ANVIL_STATE_FILE), { force: true })
    await rm(path.join(home, CHAIN_CONFIG_FILE), { force: true })
  }

  // The chain (~0.1 s for anvil, ~0.1 s for the deployment) comes up while the database opens.
  const chainStarting =
    options['prepare-only'] || options['no-chain'] ? undefined : startLocalChain({ home, port: chainPort }).catch((error: unknown) => {
      throw chainStartError(error, chainPort)
    })
  chainStarting?.catch(() => {}) // awaited below, after the database; this only marks it handled
  const stopChain = async () => (await chainStarting?.catch(() => undefined))?.stop()

  // Server mode: the gateway runs each request on a pooled connection; 20 keeps 32 busy workers
  // queued briefly rather than opening a connection each (PostgreSQL's default max is 100).
  const db = await openDefaultDatabase({ databaseUrl, dataDir, poolSize: 20 }).catch(async (error: unknown) => {
    await stopChain()
    throw error
  })
  let status: DatabaseStatus
  try {
    status = await prepareDatabase(db)
  } catch (error) {
    await Promise.all([db.close(), stopChain()])
    throw error
  }
  if (options['prepare-only']) {
    await db.close()
    if (options.json) console.log(JSON.stringify(status))
    else console.log(['Oblivion database ready', ...describeDatabase(status, dataDir)].join('\n'))
    return
  }

  const { keys, file: keysFile } = await loadOrCreateKeys(home)
  const siweDomains = (process.env.OBLIVION_SIWE_DOMAINS ?? '').split(',').map((d) => d.trim()).filter(Boolean)
  const gateway = await startGateway({ db, keys, storageDir, port, host: options.host, siweDomains }).catch(async (error) => {
    await Promise.all([db.close(), stopChain()])
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${port} on ${options.host} is in use (another npm start?). Stop it, or pass --port 0 for any free port.`)
    }
    throw error
  })

  let chain: LocalChain | undefined
  try {
    chain = await chainStarting
  } catch (error) {
    await Promise.all([gateway.close(), db.close()])
    throw error
  }

  let stopping = false
  const stop = async (reason: string, exitCode = 0) => {
    if (stopping) return
    stopping = true
    if (!options.json) console.log(`\n${reason}: stopping the gateway${chain ? ' and the chain' : ''} and closing the database…`)
    // anvil writes its state file as it stops (a few ms).
    await Promise.all([gateway.close(), chain?.stop()])
    await db.close()
    process.exit(exitCode)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
  void chain?.anvil.exited.then(({ code, signal }) => {
    // A Ctrl-C in the terminal reaches anvil too (same process group): give our own SIGINT
    // handler a moment to claim the stop before calling this exit unexpected.
    setTimeout(() => {
      if (stopping) return
      console.error(`The local chain (anvil) stopped unexpectedly (${signal ?? `exit code ${code}`}).`)
      void stop('anvil stopped', 1)
    }, 200)
  })

  if (options.json) {
    const chainStatus = chain && {
      rpcUrl: chain.config.rpcUrl,
      chainId: chain.config.chainId,
      settlement: chain.config.settlement,
      settlementBlock: chain.config.settlementBlock,
      deployer: chain.config.deployer,
      validator: chain.config.validator.address,
      deployment: chain.deployment,
      ...(chain.deployReason ? { deployReason: chain.deployReason } : {}),
      configFile: chain.configFile,
      stateFile: chain.stateFile,
    }
    console.log(JSON.stringify({ ...status, url: gateway.url, anonKey: keys.anonKey, keysFile, storageDir, chain: chainStatus ?? null }))
    return
  }
  console.log(
    [
      'Oblivion local network ready',
      `  API URL     ${gateway.url}`,
      `  anon key    ${keys.anonKey}`,
      `  service key in ${shown(keysFile)} (private: it bypasses row-level security)`,
      `  storage     ${shown(storageDir)}`,
      ...describeDatabase(status, dataDir),
      ...describeChain(chain),
      '',
      'supabase-js: createClient(API URL, anon key). Press Ctrl-C to stop.',
    ].join('\n'),
  )
}

main().catch((error: Error) => {
  console.error(`Could not start the local network: ${error.message}`)
  process.exit(1)
})
