import type { Provider } from 'ethers'
import { readSettlementEvents, type SettlementEvent } from './settlement-events.ts'

/** Chain ids of local development chains, where blocks are final at once. */
const LOCAL_CHAIN_IDS: ReadonlySet<number> = new Set([31337])

/** Confirmations on a real network when none are configured. */
export const DEFAULT_REMOTE_CONFIRMATIONS = 3

export interface ChainWatcherErrorInfo {
  /** Consecutive failures so far, 1 for the first. */
  attempt: number
  /** How long the watcher waits before trying again. */
  retryInMs: number
}

export interface ChainWatcherOptions {
  provider: Provider
  contractAddress: string
  /**
   * The last block already delivered (e.g. stored with the mirrored events), or null when none was:
   * read once on start(). The watcher then reads from the block after it.
   */
  loadCursor: () => Promise<number | null> | number | null
  /** First block to read when loadCursor gives null (the contract's deployment block). Default 0. */
  fromBlock?: number
  /**
   * Called in chain order for each range read, also with no events (so the cursor can advance):
   * `lastBlock` is the last block the range covered. When it throws, the range is read again after
   * a backoff, so it must be idempotent (events are keyed by txHash + logIndex).
   */
  onEvents: (events: SettlementEvent[], lastBlock: number) => Promise<void> | void
  /** RPC failures and onEvents failures; the watcher keeps going. */
  onError?: (error: unknown, info: ChainWatcherErrorInfo) => void
  /**
   * Blocks to stay behind the head. Default: 0 on a local chain (chain id 31337, or `local: true`,
   * or an anvil node per web3_clientVersion), DEFAULT_REMOTE_CONFIRMATIONS elsewhere.
   */
  confirmations?: number
  /** Say the chain is local (an anvil on 8119 looks like Shardeum testnet by its id). */
  local?: boolean
  /** Wait between polls once caught up. Default 2 s. */
  pollIntervalMs?: number
  /** Most blocks one onEvents call covers (read in getLogs ranges of 2,000). Default 10,000. */
  maxBlocksPerPoll?: number
  /** Backoff on errors: initial delay (default 500 ms), doubling up to maxMs (default 30 s), ± jitter. */
  backoff?: { initialMs?: number; maxMs?: number }
}

/**
 * Polls the settlement contract's events and hands them over in order, exactly once per range as
 * long as the consumer stores `lastBlock` with them (the cursor). Never throws out of its loop:
 * errors go to onError and the same range is tried again with exponential backoff and jitter.
 */
export class ChainWatcher {
  private running: Promise<void> | null = null
  private stopped = false
  private wake: (() => void) | null = null
  private cursor = -1
  private confirmations: number | null

  constructor(private readonly options: ChainWatcherOptions) {
    this.confirmations = options.confirmations ?? null
  }

  /** The last block delivered to onEvents (or the loaded cursor); -1 before anything. */
  get lastBlock(): number {
    return this.cursor
  }

  start(): void {
    if (this.running) return
    this.stopped = false
    this.running = this.loop().finally(() => {
      this.running = null
    })
  }

  /** Stops polling; resolves once an onEvents call in progress has returned. */
  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.running
  }

  private async loop(): Promise<void> {
    let failures = 0
    let loaded = false
    while (!this.stopped) {
      let delay: number
      try {
        if (!loaded) {
          const stored = await this.options.loadCursor()
          this.cursor = stored ?? (this.options.fromBlock ?? 0) - 1
          loaded = true
        }
        const caughtUp = await this.pollOnce()
        failures = 0
        if (!caughtUp) continue
        delay = this.options.pollIntervalMs ?? 2_000
      } catch (error) {
        failures += 1
        delay = this.backoffDelay(failures)
        try {
          this.options.onError?.(error, { attempt: failures, retryInMs: delay })
        } catch {
          // a failing error reporter must not stop the watcher
        }
      }
      await this.sleep(delay)
    }
  }

  /** Reads and delivers one range; true when the watcher has reached the confirmed head. */
  private async pollOnce(): Promise<boolean> {
    const confirmations = await this.resolveConfirmations()
    const head = await this.options.provider.getBlockNumber()
    const safe = head - confirmations
    if (safe <= this.cursor) return true
    const from = this.cursor + 1
    const to = Math.min(safe, this.cursor + (this.options.maxBlocksPerPoll ?? 10_000))
    const events = await readSettlementEvents(this.options.provider, this.options.contractAddress, from, to)
    if (this.stopped) return true
    await this.options.onEvents(events, to)
    this.cursor = to
    return to >= safe
  }

  private async resolveConfirmations(): Promise<number> {
    if (this.confirmations !== null) return this.confirmations
    let local = this.options.local ?? false
    if (!local) {
      const { chainId } = await this.options.provider.getNetwork()
      local = LOCAL_CHAIN_IDS.has(Number(chainId)) || (await isAnvil(this.options.provider))
    }
    this.confirmations = local ? 0 : DEFAULT_REMOTE_CONFIRMATIONS
    return this.confirmations
  }

  private backoffDelay(failures: number): number {
    const initial = this.options.backoff?.initialMs ?? 500
    const max = this.options.backoff?.maxMs ?? 30_000
    const base = Math.min(max, initial * 2 ** Math.min(failures - 1, 30))
    return Math.round(base * (0.5 + Math.random() * 0.5))
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null
        resolve()
      }, ms)
      this.wake = () => {
        clearTimeout(timer)
        this.wake = null
        resolve()
      }
    })
  }
}

/**
 * Whether the node is anvil (web3_clientVersion "anvil/v…"). A JSON-RPC error answer (method not
 * supported) means no; a transport failure is thrown, so the watcher retries instead of guessing.
 */
async function isAnvil(provider: Provider): Promise<boolean> {
  const send = (provider as { send?: (method: string, params: unknown[]) => Promise<unknown> }).send
  if (typeof send !== 'function') return false
  try {
    const version = await send.call(provider, 'web3_clientVersion', [])
    return typeof version === 'string' && /anvil/i.test(version)
  } catch (error) {
    if (typeof (error as { error?: { code?: unknown } }).error?.code === 'number') return false
    throw error
  }
}
