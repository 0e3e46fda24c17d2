import path from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from '../../../sample_job/src/local-processes.ts'
import { MAX_CHAIN_WORKERS, type LocalNetworkOptions } from './local-network.ts'

export const HELP = `Usage: npm start [-- options]

Brings up the whole local Oblivion network on this machine and prints a table of its services
with their URLs, then runs until Ctrl-C:

  database, gateway, chain   the database with every migration applied (embedded PGlite, or
                             DATABASE_URL), the Supabase-compatible gateway supabase-js talks to,
                             and a local chain (anvil, chain id 8119) with the settlement contract
                             (supabase/src/cli/start.ts: run it alone for just these)
  coordinator                oblivion coordinator: escrows, rounds, aggregation, settlement
  worker cli-1 … cli-N       oblivion worker, each paid at dev account 4, 5, …; a worker whose
                             bond is below 1 coin bonds the difference first (once: bonds stay)
  web                        the Next.js app (next build first when web/ or a package it uses
                             changed since the last build: about a minute)
  visualizer                 the operators' live topology view
  marketplace                a sample model anyone can buy a proven inference from, prepared in
                             the background once the rest is ready (the status table does not
                             wait for it): the first start trains the mnist-zk sample job
                             (created and funded by dev account 2), lists it with \`oblivion model
                             list --price 0.01\` (the coordinator contributes to its setup; about
                             a minute in all), then runs \`oblivion serve\` for it; later starts on
                             the same home only start \`oblivion serve\`

Each service's output goes to <home>/logs/<service>.log (network.log for the first three).

Options:
  --home DIR             the network's folder: database, keys, chain, worker identities, logs
                         (default: .oblivion, or OBLIVION_HOME)
  --port N               gateway port (default 54321; 0 = any free port)
  --chain-port N         local chain's port (default 8545; 0 = any free port)
  --no-chain             no chain: the coordinator starts jobs without escrow, nobody is paid
  --database-url URL     a PostgreSQL server instead of the embedded database (or DATABASE_URL)
  --reset                delete the embedded database, stored objects and the local chain first
  --workers N            CLI workers (default 2; 0 to ${MAX_CHAIN_WORKERS} with a chain, dev accounts 4 to 9; up to 16 without)
  --web-port N           the web app's port (default 3000; 0 = any free port)
  --no-web               do not build or start the web app
  --visualizer-port N    the visualizer's port (default 3001; 0 = any free port)
  --no-visualizer        do not start the visualizer
  --no-marketplace       do not list and serve the sample model (implied by --no-chain: listing
                         and buying happen on the chain)
  --prepare-only         apply the migrations and exit; nothing else starts
  --json                 once ready, print the status as one JSON object line (type "ready");
                         later events are JSON lines too (the marketplace: "marketplace-ready" or
                         "service-failed", and "service-changed" as its row changes)
  -h, --help             show this help

The anon key printed is public. The service_role key stays in <home>/gateway.json (mode 0600);
the chain's dev keys in <home>/chain.json.

Stopping: Ctrl-C once stops everything in order: the marketplace's \`oblivion serve\` (it
finishes the proof in progress), the workers (they finish and deliver their running tasks), then
the coordinator, the web app, the visualizer, and last the database, gateway and chain. Ctrl-C again (a second or more later) kills the workers, the coordinator and
the web app at once and gives the database a few seconds to close.

Exit codes: 0 stopped cleanly (--prepare-only: migrations applied), 1 a service did not start
(named, with the end of its log) or the database/gateway/chain process stopped unexpectedly (the
marketplace is the exception: its failure is reported and the rest keeps running),
2 bad options, 130 stopped by a second Ctrl-C.`

export type LauncherOptions =
  | { mode: 'help' }
  | { mode: 'prepare-only'; home: string; databaseUrl: string | undefined; reset: boolean; json: boolean }
  | { mode: 'run'; network: LocalNetworkOptions; json: boolean }

export class UsageError extends Error {}

function port(value: string, flag: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`${flag} must be a port number from 0 to 65535 (got ${value})`)
  return n
}

/** Parses `npm start`'s options; throws UsageError (exit 2) on anything wrong. */
export function parseLauncherOptions(argv: string[]): LauncherOptions {
  let values
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        home: { type: 'string' },
        port: { type: 'string', default: '54321' },
        'chain-port': { type: 'string' },
        'no-chain': { type: 'boolean', default: false },
        'database-url': { type: 'string' },
        reset: { type: 'boolean', default: false },
        workers: { type: 'string', default: '2' },
        'web-port': { type: 'string' },
        'no-web': { type: 'boolean', default: false },
        'visualizer-port': { type: 'string' },
        'no-visualizer': { type: 'boolean', default: false },
        'no-marketplace': { type: 'boolean', default: false },
        'prepare-only': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (values.help) return { mode: 'help' }
  const home = path.resolve(values.home ?? process.env.OBLIVION_HOME ?? path.join(REPO_ROOT, '.oblivion'))
  const databaseUrl = values['database-url'] ?? (process.env.DATABASE_URL || undefined)
  if (values.reset && databaseUrl) throw new UsageError('--reset only deletes the embedded database; drop a server database with your own tools (or unset DATABASE_URL)')
  if (values['prepare-only']) return { mode: 'prepare-only', home, databaseUrl, reset: values.reset, json: values.json }

  for (const [off, flag] of [['no-chain', 'chain-port'], ['no-web', 'web-port'], ['no-visualizer', 'visualizer-port']] as const) {
    if (values[off] && values[flag] !== undefined) throw new UsageError(`--${off} and --${flag} contradict each other: drop one`)
  }
  const chain = !values['no-chain']
  const maxWorkers = chain ? MAX_CHAIN_WORKERS : 16
  const workers = Number(values.workers)
  if (!/^\d+$/.test(values.workers) || workers > maxWorkers) {
    throw new UsageError(
      `--workers must be a whole number from 0 to ${maxWorkers} (got ${values.workers})${chain ? `: with a chain each worker is paid at its own dev account, 4 to 9` : ''}`,
    )
  }
  const network: LocalNetworkOptions = {
    home,
    port: port(values.port, '--port'),
    chainPort: port(values['chain-port'] ?? '8545', '--chain-port'),
    chain,
    databaseUrl,
    reset: values.reset,
    workers,
    webPort: values['no-web'] ? null : port(values['web-port'] ?? '3000', '--web-port'),
    visualizerPort: values['no-visualizer'] ? null : port(values['visualizer-port'] ?? '3001', '--visualizer-port'),
    // --no-chain implies it; the table says why (local-network.ts).
    marketplace: !values['no-marketplace'],
  }
  return { mode: 'run', network, json: values.json }
}
