import './supabase-js-notices.ts'
import { Command, CommanderError, Option } from 'commander'
import { EXIT, usageError, type ExitCode } from './cli-error.ts'
import { DEFAULT_HOME, DEFAULT_URL, wantsJson, type GlobalOptions } from './global-options.ts'
import {
  coinAmount,
  defaultWorkerName,
  hoursBetween,
  jobId,
  networkUrl,
  secondsBetween,
  uuidOf,
  weiAmount,
  wholeNumber,
  workerName,
} from './option-parsers.ts'
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
  $ oblivion coordinator                          # on the machine that ran npm start
  $ oblivion worker bond 1 --dev-account 4        # stake 1 SHM from local dev account 4
  $ oblivion worker --name laptop --dev-account 4 --max-concurrency 2
  $ oblivion job create sample_job/jobs/mnist.json --reward-wei 1000000000000000000 --dev-account 2
  $ oblivion job create sample_job/jobs/iris-csv.json --dataset sample_job/data/iris.csv --dev-account 2
  $ oblivion job status <job-id> --watch
  $ oblivion job download <job-id> --format onnx --out ./model
  $ oblivion worker claim --name laptop --dev-account 4   # the payouts of settled jobs
  $ oblivion worker stake --name laptop --dev-account 4   # balance, bond, payouts
  $ oblivion job cancel <job-id> --dev-account 2  # before work begins: the whole escrow back
  $ oblivion job refund <job-id> --dev-account 2  # after the deadline; also remainders
  $ oblivion model list <model-id> --price 0.01 --dev-account 2   # sell verified inferences
  $ oblivion serve <model-id> --dev-account 2     # answer them with proofs (keep it running)
  $ oblivion infer <model-id> --test-row 0 --dev-account 3        # buy one, check its proof
  Without a chain (npm start --no-chain): job create without a wallet, and
  oblivion coordinator --fund-without-escrow starts jobs without escrow (nobody is paid).
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
  OBLIVION_RPC_URL                                 a chain's JSON-RPC (e.g. Shardeum testnet); else the
                                                   local chain of <home>/chain.json (npm start)
  OBLIVION_SETTLEMENT_ADDRESS                      the settlement contract there (else the one
                                                   contracts/deployments/<chain id>.json records)
  OBLIVION_MARKET_ADDRESS                          the InferenceMarket with OBLIVION_RPC_URL (else chain.json's market)
  OBLIVION_PRIVATE_KEY                             the signing key of commands that pay or are paid
                                                   (or --keystore, or --dev-account on the local chain)
  KEYSTORE_PASSWORD                                the password of --keystore
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

const CHAIN_HELP = `
Chain: <home>/chain.json (the local chain \`npm start\` runs), or OBLIVION_RPC_URL with the contract
at OBLIVION_SETTLEMENT_ADDRESS (else the one contracts/deployments/<chain id>.json records).
Wallet: --dev-account <n> (the local chain's dev accounts only), --keystore <file> with
KEYSTORE_PASSWORD, or OBLIVION_PRIVATE_KEY: exactly one. Amounts print in SHM (wei with --json).
A call the contract refuses exits 1 with the contract's error as the code (e.g. InsufficientBond).
`

/** What --dev-account and --keystore parse to. */
type WalletFlags = { devAccount?: number; keystore?: string }

/** --dev-account and --keystore: how a command that signs gets its key (never a flag holding the key). */
function addWalletOptions(command: Command, purpose: string): Command {
  return command
    .addOption(new Option('--dev-account <n>', `${purpose}: dev account n (0-9) of <home>/chain.json, the local chain only`).argParser(wholeNumber(0, 99)))
    .addOption(new Option('--keystore <file>', `${purpose}: this encrypted JSON keystore (password in KEYSTORE_PASSWORD)`))
}

function nameOption(description = "worker name, unique among your workers; also names its stored identity, credentials/<name>.json (default: this machine's host name)"): Option {
  return new Option('--name <name>', description).argParser(workerName)
}

export function buildProgram(onResult: (code: ExitCode) => void, argv: string[]): Command {
  // Usage errors are found while parsing, before the options are known: look for --json directly.
  const jsonErrors = wantsJson(argv.includes('--json'))
  const program = new Command('oblivion')
    .description('Oblivion from the command line: train shards as a worker, run the coordinator, create, follow and download training jobs, sell and buy verified inferences.')
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

  /** A subcommand that signs chain transactions; its help shows the root's options as the global ones. */
  const moneyCommand = (parent: Command, name: string, description: string): Command =>
    addWalletOptions(parent.command(name).description(description), 'the wallet that signs')
      .configureHelp({ ...program.configureHelp(), visibleGlobalOptions: () => program.options.filter((option) => !option.hidden) })
      .addHelpText('after', CHAIN_HELP)

  const globals = (command: Command): GlobalOptions => {
    const options = command.optsWithGlobals<{ url: string; home: string; anonKey?: string; json?: boolean }>()
    return { url: options.url, home: options.home, anonKey: options.anonKey, json: wantsJson(options.json) }
  }

  const worker = program
    .command('worker')
    .description('Train shards for jobs on the network: claim tasks, train them with DP-SGD, deliver the updates. Its subcommands handle the money: bond, unbond, withdraw, claim, stake.')
    .addOption(nameOption())
    .addOption(new Option('--max-concurrency <n>', 'tasks trained at once (1..16)').argParser(wholeNumber(1, 16)).default(2))
    .addOption(
      new Option('--lease-seconds <s>', 'how long a claimed task stays ours without a heartbeat (10..600)').argParser(wholeNumber(10, 600)).default(60),
    )
    .addOption(new Option('--poll-seconds <s>', 'how often to look for work when the queue is empty (0.5..300)').argParser(secondsBetween(0.5, 300)).default(5))
    .addOption(
      new Option('--backend <backend>', 'TensorFlow.js backend: wasm (about 3x faster) or cpu (pure JavaScript)').choices(['wasm', 'cpu']).default('wasm'),
    )

  addWalletOptions(worker, 'the wallet the worker is paid at (its identity signs in with it)')
    .addHelpText(
      'after',
      `${SIGNALS_HELP('stop claiming; running tasks finish and are delivered, then exit 0.', 'give running tasks back (so others retry them at once) and exit 130.')}
Payout: with a wallet, the worker signs in with it (Sign-In with Ethereum) and is paid at its
address; it may lease tasks of chain-funded jobs while that address's bond covers them
(\`oblivion worker bond\`). The network pays and stakes only a wallet the worker proved to hold.
Without a wallet it trains local jobs only.
`,
    )
    .action(async function (this: Command) {
      const options = this.opts<WalletFlags & { name?: string; maxConcurrency: number; leaseSeconds: number; pollSeconds: number; backend: 'wasm' | 'cpu' }>()
      const { runWorkerCommand } = await import('./commands/worker.ts')
      onResult(await runWorkerCommand({ ...globals(this), ...options, name: options.name ?? defaultWorkerName() }))
    })

  // `worker bond 1 --dev-account 2`: the worker command reads every option it knows wherever it
  // stands (commander), so it passes those its subcommand also takes on to it, and refuses the rest.
  const passOptionsToSubcommand = (what: string) => (parent: Command, sub: Command) => {
    for (const option of parent.options) {
      const key = option.attributeName()
      if (parent.getOptionValueSource(key) !== 'cli') continue
      if (!sub.options.some((own) => own.attributeName() === key)) {
        throw usageError(`${option.long} is an option of \`oblivion ${parent.name()}\` (${what}), not of \`oblivion ${parent.name()} ${sub.name()}\``)
      }
      sub.setOptionValueWithSource(key, parent.getOptionValue(key), 'cli')
    }
  }
  worker.hook('preSubcommand', passOptionsToSubcommand('running a worker'))

  const wallet = (command: Command) => {
    const options = command.opts<WalletFlags>()
    return { ...globals(command), devAccount: options.devAccount, keystore: options.keystore }
  }

  moneyCommand(worker, 'bond', 'Add to your bond, the stake that lets your workers lease tasks of chain-funded jobs (the validator can slash it).')
    .argument('<amount>', 'coins to bond: 0.5, 12 (at most 18 decimals), or wei with a suffix: 1000wei', coinAmount)
    .action(async function (this: Command, amountWei: bigint) {
      const { runWorkerBondCommand } = await import('./commands/worker-money.ts')
      onResult(await runWorkerBondCommand({ ...wallet(this), amountWei }))
    })

  moneyCommand(worker, 'unbond', 'Ask for part of your bond back: it stays slashable for the unbonding delay, then `worker withdraw` pays it.')
    .argument('<amount>', 'coins to unbond: 0.5, 12, or 1000wei', coinAmount)
    .addHelpText('after', '\nA new request adds to the amount unbonding and restarts the delay for all of it.\n')
    .action(async function (this: Command, amountWei: bigint) {
      const { runWorkerUnbondCommand } = await import('./commands/worker-money.ts')
      onResult(await runWorkerUnbondCommand({ ...wallet(this), amountWei }))
    })

  moneyCommand(worker, 'withdraw', 'Withdraw the unbonding amount once the unbonding delay has passed (before that: exit 1, with the unlock time).').action(
    async function (this: Command) {
      const { runWorkerWithdrawCommand } = await import('./commands/worker-money.ts')
      onResult(await runWorkerWithdrawCommand(wallet(this)))
    },
  )

  moneyCommand(worker, 'claim', "Claim your payouts: every confirmed settlement that pays your wallet and whose challenge window has closed.")
    .addOption(new Option('--job <job-id>', 'only this job').argParser(jobId))
    .addOption(nameOption('the worker whose identity reads the settlements (the --name it ran with)'))
    .addHelpText('after', '\nPayouts still in their challenge window are listed with the time it closes; claimed ones are skipped.\n')
    .action(async function (this: Command) {
      const options = this.opts<{ job?: string; name?: string }>()
      const { runWorkerClaimCommand } = await import('./commands/worker-claim.ts')
      onResult(await runWorkerClaimCommand({ ...wallet(this), jobId: options.job, name: options.name ?? defaultWorkerName() }))
    })

  moneyCommand(worker, 'stake', "Show your wallet: balance, bond, unbonding amount and its unlock time, credits; with --name, the worker's payouts.")
    .addOption(nameOption('also list the payouts of this worker (the --name it ran with): claimable, waiting, claimed'))
    .action(async function (this: Command) {
      const options = this.opts<{ name?: string }>()
      const { runWorkerStakeCommand } = await import('./commands/worker-money.ts')
      onResult(await runWorkerStakeCommand({ ...wallet(this), name: options.name }))
    })

  program
    .command('coordinator')
    .description("Run the network's coordinator: fund jobs, open rounds, aggregate updates, publish models. Needs the service_role key.")
    .addOption(new Option('--poll-seconds <s>', 'how often to look for work besides realtime notifications (0.5..300)').argParser(secondsBetween(0.5, 300)).default(5))
    .addOption(new Option('--fund-without-escrow', 'start jobs without an on-chain escrow deposit (local networks and tests only; nobody is paid)'))
    .addOption(new Option('--no-chain', 'do not use the settlement contract even if one is configured'))
    .addOption(new Option('--keystore <file>', "the validator's encrypted JSON keystore on a real network (password in KEYSTORE_PASSWORD)"))
    .addHelpText(
      'after',
      `${SIGNALS_HELP('finish the step in progress, then exit 0.', 'exit at once (130).')}
The service_role key comes from SUPABASE_SERVICE_ROLE_KEY, else serviceRoleKey of <home>/gateway.json.

Chain: with OBLIVION_RPC_URL, the contract recorded in contracts/deployments/<chain id>.json (or
OBLIVION_SETTLEMENT_ADDRESS) and the validator key from OBLIVION_PRIVATE_KEY or --keystore; else
the local chain of <home>/chain.json (npm start) and its validator. The coordinator mirrors the
contract's events (escrows fund jobs, bonds allow leases), marks jobs started, settles each job
that ends in one transaction and slashes the bond behind a refused update.
`,
    )
    .action(async function (this: Command) {
      const options = this.opts<{ pollSeconds: number; fundWithoutEscrow?: boolean; chain: boolean; keystore?: string }>()
      if (this.optsWithGlobals().anonKey !== undefined && program.getOptionValueSource('anonKey') === 'cli') {
        throw usageError('the coordinator does not use --anon-key: it runs with the service_role key', 'drop --anon-key')
      }
      const { runCoordinatorCommand } = await import('./commands/coordinator.ts')
      onResult(
        await runCoordinatorCommand({
          ...globals(this),
          pollSeconds: options.pollSeconds,
          fundWithoutEscrow: options.fundWithoutEscrow === true,
          chain: options.chain,
          keystore: options.keystore,
        }),
      )
    })

  const job = program.command('job').description('Create training jobs, follow them, download their models.')

  const deadlineOption = () =>
    new Option('--deadline-hours <h>', "the escrow's deadline, in hours from now: after it an unsettled escrow can be refunded (`job refund`)")
      .argParser(hoursBetween(0.01, 87_600))
      .default(168, '168 = a week')

  const create = job
    .command('create')
    .description('Create a training job from a job spec (JSON, version 1) and fund its escrow on chain. The spec is checked here first: every problem is listed with its field path.')
    .argument('<spec.json>', 'the job spec file (fields: supabase/README.md, "Job spec v1")')
    .addOption(new Option('--reward-wei <wei>', 'reward for the workers, in wei (decimal digits)').argParser(weiAmount).default('1000000000000000000', '1000000000000000000 = 1 coin'))
    .addOption(
      new Option('--dataset <file.csv>', 'for a spec with dataset.source "csv": upload this file to the datasets bucket (<your user id>/<file name>) and point the spec at it'),
    )
    .addOption(new Option('--no-fund', 'create the job without funding its escrow, even when a chain is configured (fund it later with `job fund`)'))
    .addOption(deadlineOption())
  addWalletOptions(create, 'the wallet that funds the escrow')
    .addHelpText(
      'after',
      `
Prints the job id (a "job-created" JSON line with --json). With a chain configured (<home>/chain.json
or OBLIVION_RPC_URL) the reward is then escrowed on chain (createJob; a "job-funded" line with the
transaction): the wallet is checked before the job is created, and if the funding fails the job
stays "created" and \`oblivion job fund <job-id>\` retries it. Without a chain the job waits for a
coordinator run with --fund-without-escrow.
${CHAIN_HELP}`,
    )
    .action(async function (this: Command, specFile: string) {
      const options = this.opts<WalletFlags & { rewardWei: string; dataset?: string; fund: boolean; deadlineHours: number }>()
      const { runJobCreateCommand } = await import('./commands/job-create.ts')
      onResult(await runJobCreateCommand({ ...wallet(this), ...options, specFile }))
    })

  moneyCommand(job, 'fund', "Fund a created job's escrow on chain (what `job create` does unless --no-fund): retries a funding that failed.")
    .argument('<job-id>', 'the id `job create` printed', jobId)
    .addOption(deadlineOption())
    .action(async function (this: Command, id: string) {
      const options = this.opts<{ deadlineHours: number }>()
      const { runJobFundCommand } = await import('./commands/job-escrow.ts')
      onResult(await runJobFundCommand({ ...wallet(this), jobId: id, deadlineHours: options.deadlineHours }))
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

  moneyCommand(job, 'cancel', 'Cancel a job. Before work begins its escrow is refunded in full at once; a job without an escrow is just cancelled.')
    .argument('<job-id>', 'the id `job create` printed', jobId)
    .addHelpText(
      'after',
      '\nOnce work has begun the escrow cannot be cancelled (AlreadyStarted): it is refunded minus what workers earn at settlement, or after the deadline with `job refund`.\n',
    )
    .action(async function (this: Command, id: string) {
      const { runJobCancelCommand } = await import('./commands/job-escrow.ts')
      onResult(await runJobCancelCommand({ ...wallet(this), jobId: id }))
    })

  moneyCommand(job, 'refund', "Withdraw what the contract credits your wallet: expired escrows, settlements' remainders, slashed stakes.")
    .argument('[job-id]', 'first expire this job if its deadline has passed and its escrow is still funded', jobId)
    .action(async function (this: Command, id: string | undefined) {
      const { runJobRefundCommand } = await import('./commands/job-escrow.ts')
      onResult(await runJobRefundCommand({ ...wallet(this), jobId: id }))
    })

  const modelIdArgument = uuidOf('a model id', '`job status` and the job-completed line print it')

  const model = program.command('model').description('Your trained models on the verified-inference marketplace.')
  moneyCommand(model, 'list', "List a model of yours on the marketplace: build its zero-knowledge circuit here, have the network contribute to its trusted setup, list its verification key on chain at a price per inference.")
    .argument('<model-id>', 'the model of a completed job of yours (`job status` prints it)', modelIdArgument)
    .requiredOption('--price <amount>', 'price of one inference: coins (0.01) or wei with a suffix (1000wei)', coinAmount)
    .addOption(new Option('--setup-timeout-seconds <s>', "how long to wait for the network's contribution (10..3600)").argParser(secondsBetween(10, 3600)).default(600))
    .addHelpText(
      'after',
      `
The circuit (weights as constants), proving key and witness program are written to
<home>/zk-models/<model-id>/private/ and never leave this machine; public/ holds the manifest and
the verification key the market and buyers check proofs with. The network's coordinator adds a
secret contribution to the setup and seals it with a block hash, so the owner alone cannot forge
proofs; the final key is verified here against the circuit before anything is listed.
`,
    )
    .action(async function (this: Command, id: string) {
      const options = this.opts<{ price: bigint; setupTimeoutSeconds: number }>()
      const { runModelListCommand } = await import('./commands/model-list.ts')
      onResult(await runModelListCommand({ ...wallet(this), modelId: id, priceWei: options.price, setupTimeoutSeconds: options.setupTimeoutSeconds }))
    })

  moneyCommand(program, 'serve', 'Answer the paid inference requests of a listed model of yours: prove each answer and fulfil it on chain (runs until stopped).')
    .argument('<model-id>', 'a model you listed with `oblivion model list` from this machine', modelIdArgument)
    .addOption(new Option('--poll-seconds <s>', 'how often to look for requests besides realtime notifications (0.5..300)').argParser(secondsBetween(0.5, 300)).default(2))
    .addHelpText('after', SIGNALS_HELP('finish the request in progress, then exit 0.', 'exit at once (130).'))
    .action(async function (this: Command, id: string) {
      const options = this.opts<{ pollSeconds: number }>()
      const { runServeCommand } = await import('./commands/serve.ts')
      onResult(await runServeCommand({ ...wallet(this), modelId: id, pollSeconds: options.pollSeconds }))
    })

  const profileOption = () =>
    new Option('--profile <name>', 'the stored identity that makes and reads the request (credentials/<name>.json)').argParser(workerName).default('buyer')
  const infer = moneyCommand(program, 'infer', "Buy one verified inference of a listed model: pay on chain, hand the input to the owner, check the answer's proof off chain and on chain.")
    .argument('[model-id]', 'a listed model (the web app\'s marketplace lists them)', modelIdArgument)
    .addOption(new Option('--test-row <n>', "row n of the model's built-in data set as the input").argParser(wholeNumber(0, 10_000_000)).conflicts('input'))
    .addOption(new Option('--input <file.json>', 'a JSON array of raw features (pixels in [0, 1] for images)'))
    .addOption(profileOption())
    .addHelpText(
      'after',
      `
Exit codes: 0 the answer's proof verifies off chain and the chain recorded the same answer; 1 it
does not (CLI_PROOF_INVALID), the owner refused, or no answer came by the request's deadline
(then \`oblivion infer refund <request-id>\` returns the price).
`,
    )
    .action(async function (this: Command, id: string | undefined) {
      if (id === undefined) throw usageError('missing the model id', 'oblivion infer <model-id> --test-row 0')
      const options = this.opts<{ testRow?: number; input?: string; profile: string }>()
      const { runInferCommand } = await import('./commands/infer.ts')
      onResult(await runInferCommand({ ...wallet(this), modelId: id, testRow: options.testRow, input: options.input, profile: options.profile }))
    })
  infer.hook('preSubcommand', passOptionsToSubcommand('buying an inference'))
  moneyCommand(infer, 'refund', 'Get the price of an unanswered request back after its deadline (refund on chain, recorded for the marketplace).')
    .argument('<request-id>', 'the request id `oblivion infer` printed', uuidOf('a request id', '`oblivion infer` prints it'))
    .addOption(profileOption())
    .action(async function (this: Command, id: string) {
      const options = this.opts<{ profile: string }>()
      const { runInferRefundCommand } = await import('./commands/infer.ts')
      onResult(await runInferRefundCommand({ ...wallet(this), requestId: id, profile: options.profile }))
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
