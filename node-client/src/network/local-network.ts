import { mkdir, open, rename, stat } from 'node:fs/promises'
import path from 'node:path'
import { connectOblivionSettlement, readChainConfig, type ChainConfig } from '@oblivion/contracts'
import { PUBLIC_CONFIG_ENV, type PublicConfig } from '@oblivion/visualizer/config'
import { JsonRpcProvider, Network, parseEther } from 'ethers'
import { START_SCRIPT, startJsonProcess, startOblivion, type JsonLine, type NetworkProcess } from '../../../sample_job/src/local-processes.ts'
import { coins } from '../cli/render/format.ts'
import { claimablePort } from './ports.ts'
import { shownPath } from './status-table.ts'
import { ServiceStartError, type ServiceStatus } from './service-status.ts'
import { startVisualizer, type RunningVisualizer } from './visualizer-app.ts'
import { prepareSampleModel, SAMPLE_OWNER_ACCOUNT, SampleModelSkipped, type SampleModel } from './sample-model.ts'
import { buildWebApp, webAppAbsence, webBuildNeeded } from './web-app.ts'

export interface LocalNetworkOptions {
  /** The network's folder: database, keys, chain.json, credentials/ and logs/. */
  home: string
  /** The gateway's port (0: any free one). */
  port: number
  /** The local chain's port (0: any free one). */
  chainPort: number
  /** false: no chain; the coordinator funds jobs without escrow and nobody is paid. */
  chain: boolean
  /** A PostgreSQL server instead of the embedded database. */
  databaseUrl?: string | undefined
  /** Delete the embedded database, stored objects and the chain first. */
  reset: boolean
  /** CLI workers to run (cli-1 … cli-N); with a chain each is paid at dev account 4 + i. */
  workers: number
  /** The web app's port (0: any free one); null: do not run it. */
  webPort: number | null
  /** The visualizer's port (0: any free one); null: do not run it. */
  visualizerPort: number | null
  /** How often the coordinator and the workers poll besides realtime (default: the CLI's 5 s). */
  pollSeconds?: number
  /**
   * Keep the sample model listed and served on the marketplace (sample-model.ts), in the
   * background once everything else is ready (default false: `npm start` turns it on).
   */
  marketplace?: boolean
}

export interface NetworkEvents {
  /** A service changed state (starting, ready, skipped, …). */
  onChange?(service: ServiceStatus): void
  /**
   * A service stopped on its own after it was ready. `fatal`: it was the database, gateway and
   * chain process, without which nothing else works (the caller stops the rest).
   */
  onExit?(service: ServiceStatus, logTail: string, fatal: boolean): void
  /** The marketplace, prepared in the background after the rest was ready, is listed and served. */
  onMarketplace?(service: ServiceStatus, sample: SampleModel): void
  /** The marketplace could not be prepared (the rest keeps running): its row and the end of its log. */
  onBackgroundFailure?(service: ServiceStatus, logTail: string): void
}

/** Worker i is paid at dev account 4 + i (0 deploys, 1 is the validator, 2 and 3 are left for job creators). */
export const FIRST_WORKER_ACCOUNT = 4
/** chain.json holds anvil's first 10 dev accounts: workers get 4 … 9. */
export const MAX_CHAIN_WORKERS = 6
/** What each worker keeps bonded: enough to lease tasks worth up to 2 coins at once. */
export const WORKER_BOND_WEI = parseEther('1')
/** The name wallets show for the local chain. */
const LOCAL_CHAIN_NAME = 'Oblivion local (anvil)'

/** Variables that would point our children at another network or wallet than the one started here. */
const FOREIGN_SETTINGS = /^(OBLIVION_(URL|HOME|RPC_URL|SETTLEMENT_ADDRESS|PRIVATE_KEY)|SUPABASE_(ANON_KEY|SERVICE_ROLE_KEY)|KEYSTORE_PASSWORD)$/

/** A log larger than this at a launch is moved aside (<name>.log.1) and started anew. */
const LOG_ROTATE_BYTES = 20 * 2 ** 20

/** Lines each long-running child keeps in memory (its log file has them all). */
const KEEP_LINES = 500

/** How long each service may take to come up (a cold PGlite opens in 6–10 s on 2 cores). */
const TIMEOUTS = { core: 180_000, coordinator: 90_000, worker: 120_000, web: 90_000, serve: 120_000 }

/** Grace before SIGKILL on a clean stop: a worker drains (finishes and delivers its running tasks). */
const STOP_GRACE = { worker: 60_000, coordinator: 15_000, web: 10_000, core: 15_000, serve: 15_000 }

/** The status line `start.ts --json` prints once the database, the gateway and the chain are up. */
interface CoreStatus {
  url: string
  anonKey: string
  keysFile: string
  kind: 'pglite' | 'server'
  location: string
  serverVersion: string
  migrations: { applied: string[]; alreadyApplied: string[] }
  chain: { rpcUrl: string; chainId: number; settlement: string; deployment: 'deployed' | 'reused' } | null
}

interface ChildService {
  /** Its rows in the table (the database, gateway and chain process has three). */
  rows: ServiceStatus[]
  process: NetworkProcess
  /** Grace before SIGKILL on a clean stop. */
  grace: number
}

/**
 * The whole local network on this machine, started and stopped in order: the database, the
 * gateway and the chain (`supabase/src/cli/start.ts`, one child process), then the coordinator,
 * the CLI workers, the web app and the visualizer side by side (each needs only the first).
 * Every child runs in a process group of its own and writes to `<home>/logs/<name>.log`.
 */
export class LocalNetwork {
  readonly logDir: string
  /** In the status table's order. */
  readonly services: ServiceStatus[] = []
  gateway: { url: string; anonKey: string } | null = null
  chain: ChainConfig | null = null
  publicConfig: PublicConfig | null = null
  private readonly launchedAt = performance.now()
  private core: ChildService | null = null
  private coordinator: ChildService | null = null
  private readonly workers: ChildService[] = []
  private web: ChildService | null = null
  /** `oblivion serve` of the sample model, once it is listed. */
  private serve: ChildService | null = null
  /** The marketplace's preparation, started once the rest is ready (null: off, or not yet). */
  private marketplace: Promise<SampleModel> | null = null
  /** `next build` while it runs (stopped with the rest on Ctrl-C). */
  private webBuild: NetworkProcess | null = null
  /** One-shot `oblivion worker bond` processes while they run. */
  private readonly oneShots = new Set<NetworkProcess>()
  private visualizer: RunningVisualizer | null = null
  private provider: JsonRpcProvider | null = null
  private stopping = false

  constructor(
    readonly options: LocalNetworkOptions,
    private readonly events: NetworkEvents = {},
  ) {
    this.logDir = path.join(options.home, 'logs')
  }

  /** The coordinator's process (its JSON lines: job-started, round-aggregated, job-settled, …). */
  get coordinatorProcess(): NetworkProcess | null {
    return this.coordinator?.process ?? null
  }

  get workerProcesses(): NetworkProcess[] {
    return this.workers.map((w) => w.process)
  }

  /**
   * The sample model once it is listed and served (the marketplace row turns ready); rejects
   * with the row's reason when it is off, skipped, failed or stopped.
   */
  async marketplaceReady(): Promise<SampleModel> {
    if (this.marketplace) return this.marketplace
    const row = this.services.find((s) => s.name === 'marketplace')
    throw new Error(`the marketplace is not being prepared: ${row ? `${row.state}, ${row.notes}` : 'the network is not started'}`)
  }

  /** Milliseconds since this network was created. */
  elapsed(): number {
    return Math.round(performance.now() - this.launchedAt)
  }

  /**
   * Brings everything up; resolves when every service is ready or skipped. If one does not come
   * up, stops what did and throws a ServiceStartError naming it. stop() may be called meanwhile.
   */
  async start(): Promise<void> {
    try {
      await mkdir(this.logDir, { recursive: true })
      const { webPort, visualizerPort } = await this.settleAppPorts()
      const rows = this.addRows()
      await this.startCore(rows)
      this.publicConfig = this.describePublicConfig(webPort, visualizerPort)
      const starting = [
        this.startCoordinator(rows.coordinator),
        ...rows.workers.map((row, i) => this.startWorker(row, i)),
        this.startWeb(rows.web, webPort),
        this.startVisualizer(rows.visualizer, visualizerPort),
      ]
      // The first failure stops the rest at once (their promises then reject: nobody waits on them).
      for (const promise of starting) promise.catch(() => {})
      await Promise.all(starting)
      if (this.stopping) throw new Error('stopped while starting')
      // In the background: the network is ready without it (training and the setup take a minute).
      if (rows.marketplace.state === 'starting') {
        this.marketplace = this.startMarketplace(rows.marketplace)
        this.marketplace.catch(() => {}) // reported through the events; marketplaceReady() hands it on
      }
    } catch (error) {
      if (!this.stopping) await this.stop()
      throw error
    }
  }

  /**
   * Stops everything in order: the workers (they drain: running tasks finish and are delivered),
   * the coordinator (it finishes its step), the web app, the visualizer, then the database,
   * gateway and chain. Whatever outlives its grace period is killed with its process group.
   */
  async stop(): Promise<void> {
    this.stopping = true
    for (const proc of [this.webBuild, ...this.oneShots]) proc?.signal('SIGKILL')
    // Serve first: it finishes the proof in progress (a second) while the gateway and chain are there.
    if (this.serve) await this.stopChild(this.serve)
    await Promise.all(this.workers.map((w) => this.stopChild(w)))
    if (this.coordinator) await this.stopChild(this.coordinator)
    await Promise.all([this.web && this.stopChild(this.web), this.visualizer?.close().then(() => this.markStopped('visualizer'))])
    this.provider?.destroy()
    if (this.core) await this.stopChild(this.core)
    this.markNeverStarted()
  }

  /** Rows of services the stop came before (a failure elsewhere, or Ctrl-C while starting). */
  private markNeverStarted(): void {
    for (const row of this.services) {
      if (row.state !== 'starting') continue
      // The marketplace starts after the rest: still preparing when stopped.
      if (row.name === 'marketplace' && row.notes.startsWith('preparing')) this.update(row, { state: 'stopped', notes: `stopped while ${row.notes}` })
      else this.update(row, { state: 'skipped', notes: 'not started' })
    }
  }

  /**
   * A second Ctrl-C: kills the workers, the coordinator and the web app with their process
   * groups at once (leased tasks come back when their lease expires), closes the visualizer, and
   * gives the database process a few seconds to close its files before it is killed too.
   */
  async forceStop(): Promise<void> {
    this.stopping = true
    for (const child of [this.serve, ...this.workers, this.coordinator, this.web]) {
      if (!child) continue
      child.process.signal('SIGKILL')
      for (const row of child.rows) if (row.state === 'ready') this.update(row, { state: 'stopped', notes: `killed; ${row.notes}` })
    }
    // SIGKILL takes effect at once, but wait for it: nothing may outlive our exit.
    await Promise.all([this.serve, ...this.workers, this.coordinator, this.web].map((child) => child?.process.exited))
    for (const proc of [this.webBuild, ...this.oneShots]) proc?.signal('SIGKILL')
    await this.visualizer?.close().catch(() => {})
    this.provider?.destroy()
    if (this.core) await this.core.process.stop(3_000)
    this.markNeverStarted()
  }

  /** Synchronous last resort (process 'exit'): SIGKILL to every process group still there. */
  killAll(): void {
    for (const child of [this.serve, ...this.workers, this.coordinator, this.web, this.core]) child?.process.signal('SIGKILL')
    for (const proc of [this.webBuild, ...this.oneShots]) proc?.signal('SIGKILL')
  }

  private async stopChild(child: ChildService): Promise<void> {
    await child.process.stop(child.grace)
    for (const row of child.rows) if (row.state === 'ready' || row.state === 'starting') this.update(row, { state: 'stopped' })
  }

  private markStopped(name: string): void {
    const status = this.services.find((s) => s.name === name)
    if (status && status.state === 'ready') this.update(status, { state: 'stopped' })
  }

  // --- services ------------------------------------------------------------------------------

  /** The web app and the visualizer link to each other: both ports are known before either starts. */
  private async settleAppPorts(): Promise<{ webPort: number | null; visualizerPort: number | null }> {
    const settle = async (service: string, port: number | null, flag: string) => {
      if (port === null) return null
      const free = await claimablePort(port)
      if (free === null) {
        throw new ServiceStartError(service, `port ${port} on 127.0.0.1 is in use (another npm start?)`, null, '', `pass ${flag} N (0: any free port), or --no-${service}`)
      }
      return free
    }
    const webPort = await settle('web', this.options.webPort, '--web-port')
    const visualizerPort = await settle('visualizer', this.options.visualizerPort, '--visualizer-port')
    if (webPort !== null && webPort === visualizerPort) throw new ServiceStartError('visualizer', `the web app and the visualizer cannot share port ${webPort}`, null, '', 'give them different ports')
    return { webPort, visualizerPort }
  }

  /** The table's rows, in its order, before anything starts (services come up side by side). */
  private addRows() {
    const { options } = this
    const network = this.logFile('network')
    return {
      database: this.add({ name: 'database', log: network }),
      gateway: this.add({ name: 'gateway', log: network }),
      chain: options.chain
        ? this.add({ name: 'chain', log: network })
        : this.add({ name: 'chain', state: 'skipped', notes: 'off (--no-chain): jobs start without escrow, nobody is paid' }),
      coordinator: this.add({ name: 'coordinator', log: this.logFile('coordinator') }),
      workers: Array.from({ length: options.workers }, (_, i) => this.add({ name: `worker ${workerName(i)}`, log: this.logFile(workerName(i)) })),
      web: options.webPort === null ? this.add({ name: 'web', state: 'skipped', notes: 'off (--no-web)' }) : this.add({ name: 'web', log: this.logFile('web') }),
      visualizer:
        options.visualizerPort === null ? this.add({ name: 'visualizer', state: 'skipped', notes: 'off (--no-visualizer)' }) : this.add({ name: 'visualizer' }),
      marketplace: !options.marketplace
        ? this.add({ name: 'marketplace', state: 'skipped', notes: 'off (--no-marketplace)' })
        : !options.chain
          ? this.add({ name: 'marketplace', state: 'skipped', notes: 'off (--no-chain): inferences are paid and their proofs checked on the chain' })
          : this.add({ name: 'marketplace', log: this.logFile('marketplace'), notes: 'waits for the rest to be ready' }),
    }
  }

  private async startCore(rows: { database: ServiceStatus; gateway: ServiceStatus; chain: ServiceStatus }): Promise<void> {
    const { options } = this
    const { database, gateway, chain: chainRow } = rows
    const log = await this.markLaunch(database.log!)
    if (this.stopping) throw new ServiceStartError(gateway.name, 'stopped while starting')
    const args = [
      '--import', 'tsx', START_SCRIPT, '--json',
      '--home', options.home,
      '--port', String(options.port),
      '--chain-port', String(options.chainPort),
      ...(options.chain ? [] : ['--no-chain']),
      ...(options.databaseUrl ? ['--database-url', options.databaseUrl] : []),
      ...(options.reset ? ['--reset'] : []),
    ]
    const proc = startJsonProcess('network', process.execPath, args, this.childOptions(log))
    this.core = { rows: [database, gateway, chainRow], process: proc, grace: STOP_GRACE.core }
    for (const row of [database, gateway, chainRow]) if (row.state === 'starting') this.update(row, { pid: proc.child.pid ?? null })
    let line: JsonLine
    try {
      line = await proc.waitFor((l) => typeof l.url === 'string', TIMEOUTS.core)
    } catch (error) {
      throw await this.startFailure(gateway, 'the database, gateway and chain did not start', log, error, proc, undefined, [database, chainRow])
    }
    const status = line as unknown as CoreStatus
    this.gateway = { url: status.url, anonKey: status.anonKey }
    this.chain = status.chain ? await readChainConfig(options.home) : null
    const migrations = status.migrations.applied.length + status.migrations.alreadyApplied.length
    const readyMs = this.elapsed()
    this.update(database, {
      state: 'ready',
      readyMs,
      url: status.kind === 'server' ? status.location.replace(/\/\/[^@/]*@/, '//') : null,
      notes: `${status.kind === 'pglite' ? `PGlite (PostgreSQL ${status.serverVersion}) in ${shownPath(status.location)}` : `PostgreSQL ${status.serverVersion}`}; ${migrations} migrations, ${status.migrations.applied.length} new`,
    })
    this.update(gateway, { state: 'ready', readyMs, url: status.url, notes: 'Supabase API; anon key below' })
    if (this.chain && status.chain) {
      this.update(chainRow, {
        state: 'ready',
        readyMs,
        url: this.chain.rpcUrl,
        notes: `anvil, chain id ${this.chain.chainId}, settlement ${this.chain.settlement} (${status.chain.deployment === 'reused' ? 'reused' : 'deployed now'})`,
      })
    }
    void proc.exited.then((code) => this.exitedOnItsOwn([database, gateway, chainRow], proc, log, code, true))
  }

  private async startCoordinator(status: ServiceStatus): Promise<void> {
    const log = await this.markLaunch(status.log!)
    if (this.stopping) return // (each start checks this after its last wait: stop() must know every process it starts)
    const args = ['coordinator', ...(this.chain ? [] : ['--no-chain', '--fund-without-escrow']), ...this.pollArgs()]
    const proc = startOblivion('coordinator', args, this.at(), this.childOptions(log))
    this.coordinator = { rows: [status], process: proc, grace: STOP_GRACE.coordinator }
    this.update(status, { pid: proc.child.pid ?? null })
    try {
      // Its first notice comes once it runs: which chain it settles on, or that there is none.
      await proc.waitFor((line) => line.type === 'notice', TIMEOUTS.coordinator)
    } catch (error) {
      throw await this.startFailure(status, 'the coordinator did not start', log, error, proc)
    }
    this.update(status, {
      state: 'ready',
      readyMs: this.elapsed(),
      notes: this.chain ? `settles on chain ${this.chain.chainId} as validator ${shortAddress(this.chain.validator.address)}` : 'no chain: funds jobs without escrow',
    })
    void proc.exited.then((code) => this.exitedOnItsOwn([status], proc, log, code, false))
  }

  private async startWorker(status: ServiceStatus, index: number): Promise<void> {
    const name = workerName(index)
    const log = await this.markLaunch(status.log!)
    const account = FIRST_WORKER_ACCOUNT + index
    let bondNote = ''
    if (this.chain) bondNote = await this.ensureBond(status, account, log)
    if (this.stopping) return
    const args = ['worker', '--name', name, ...(this.chain ? ['--dev-account', String(account)] : []), ...this.pollArgs()]
    const proc = startOblivion(name, args, this.at(), this.childOptions(log))
    const child = { rows: [status], process: proc, grace: STOP_GRACE.worker }
    this.workers.push(child)
    this.update(status, { pid: proc.child.pid ?? null })
    let registered: JsonLine
    try {
      registered = await proc.waitFor((line) => line.type === 'registered', TIMEOUTS.worker)
    } catch (error) {
      throw await this.startFailure(status, `worker ${name} did not start`, log, error, proc)
    }
    this.update(status, {
      state: 'ready',
      readyMs: this.elapsed(),
      notes: this.chain ? `paid at ${shortAddress(String(registered.payoutAddress))} (dev account ${account}), ${bondNote}` : 'unpaid (no chain)',
    })
    void proc.exited.then((code) => this.exitedOnItsOwn([status], proc, log, code, false))
  }

  /**
   * Tops the wallet's bond up to WORKER_BOND_WEI with `oblivion worker bond` when it is below
   * (the first start, or after a slash); the bond stays on chain across restarts, so a restart
   * reads it and sends nothing.
   */
  private async ensureBond(status: ServiceStatus, account: number, log: string): Promise<string> {
    const chain = this.chain!
    const address = chain.accounts[account]?.address
    if (!address) throw new ServiceStartError(status.name, `${chain.rpcUrl}'s chain.json has no dev account ${account}`, log)
    this.provider ??= new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: Network.from(chain.chainId), cacheTimeout: -1 })
    const contract = connectOblivionSettlement(chain.settlement, this.provider)
    let bonded: bigint
    try {
      bonded = (await contract.bondOf(address)).bonded
    } catch (error) {
      throw new ServiceStartError(status.name, `could not read the bond of ${address}: ${(error as Error).message}`, log)
    }
    if (bonded >= WORKER_BOND_WEI) return `bond ${coins(bonded)}`
    if (this.stopping) return ''
    const topUp = WORKER_BOND_WEI - bonded
    const proc = startOblivion(`bond ${status.name}`, ['worker', 'bond', `${topUp}wei`, '--dev-account', String(account)], this.at(), this.childOptions(log))
    this.oneShots.add(proc)
    const code = await proc.exited
    this.oneShots.delete(proc)
    if (this.stopping) return ''
    if (code !== 0) throw await this.startFailure(status, `bonding ${coins(topUp)} from dev account ${account} failed (oblivion worker bond exited ${code})`, log)
    return `bond ${coins(WORKER_BOND_WEI)} (${coins(topUp)} bonded now)`
  }

  private async startWeb(status: ServiceStatus, port: number | null): Promise<void> {
    if (port === null) return
    const absent = await webAppAbsence()
    if (absent) {
      this.update(status, { state: 'skipped', notes: `not built: ${absent}`, log: null })
      return
    }
    const log = await this.markLaunch(status.log!)
    const build = await webBuildNeeded()
    if (this.stopping) return
    let builtNote = 'Next.js app, build up to date'
    if (build.needed) {
      const buildLog = await this.markLaunch(this.logFile('web-build'))
      if (this.stopping) return
      this.update(status, { notes: `next build (${build.reason}), about a minute; log ${shownPath(buildLog)}` })
      const started = performance.now()
      this.webBuild = buildWebApp(this.childOptions(buildLog))
      const code = await this.webBuild.exited
      this.webBuild = null
      if (this.stopping) return
      if (code !== 0) {
        throw await this.startFailure(status, `next build failed (exit ${code})`, buildLog, undefined, undefined, 'fix the build (npm run build -w web), or pass --no-web')
      }
      builtNote = `Next.js app, built now in ${((performance.now() - started) / 1000).toFixed(0)} s (${build.reason})`
    }
    const url = `http://127.0.0.1:${port}`
    const env = { ...networkChildEnv(), [PUBLIC_CONFIG_ENV]: JSON.stringify(this.publicConfig), NEXT_TELEMETRY_DISABLED: '1' }
    const proc = startJsonProcess('web', 'npm', ['run', 'start', '-w', 'web', '--', '-p', String(port), '-H', '127.0.0.1'], { ...this.childOptions(log), env })
    this.web = { rows: [status], process: proc, grace: STOP_GRACE.web }
    this.update(status, { pid: proc.child.pid ?? null, url })
    try {
      await untilAnswering(url, proc, TIMEOUTS.web)
    } catch (error) {
      throw await this.startFailure(status, `the web app did not answer at ${url}`, log, error, proc)
    }
    this.update(status, { state: 'ready', readyMs: this.elapsed(), notes: builtNote })
    void proc.exited.then((code) => this.exitedOnItsOwn([status], proc, log, code, false))
  }

  private async startVisualizer(status: ServiceStatus, port: number | null): Promise<void> {
    if (port === null) return
    let running: RunningVisualizer | string
    try {
      running = await startVisualizer({
        port,
        host: '127.0.0.1',
        config: this.publicConfig!,
        onBuild: () => this.update(status, { notes: 'vite build (its sources changed since the last build)' }),
      })
    } catch (error) {
      throw await this.startFailure(status, `the visualizer did not start: ${(error as Error).message}`, null)
    }
    if (typeof running === 'string') {
      this.update(status, { state: 'skipped', notes: `not built: ${running}` })
      return
    }
    if (this.stopping) {
      await running.close()
      return
    }
    this.visualizer = running
    this.update(status, { state: 'ready', readyMs: this.elapsed(), url: running.url, notes: `live topology${running.builtSeconds === null ? '' : `; built now in ${running.builtSeconds.toFixed(0)} s`}`, pid: process.pid })
  }

  /**
   * The marketplace row, after everything else is ready: prepares the sample model (sample-model.ts:
   * reuses an earlier start's listing, or trains and lists it through the CLI), then keeps
   * `oblivion serve` running for it. A failure is reported (onBackgroundFailure) and leaves the
   * rest running; the promise rejects with the row's reason.
   */
  private async startMarketplace(status: ServiceStatus): Promise<SampleModel> {
    this.update(status, { notes: 'preparing the sample model (looking for an earlier listing…)' })
    const log = await this.markLaunch(status.log!)
    try {
      const sample = await prepareSampleModel({
        home: this.options.home,
        url: this.gateway!.url,
        chain: this.chain!,
        workers: this.options.workers,
        cli: (args, timeoutMs) => this.runOneShot(args, log, timeoutMs),
        progress: (notes) => !this.stopping && this.update(status, { notes }),
      })
      if (this.stopping) throw new Error('stopped while preparing the sample model')
      this.update(status, { notes: 'preparing the sample model (starting oblivion serve…)' })
      const proc = startOblivion('marketplace', ['serve', sample.modelId, '--dev-account', String(SAMPLE_OWNER_ACCOUNT), ...this.pollArgs()], this.at(), this.childOptions(log))
      this.serve = { rows: [status], process: proc, grace: STOP_GRACE.serve }
      this.update(status, { pid: proc.child.pid ?? null })
      try {
        await proc.waitFor((line) => line.type === 'serving', TIMEOUTS.serve)
      } catch (error) {
        if (this.stopping) throw new Error('stopped while starting oblivion serve')
        throw new Error(`oblivion serve did not start${describeExit(proc, error)}`)
      }
      if (this.stopping) throw new Error('stopped while starting oblivion serve')
      const webUrl = this.publicConfig?.webUrl
      this.update(status, {
        state: 'ready',
        readyMs: this.elapsed(),
        url: webUrl ? `${webUrl}/marketplace/${sample.modelId}` : null,
        notes: `sample model #${sample.chainModelId} listed at ${coins(BigInt(sample.priceWei))}, serving${webUrl ? '' : ` (model ${sample.modelId})`}; ${sample.listedNow ? 'trained and listed now' : 'listed on an earlier start'}`,
      })
      this.events.onMarketplace?.(status, sample)
      void proc.exited.then((code) => this.exitedOnItsOwn([status], proc, log, code, false))
      return sample
    } catch (error) {
      if (this.stopping) throw error
      if (error instanceof SampleModelSkipped) {
        this.update(status, { state: 'skipped', notes: error.message })
        throw error
      }
      this.serve?.process.signal('SIGKILL')
      this.update(status, { state: 'failed', notes: `the sample model is not on the marketplace: ${(error as Error).message.split('\n')[0]}` })
      this.events.onBackgroundFailure?.(status, await readLogTail(log))
      throw new Error(status.notes)
    }
  }

  /** `oblivion <args>` to its end, its output in `log`; stopped (SIGKILL) with the rest on Ctrl-C. */
  private async runOneShot(args: string[], log: string, timeoutMs: number): Promise<JsonLine[]> {
    if (this.stopping) throw new Error('stopped')
    const proc = startOblivion(`oblivion ${args.slice(0, 2).join(' ')}`, args, this.at(), this.childOptions(log))
    this.oneShots.add(proc)
    const timer = setTimeout(() => void proc.stop(2_000), timeoutMs)
    const code = await proc.exited
    clearTimeout(timer)
    this.oneShots.delete(proc)
    if (this.stopping) throw new Error('stopped')
    if (code !== 0) throw new Error(`oblivion ${args.slice(0, 2).join(' ')} ${code === null ? `was stopped after ${timeoutMs / 1000} s` : `exited with code ${code}`}${describeExit(proc)}`)
    return proc.lines
  }

  // --- helpers ------------------------------------------------------------------------------

  private describePublicConfig(webPort: number | null, visualizerPort: number | null): PublicConfig {
    const chain = this.chain
    return {
      supabaseUrl: this.gateway!.url,
      anonKey: this.gateway!.anonKey,
      chain: chain && { chainId: chain.chainId, name: LOCAL_CHAIN_NAME, rpcUrl: chain.rpcUrl, settlement: chain.settlement, challengeWindow: chain.challengeWindow },
      webUrl: webPort === null ? null : `http://127.0.0.1:${webPort}`,
      visualizerUrl: visualizerPort === null ? null : `http://127.0.0.1:${visualizerPort}`,
    }
  }

  /** Where `oblivion` commands reach this network: its gateway and its home. */
  at(): { url: string; home: string } {
    if (!this.gateway) throw new Error('the network is not started')
    return { url: this.gateway.url, home: this.options.home }
  }

  private pollArgs(): string[] {
    return this.options.pollSeconds === undefined ? [] : ['--poll-seconds', String(this.options.pollSeconds)]
  }

  private childOptions(logFile: string) {
    return { env: networkChildEnv(), logFile, ownProcessGroup: true, keepLines: KEEP_LINES }
  }

  private logFile(name: string): string {
    return path.join(this.logDir, `${name}.log`)
  }

  /**
   * Appends a line marking this launch to a log (logs are kept across starts; one past
   * LOG_ROTATE_BYTES becomes <name>.log.1 first, replacing the previous one); returns the file.
   */
  private async markLaunch(file: string): Promise<string> {
    const size = await stat(file).then((s) => s.size, () => 0)
    if (size > LOG_ROTATE_BYTES) await rename(file, `${file}.1`)
    const handle = await open(file, 'a')
    await handle.write(`\n--- npm start, ${new Date().toISOString()} ---\n`)
    await handle.close()
    return file
  }

  private add(fields: Partial<ServiceStatus> & { name: string }): ServiceStatus {
    const status: ServiceStatus = { state: 'starting', url: null, notes: '', log: null, readyMs: null, pid: null, ...fields }
    this.services.push(status)
    this.events.onChange?.(status)
    return status
  }

  private update(status: ServiceStatus, fields: Partial<ServiceStatus>): void {
    Object.assign(status, fields)
    this.events.onChange?.(status)
  }

  /**
   * Marks a service failed (with `alsoFailed`, rows of the same process) and builds the error:
   * the reason, the process's last words on stderr when it printed any, the end of its log.
   */
  private async startFailure(
    status: ServiceStatus,
    message: string,
    log: string | null,
    cause?: unknown,
    proc?: NetworkProcess,
    hint?: string,
    alsoFailed: ServiceStatus[] = [],
  ): Promise<ServiceStartError> {
    if (this.stopping) return new ServiceStartError(status.name, 'stopped while starting')
    if (proc) {
      // Give its last words a moment to reach the log (it may still be exiting).
      await Promise.race([proc.exited, new Promise((resolve) => setTimeout(resolve, 500))])
    }
    const lastWords = lastError(proc?.stderr() ?? '')
    const timedOut = cause instanceof Error && /nothing expected was printed/.test(cause.message)
    const reason = lastWords ? `: ${lastWords}` : timedOut ? ': it did not get ready in time' : cause instanceof Error && !/before printing what was expected/.test(cause.message) ? `: ${cause.message.split('\n')[0]}` : ''
    for (const row of [status, ...alsoFailed]) if (row.state === 'starting') this.update(row, { state: 'failed', notes: row === status ? `${message}${reason}` : `see ${status.name}` })
    return new ServiceStartError(status.name, `${message}${reason}`, log, log ? await readLogTail(log) : '', hint)
  }

  private async exitedOnItsOwn(rows: ServiceStatus[], proc: NetworkProcess, log: string, code: number | null, fatal: boolean): Promise<void> {
    if (this.stopping) return
    for (const row of rows) if (row.state === 'ready') this.update(row, { state: 'exited', notes: `exited (${code === null ? `signal ${proc.child.signalCode}` : `code ${code}`}); ${row.notes}` })
    this.events.onExit?.(rows[rows.length - 1]!, await readLogTail(log), fatal)
  }
}

/** Our environment minus what would point a child at another network or wallet than this one. */
export function networkChildEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !FOREIGN_SETTINGS.test(key)))
}

export const workerName = (index: number) => `cli-${index + 1}`
const shortAddress = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`

/** The last line a process wrote to stderr, as a sentence (the CLI's JSON error lines: code and message). */
function lastError(stderr: string): string | undefined {
  const line = stderr.trim().split('\n').at(-1)?.trim()
  if (!line) return undefined
  try {
    const error = JSON.parse(line) as { code?: string; message?: string }
    if (error.message) return error.code ? `${error.code}: ${error.message}` : error.message
  } catch {
    // not JSON: the line itself
  }
  return line.replace(/^Could not start the local network: /, '')
}

/** `: <its last error line>` when the process printed one on stderr. */
function describeExit(proc: NetworkProcess, cause?: unknown): string {
  const words = lastError(proc.stderr())
  if (words) return `: ${words}`
  return cause instanceof Error ? `: ${cause.message.split('\n')[0]}` : ''
}

/** Polls GET `url` until it answers 200, the process exits, or the time is up. */
async function untilAnswering(url: string, proc: NetworkProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void proc.exited.then(() => (exited = true))
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (exited) throw new Error(`it exited (code ${await proc.exited})`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
      await response.arrayBuffer()
      if (response.ok) return
      last = `HTTP ${response.status}`
    } catch (error) {
      last = (error as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`no 200 within ${timeoutMs / 1000} s (last: ${last})`)
}

/** The last `lines` lines of a log file (its latest launch), for error messages. */
export async function readLogTail(file: string, lines = 20): Promise<string> {
  try {
    const handle = await open(file, 'r')
    try {
      const { size } = await handle.stat()
      const length = Math.min(size, 16 * 1024)
      const buffer = Buffer.alloc(length)
      await handle.read(buffer, 0, length, size - length)
      const text = buffer.toString('utf8')
      const launch = text.lastIndexOf('\n--- npm start, ')
      const latest = launch >= 0 ? text.slice(text.indexOf('\n', launch + 1) + 1) : text
      return latest.trimEnd().split('\n').slice(-lines).join('\n')
    } finally {
      await handle.close()
    }
  } catch {
    return ''
  }
}
