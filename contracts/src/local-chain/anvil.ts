import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { ChainError } from '../chain-error.ts'
import { ANVIL_MNEMONIC, devAccounts, type DevAccount } from './dev-accounts.ts'

/** Shardeum testnet's chain id: the local chain answers with it so wallets and configs match. */
export const LOCAL_CHAIN_ID = 8119

export interface AnvilOptions {
  /** Port on 127.0.0.1 (the chain listens on loopback only). 0, the default, picks a free one. */
  port?: number
  /** Default 8119, Shardeum testnet's id. */
  chainId?: number
  /**
   * Default 'istanbul': Shardeum runs Istanbul rules, so no EIP-1559 fee market: legacy
   * (type 0) transactions priced by eth_gasPrice, as on the real network.
   */
  hardfork?: string
  /** Seconds between blocks. Default: none, each transaction is mined at once (automine). */
  blockTime?: number
  /**
   * The chain's state file: loaded at start when it exists, written when anvil stops cleanly
   * (stop(), SIGINT or SIGTERM), so a restarted chain carries on where it left off.
   */
  stateFile?: string
  /** Also write stateFile every N seconds, so a crash loses at most N seconds of chain. */
  stateInterval?: number
  /** Funded dev accounts (default 10, 10,000 ETH each). */
  accounts?: number
  /** The anvil executable. Default: ANVIL_BIN, else the binary of @foundry-rs/anvil-linux-amd64. */
  binary?: string
  /** How long to wait for the chain to answer (default 10 s; it usually takes ~0.1 s). */
  readyTimeoutMs?: number
}

export interface AnvilChain {
  /** JSON-RPC endpoint, http://127.0.0.1:<port>. */
  url: string
  port: number
  chainId: number
  /** The funded dev accounts (anvil's default mnemonic), with their well-known private keys. */
  accounts: DevAccount[]
  /** Milliseconds from spawning anvil to its first eth_chainId answer. */
  readyInMs: number
  /** Settles when anvil exits, for whatever reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Stops anvil with SIGINT (it writes stateFile first); SIGKILL after graceMs (default 10 s). */
  stop(graceMs?: number): Promise<void>
}

const ANVIL_PACKAGE = '@foundry-rs/anvil-linux-amd64'

/** Where the anvil executable is: ANVIL_BIN, else inside the npm package for Linux x64. */
export function anvilBinary(): string {
  if (process.env.ANVIL_BIN) return process.env.ANVIL_BIN
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new ChainError(
      'ANVIL_MISSING',
      `the bundled anvil is built for Linux x64, not ${process.platform}-${process.arch}: install Foundry (https://getfoundry.sh) and set ANVIL_BIN to its anvil, or pass --no-chain`,
    )
  }
  try {
    const manifest = createRequire(import.meta.url).resolve(`${ANVIL_PACKAGE}/package.json`)
    return path.join(path.dirname(manifest), 'bin', 'anvil')
  } catch (error) {
    throw new ChainError('ANVIL_MISSING', `anvil is not installed (${ANVIL_PACKAGE} is missing): reinstall with npm install`, { cause: error })
  }
}

/** The last lines anvil printed, for error messages. */
function keepTail(stream: Readable, lines: string[], onLine?: (line: string) => void) {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    lines.push(line)
    if (lines.length > 40) lines.shift()
    onLine?.(line)
  })
}

async function answersChainId(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    })
    const body = (await response.json()) as { result?: string }
    return body.result ? Number(body.result) : undefined
  } catch {
    return undefined
  }
}

function startFailure(output: string[], options: AnvilOptions, code: number | null): ChainError {
  const text = output.join('\n')
  if (/address already in use/i.test(text)) {
    return new ChainError(
      'ANVIL_PORT_IN_USE',
      `port ${options.port} on 127.0.0.1 is in use (another npm start, or an anvil left running?): stop it, or use port 0 for any free port`,
    )
  }
  if (options.stateFile && /--state|load-state|state file|parse json/i.test(text)) {
    return new ChainError(
      'ANVIL_BAD_STATE',
      `the saved chain state ${options.stateFile} could not be loaded (${text.split('\n').find((l) => l.trim()) ?? 'unreadable'}): delete it to start a fresh chain`,
    )
  }
  return new ChainError('ANVIL_START_FAILED', `anvil exited with code ${code} before it was ready:\n${text.trim() || '(no output)'}`)
}

/**
 * Starts anvil on 127.0.0.1 as a Shardeum-like local chain (chain id 8119, Istanbul rules) and
 * resolves once it answers eth_chainId (~0.1 s). Anvil is killed when this process exits; call
 * stop() for a clean shutdown that writes the state file.
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilChain> {
  const port = options.port ?? 0
  const chainId = options.chainId ?? LOCAL_CHAIN_ID
  const accountCount = options.accounts ?? 10
  const binary = options.binary ?? anvilBinary()
  const args = [
    '--host', '127.0.0.1',
    '--port', String(port),
    '--chain-id', String(chainId),
    '--hardfork', options.hardfork ?? 'istanbul',
    '--mnemonic', ANVIL_MNEMONIC,
    '--accounts', String(accountCount),
  ]
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime))
  if (options.stateFile) args.push('--state', options.stateFile)
  if (options.stateFile && options.stateInterval) args.push('--state-interval', String(options.stateInterval))

  const startedAt = performance.now()
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  // Deriving the accounts takes ~90 ms of CPU: done while anvil boots in its own process.
  const accounts = devAccounts(accountCount)
  const output: string[] = []
  let listeningPort: number | undefined
  let listening: (() => void) | undefined
  const heardListening = new Promise<void>((resolve) => (listening = resolve))
  // Anvil logs every request and block: the pipes are always drained so it never blocks on a
  // full pipe, and only the last lines are kept.
  keepTail(child.stdout, output, (line) => {
    const match = /Listening on [\d.]+:(\d+)/.exec(line)
    if (match && listeningPort === undefined) {
      listeningPort = Number(match[1])
      listening?.()
    }
  })
  keepTail(child.stderr, output)

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', () => resolve({ code: null, signal: null }))
  })
  let spawnError: NodeJS.ErrnoException | undefined
  child.once('error', (error) => (spawnError = error))
  // A plain exit of this process (normal end, process.exit, an uncaught error) takes anvil with
  // it; SIGTERM still lets anvil write its state file.
  const killOnExit = () => child.kill('SIGTERM')
  process.once('exit', killOnExit)
  void exited.then(() => process.removeListener('exit', killOnExit))

  const failed = exited.then(({ code }) => {
    if (spawnError) {
      throw new ChainError(
        'ANVIL_MISSING',
        `could not run anvil at ${binary} (${spawnError.code}): reinstall with npm install, or set ANVIL_BIN`,
        { cause: spawnError },
      )
    }
    // Let the readline interfaces deliver the last lines before classifying the failure.
    return new Promise<never>((_, reject) => setImmediate(() => reject(startFailure(output, { ...options, port }, code))))
  })
  const timeoutMs = options.readyTimeoutMs ?? 10_000
  const ready = (async () => {
    await heardListening
    const url = `http://127.0.0.1:${listeningPort}`
    for (;;) {
      const answered = await answersChainId(url)
      if (answered === chainId) return url
      if (answered !== undefined) throw new ChainError('ANVIL_START_FAILED', `anvil at ${url} answers chain id ${answered}, expected ${chainId}`)
      if (performance.now() - startedAt > timeoutMs) {
        throw new ChainError('ANVIL_START_FAILED', `anvil did not answer at ${url} within ${timeoutMs} ms:\n${output.join('\n')}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ChainError('ANVIL_START_FAILED', `anvil printed no address within ${timeoutMs} ms:\n${output.join('\n')}`)),
      timeoutMs,
    )
  })

  // Whichever loses the race below settles later with nobody listening.
  ready.catch(() => {})
  failed.catch(() => {})
  let url: string
  try {
    url = await Promise.race([ready, failed, timedOut])
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  } finally {
    clearTimeout(timer)
  }
  const readyInMs = performance.now() - startedAt

  // Once up, anvil does not keep this process alive by itself (the exit hook above stops it).
  child.unref()
  ;(child.stdout as Readable & { unref?: () => void }).unref?.()
  ;(child.stderr as Readable & { unref?: () => void }).unref?.()

  return {
    url,
    port: listeningPort!,
    chainId,
    accounts,
    readyInMs,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGINT')
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(kill)
    },
  }
}
