import { access, mkdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import path from 'node:path'
import { startLocalChain, type LocalChain } from '@oblivion/contracts'
import { applyPlatformBootstrap, generateKeys, migrate, openPglite, startGateway, type Database, type GatewayKeys, type GatewayLimits } from '@oblivion/supabase'
import type { PublicConfig } from '@oblivion/visualizer/config'
import { startJsonProcess, type NetworkProcess } from '../../../sample_job/src/local-processes.ts'
import { CliNetwork } from '../../../node-client/tests/support/cli-network.ts'
import { cliEnv, REPO_ROOT, tempDir, writeJson } from '../../../node-client/tests/support/run-cli.ts'

const WEB_ROOT = path.join(REPO_ROOT, 'web')
const require = createRequire(import.meta.url)

/** What the stack needs of a gateway: supabase/tests' startTestGateway('pglite') is one. */
export interface StackGateway {
  readonly url: string
  readonly keys: GatewayKeys
  /** The database behind it, past RLS: for assertions. */
  readonly db: Database
  close(): Promise<void>
}

/**
 * A gateway on a fresh in-memory PGlite database, migrated here (6–10 s): what a script outside
 * vitest uses. Tests pass `startTestGateway('pglite')` instead, which reloads a migrated template.
 */
export async function startFreshGateway(storageDir: string, limits: Partial<GatewayLimits> = {}): Promise<StackGateway> {
  const db = await openPglite()
  await applyPlatformBootstrap(db)
  await migrate(db)
  const keys = generateKeys()
  await mkdir(storageDir, { recursive: true })
  const gateway = await startGateway({ db, keys, storageDir, port: 0, limits })
  return {
    url: gateway.url,
    keys,
    db,
    async close() {
      await gateway.close()
      await db.close()
    },
  }
}

/**
 * The whole network for browser tests and benches, on one machine: the gateway on a fresh PGlite
 * database (in this process), optionally anvil with the settlement contract (<home>/chain.json,
 * as `npm start` writes it), `oblivion` processes (coordinator, CLI workers) and the built web
 * app under `next start` with OBLIVION_PUBLIC_CONFIG pointing at all of it.
 */
export class WebStack extends CliNetwork {
  private constructor(
    readonly gateway: StackGateway,
    home: string,
    private readonly removeHome: () => Promise<void>,
    readonly chain: LocalChain | null,
    readonly config: PublicConfig,
    readonly web: NetworkProcess,
  ) {
    // Its CLI workers train one task at a time, leaving shards for the browser worker.
    super(gateway.url, home, chain !== null, 1)
    this.processes.push(web)
  }

  /**
   * `chain: true` adds anvil with a 5 s unbonding delay and a `challengeWindow` (default 5 s;
   * tests move anvil's clock past them). `gateway`: how to start the gateway (default startFreshGateway; tests pass
   * startTestGateway('pglite')). `webDir`: the built app (default $WEB_BUILD_DIR, else web/;
   * a copy of it keeps a run safe from a rebuild meanwhile). Needs the web app built (`npm run build -w web`).
   */
  static async start(
    options: { chain?: boolean; challengeWindow?: number; gateway?: (storageDir: string) => Promise<StackGateway>; webDir?: string } = {},
  ): Promise<WebStack> {
    const webDir = await builtWebDir(options.webDir)
    const { dir, remove } = await tempDir('oblivion-web-')
    const gateway = await (options.gateway ?? startFreshGateway)(path.join(dir, 'storage'))
    await writeJson(path.join(dir, 'gateway.json'), gateway.keys)
    const challengeWindow = options.challengeWindow ?? 5
    const chain = options.chain ? await startLocalChain({ home: dir, port: 0, challengeWindow, unbondingDelay: 5 }) : null
    const port = await freePort()
    const webUrl = `http://127.0.0.1:${port}`
    const config: PublicConfig = {
      supabaseUrl: gateway.url,
      anonKey: gateway.keys.anonKey,
      chain: chain && {
        chainId: chain.config.chainId,
        name: 'Oblivion local (anvil)',
        rpcUrl: chain.config.rpcUrl,
        settlement: chain.config.settlement,
        challengeWindow,
        market: chain.config.market?.address ?? null,
      },
      webUrl,
      visualizerUrl: null,
    }
    const web = startNext(webDir, port, config)
    const stack = new WebStack(gateway, dir, remove, chain, config, web)
    try {
      await waitForHttp(webUrl, web, 60_000)
    } catch (error) {
      await stack.close()
      throw error
    }
    return stack
  }

  get webUrl(): string {
    return this.config.webUrl!
  }

  /** Reads a sample job spec (sample_job/jobs/<file>) and applies `edit`. */
  async sampleSpec(file: string, edit: (spec: Record<string, any>) => void = () => {}): Promise<Record<string, any>> {
    const spec = JSON.parse(await readFile(path.join(REPO_ROOT, 'sample_job/jobs', file), 'utf8')) as Record<string, any>
    edit(spec)
    return spec
  }

  /** The job's row, read past RLS. */
  async job(jobId: string): Promise<{ id: string; status: string; status_reason: string | null; current_round: number }> {
    const { rows } = await this.gateway.db.query<{ id: string; status: string; status_reason: string | null; current_round: number }>(
      'select id, status, status_reason, current_round from public.jobs where id = $1',
      [jobId],
    )
    return rows[0]!
  }

  /** The last lines of every process, for a failure message. */
  logs(): string {
    return this.processes.map((p) => `--- ${p.name}\n${p.lines.slice(-6).map((l) => JSON.stringify(l)).join('\n')}\n${p.stderr().slice(-1500)}`).join('\n')
  }

  async close(): Promise<void> {
    for (const proc of this.processes) proc.child.kill('SIGKILL')
    await Promise.all(this.processes.map((p) => p.exited))
    await this.gateway.close()
    await this.chain?.stop()
    await this.removeHome()
  }
}

/** The built web app's folder ($WEB_BUILD_DIR, else web/); throws when it has no build. */
async function builtWebDir(webDir?: string): Promise<string> {
  const dir = webDir ?? process.env.WEB_BUILD_DIR ?? WEB_ROOT
  try {
    await access(path.join(dir, '.next', 'BUILD_ID'))
  } catch {
    throw new Error(`${dir} is not built: run \`npm run build -w web\` first`)
  }
  return dir
}

function startNext(webDir: string, port: number, config: PublicConfig): NetworkProcess {
  return startJsonProcess('next', process.execPath, [require.resolve('next/dist/bin/next'), 'start', webDir, '-p', String(port), '-H', '127.0.0.1'], {
    env: { ...cliEnv(), OBLIVION_PUBLIC_CONFIG: JSON.stringify(config), NEXT_TELEMETRY_DISABLED: '1' },
    captureStderr: true,
  })
}

/**
 * The built web app alone under `next start`, for a network started elsewhere (e.g. node-client's
 * MarketplaceNetwork): `config` without webUrl; resolves once it serves. Kill `process` to stop it.
 */
export async function startWebApp(config: Omit<PublicConfig, 'webUrl'>, options: { webDir?: string } = {}): Promise<{ url: string; config: PublicConfig; process: NetworkProcess }> {
  const webDir = await builtWebDir(options.webDir)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const full: PublicConfig = { ...config, webUrl: url }
  const web = startNext(webDir, port, full)
  try {
    await waitForHttp(url, web, 60_000)
  } catch (error) {
    web.child.kill('SIGKILL')
    throw error
  }
  return { url, config: full, process: web }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function waitForHttp(url: string, proc: NetworkProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void proc.exited.then(() => (exited = true))
  for (;;) {
    try {
      const response = await fetch(url)
      if (response.ok) return
    } catch {
      // not listening yet
    }
    if (exited) throw new Error(`next start exited before serving ${url}\n${proc.stderr().slice(-2000)}`)
    if (Date.now() > deadline) throw new Error(`next start did not serve ${url} within ${timeoutMs} ms\n${proc.stderr().slice(-2000)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** Polls `probe` until it returns something truthy. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, logs: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${logs()}`)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}
