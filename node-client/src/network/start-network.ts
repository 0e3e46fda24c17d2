import { spawn } from 'node:child_process'
import { START_SCRIPT } from '../../../sample_job/src/local-processes.ts'
import { LocalNetwork, type LocalNetworkOptions } from './local-network.ts'
import { HELP, parseLauncherOptions, UsageError, type LauncherOptions } from './network-options.ts'
import { createNetworkReporter } from './network-reporter.ts'
import { ServiceStartError } from './service-status.ts'

/**
 * `npm start`: the whole local network (see HELP). This file wires the launcher (LocalNetwork)
 * to the terminal: options, signals, exit codes; network-reporter.ts says what happens.
 */

/**
 * One Ctrl-C can arrive more than once: the terminal sends SIGINT to the whole foreground group
 * and npm forwards its own copy to us. Signals this close to the first are the same keypress.
 */
const SAME_KEYPRESS_MS = 1_000

async function main(): Promise<number> {
  let options: LauncherOptions
  try {
    options = parseLauncherOptions(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${error.message}\n\nSee npm start -- --help.`)
    return 2
  }
  if (options.mode === 'help') {
    console.log(HELP)
    return 0
  }
  if (options.mode === 'prepare-only') return prepareOnly(options)
  return runNetwork(options.network, options.json)
}

/** --prepare-only: start.ts applies the migrations and prints what it did; nothing else runs. */
function prepareOnly(options: Extract<LauncherOptions, { mode: 'prepare-only' }>): Promise<number> {
  const args = [
    '--import', 'tsx', START_SCRIPT, '--prepare-only', '--home', options.home,
    ...(options.databaseUrl ? ['--database-url', options.databaseUrl] : []),
    ...(options.reset ? ['--reset'] : []),
    ...(options.json ? ['--json'] : []),
  ]
  const child = spawn(process.execPath, args, { stdio: 'inherit' })
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)))
}

async function runNetwork(options: LocalNetworkOptions, json: boolean): Promise<number> {
  const report = createNetworkReporter({ json })
  let resolveDone!: (code: number) => void
  const done = new Promise<number>((resolve) => (resolveDone = resolve))
  let finished = false
  const finish = (code: number) => {
    if (finished) return // the clean stop, overtaken by a forced one, ends after it
    finished = true
    report.stopped(code)
    resolveDone(code)
  }
  let stopping: Promise<void> | null = null
  const network = new LocalNetwork(options, {
    onChange: (service) => report.change(service, stopping !== null),
    onMarketplace: (service, sample) => report.marketplaceReady(network, service, sample),
    onBackgroundFailure: (service, logTail) => report.backgroundFailed(network, service, logTail),
    onExit(service, logTail, fatal) {
      report.exited(service, logTail, fatal)
      // Without the database and the gateway nothing can drain or deliver: stop the rest at once.
      if (fatal && !stopping) stopping = network.forceStop().then(() => finish(1))
    },
  })
  // Whatever happens to us (an uncaught error, process.exit), no child outlives us.
  process.on('exit', () => network.killAll())

  let firstSignalAt = 0
  let forced = false
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now()
    if (firstSignalAt === 0) {
      firstSignalAt = now
      report.stopping(signal)
      stopping ??= network.stop().then(() => finish(0))
    } else if (now - firstSignalAt >= SAME_KEYPRESS_MS && !forced) {
      forced = true
      report.forcing()
      void network.forceStop().then(() => finish(130))
    } else if (forced) {
      finish(130) // a third: exit now (the 'exit' handler kills what is left)
    }
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal)

  report.starting(options)
  try {
    await network.start()
    report.ready(network)
  } catch (error) {
    if (stopping) return done // stopped while starting: the signal's exit code
    if (error instanceof ServiceStartError) report.failed(network, error)
    else report.failed(network, new ServiceStartError('launcher', (error as Error).message))
    return 1
  }
  return done
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`npm start failed: ${error.stack ?? error.message}`)
    process.exit(1)
  },
)
