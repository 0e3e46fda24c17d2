import './supabase-js-notices.ts'
import { Command, CommanderError, Option } from 'commander'
import { EXIT, usageError, type ExitCode } from './cli-error.ts'
import { DEFAULT_HOME, DEFAULT_URL, wantsJson, type GlobalOptions } from './global-options.ts'
import { jobId, networkUrl, secondsBetween, weiAmount, wholeNumber, workerName } from './option-parsers.ts'
import { reportError } from './render/error-report.ts'
import { jsonLog } from './render/json-log.ts'

/**
 * `oblivion`: this file only declares the commands and their options. Each command's work is in
 * commands/<name>.ts, loaded when that command runs (so `--help` and a usage error never load
 * supabase-js, the training core or the job-spec schema); what it prints is in render/.
 */

const ROOT_HELP = `
Examples:
  $ npm start                                     # first, in another terminal: the local network
  $ oblivion worker --name laptop --max-concurrency 2
  $ oblivion job create sample_job/jobs/mnist.json --reward-wei 1000000000000000000
  $ oblivion job create sample_job/jobs/iris-csv.json --dataset sample_job/data/iris.csv
  $ oblivion job status <job-id> --watch
  $ oblivion job download <job-id> --format onnx --out ./model
  $ oblivion coordinator --fund-without-escrow    # on the machine that ran npm start
  From the repository root: npm run -s oblivion -- <command> [options]

Output:
  On a terminal: progress bars and sentences. With --json, or when stdout is not a terminal
  (a pipe, a file, CI): one JSON object per line, each with "ts" and "type"; errors go to
  stderr (as a JSON line in JSON mode).

Identity:
  Commands sign in anonymously once and keep the session in <home>/credentials/<profile>.json
  (mode 0600): profile "cli" for the job commands, the worker's name for a worker. Keep the
  file to keep access to your jobs and workers.

Environment:
  OBLIVION_URL, OBLIVION_HOME, SUPABASE_ANON_KEY   defaults of --url, --home, --anon-key
  SUPABASE_SERVICE_ROLE_KEY                        the coordinator's key (else <home>/gateway.json)
  OBLIVION_DEBUG=1                                 print stack traces with errors

Exit codes:
  0    success (job status --watch: the job completed)
  1    error: network, refused request, invalid spec, a watched job that failed, was
       cancelled or expired
  2    usage: unknown option or command, bad value, conflicting flags
  130  interrupted: stopped with a second Ctrl-C (or SIGTERM)
`

const SIGNALS_HELP = (first: string, second: string) => `
Stopping:
  Ctrl-C (or SIGTERM) once: ${first}
  Ctrl-C twice: ${second}

Exit codes: 0 stopped cleanly, 1 error, 2 usage, 130 interrupted (second Ctrl-C).
`

export function buildProgram(onResult: (code: ExitCode) => void, argv: string[]): Command {
  // Usage errors are found while parsing, before the options are known: look for --json directly.
  const jsonErrors = wantsJson(argv.includes('--json'))
  const program = new Command('oblivion')
    .description('Oblivion from the command line: train shards as a worker, run the coordinator, create, follow and download training jobs.')
    .exitOverride()
    .showHelpAfterError(jsonErrors ? false : '(add --help for usage)')
    .configureOutput({
      outputError: (text, write) => {
        if (!jsonErrors) return write(text)
        jsonLog(process.stderr).write('error', { code: 'CLI_USAGE', message: text.trim().replace(/^error: /, ''), hint: 'add --help for usage' })
      },
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addOption(
      new Option('--url <url>', 'the network (Supabase gateway) to talk to').env('OBLIVION_URL').default(DEFAULT_URL).argParser(networkUrl),
    )
    .addOption(
      new Option('--home <dir>', 'folder with gateway.json (keys) and credentials/ (sessions); same as `npm start --home`')
        .env('OBLIVION_HOME')
        .default(DEFAULT_HOME, '<repository>/.oblivion'),
    )
    .addOption(
      new Option('--anon-key <key>', "the network's public anon key (default: anonKey of <home>/gateway.json)").env('SUPABASE_ANON_KEY'),
    )
    .addOption(new Option('--json', 'JSON lines instead of progress bars and prose (automatic when stdout is not a terminal)'))
    .addHelpText('after', ROOT_HELP)

  const globals = (command: Command): GlobalOptions => {
    const options = command.optsWithGlobals<{ url: string; home: string; anonKey?: string; json?: boolean }>()
    return { url: options.url, home: options.home, anonKey: options.anonKey, json: wantsJson(options.json) }
  }

  program
    .command('worker')
    .description('Train shards for jobs on the network: claim tasks, train them with DP-SGD, deliver the updates.')
    .addOption(
      new Option('--name <name>', "worker name, unique among your workers; also names its stored identity, credentials/<name>.json (default: this machine's host name)").argParser(
        workerName,
      ),
    )
    .addOption(new Option('--max-concurrency <n>', 'tasks trained at once (1..16)').argParser(wholeNumber(1, 16)).default(2))
    .addOption(
      new Option('--lease-seconds <s>', 'how long a claimed task stays ours without a heartbeat (10..600)').argParser(wholeNumber(10, 600)).default(60),
    )
    .addOption(new Option('--poll-seconds <s>', 'how often to look for work when the queue is empty (0.5..300)').argParser(secondsBetween(0.5, 300)).default(5))
    .addOption(
      new Option('--backend <backend>', 'TensorFlow.js backend: wasm (about 3x faster) or cpu (pure JavaScript)').choices(['wasm', 'cpu']).default('wasm'),
    )
    .addHelpText('after', SIGNALS_HELP('stop claiming; running tasks finish and are delivered, then exit 0.', 'give running tasks back (so others retry them at once) and exit 130.'))
    .action(async function (this: Command) {
      const options = this.opts<{ name?: string; maxConcurrency: number; leaseSeconds: number; pollSeconds: number; backend: 'wasm' | 'cpu' }>()
      const { runWorkerCommand, defaultWorkerName } = await import('./commands/worker.ts')
      onResult(await runWorkerCommand({ ...globals(this), ...options, name: options.name ?? defaultWorkerName() }))
    })

  program
    .command('coordinator')
    .description("Run the network's coordinator: fund jobs, open rounds, aggregate updates, publish models. Needs the service_role key.")
    .addOption(new Option('--poll-seconds <s>', 'how often to look for work besides realtime notifications (0.5..300)').argParser(secondsBetween(0.5, 300)).default(5))
    .addOption(new Option('--fund-without-escrow', 'start jobs without an on-chain escrow deposit (local networks and tests only)'))
    .addHelpText(
      'after',
      `${SIGNALS_HELP('finish the step in progress, then exit 0.', 'exit at once (130).')}
The service_role key comes from SUPABASE_SERVICE_ROLE_KEY, else serviceRoleKey of <home>/gateway.json.
`,
    )
    .action(async function (this: Command) {
      const options = this.opts<{ pollSeconds: number; fundWithoutEscrow?: boolean }>()
      if (this.optsWithGlobals().anonKey !== undefined && program.getOptionValueSource('anonKey') === 'cli') {
        throw usageError('the coordinator does not use --anon-key: it runs with the service_role key', 'drop --anon-key')
      }
      const { runCoordinatorCommand } = await import('./commands/coordinator.ts')
      onResult(await runCoordinatorCommand({ ...globals(this), pollSeconds: options.pollSeconds, fundWithoutEscrow: options.fundWithoutEscrow === true }))
    })

  const job = program.command('job').description('Create training jobs, follow them, download their models.')

  job
    .command('create')
    .description('Create a training job from a job spec (JSON, version 1). The spec is checked here first: every problem is listed with its field path.')
    .argument('<spec.json>', 'the job spec file (fields: supabase/README.md, "Job spec v1")')
    .addOption(new Option('--reward-wei <wei>', 'reward for the workers, in wei (decimal digits)').argParser(weiAmount).default('1000000000000000000', '1000000000000000000 = 1 coin'))
    .addOption(
      new Option('--dataset <file.csv>', 'for a spec with dataset.source "csv": upload this file to the datasets bucket (<your user id>/<file name>) and point the spec at it'),
    )
    .addHelpText('after', '\nPrints the job id (a "job-created" JSON line with --json). The job stays "created" until the coordinator funds it.\n')
    .action(async function (this: Command, specFile: string) {
      const options = this.opts<{ rewardWei: string; dataset?: string }>()
      const { runJobCreateCommand } = await import('./commands/job-create.ts')
      onResult(await runJobCreateCommand({ ...globals(this), specFile, rewardWei: options.rewardWei, dataset: options.dataset }))
    })

  job
    .command('status')
    .description("Show a job: status, round, ε spent, tasks by status, each round's metrics.")
    .argument('<job-id>', 'the id `job create` printed', jobId)
    .addOption(new Option('--watch', 'follow the job live (Realtime) until it completes, fails, is cancelled or expires'))
    .addHelpText(
      'after',
      '\nWith --watch: a bar of the current round\'s tasks on a terminal; with --json one line per change.\nExit code with --watch: 0 if the job completed, 1 if it failed, was cancelled or expired, 130 if stopped with Ctrl-C.\n',
    )
    .action(async function (this: Command, id: string) {
      const options = this.opts<{ watch?: boolean }>()
      const { runJobStatusCommand } = await import('./commands/job-status.ts')
      onResult(await runJobStatusCommand({ ...globals(this), jobId: id, watch: options.watch === true }))
    })

  job
    .command('download')
    .description("Download a completed job's model files, each checked against its content id (CIDv1, sha-256) before it is written.")
    .argument('<job-id>', 'the id `job create` printed', jobId)
    .addOption(new Option('--format <format>', 'which format(s) to download').choices(['tfjs', 'onnx', 'h5', 'pt', 'pkl', 'all']).default('all'))
    .addOption(new Option('--out <dir>', 'folder to write <format>/<file> into (default: ./model-<first 8 characters of the job id>)'))
    .action(async function (this: Command, id: string) {
      const options = this.opts<{ format: 'tfjs' | 'onnx' | 'h5' | 'pt' | 'pkl' | 'all'; out?: string }>()
      const { runJobDownloadCommand } = await import('./commands/job-download.ts')
      onResult(await runJobDownloadCommand({ ...globals(this), jobId: id, format: options.format, out: options.out }))
    })

  return program
}

/** Parses argv, runs the command, reports any error; resolves with the process exit code. */
export async function runCli(argv: string[]): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok
  const program = buildProgram((result) => {
    code = result
  }, argv)
  try {
    await program.parseAsync(argv)
    return code
  } catch (error) {
    // Commander has printed its own message (or the help) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    return reportError(error, { json: wantsJson(program.opts<{ json?: boolean }>().json) })
  }
}

const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()))

const exitCode = await runCli(process.argv)
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
// Exit explicitly: a command is done when it returns, whatever sockets or timers a library keeps.
process.exit(exitCode)
