import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ChainWatcher, type ChainWatcherOptions } from '../../src/chain/chain-watcher.ts'
import type { SettlementEvent } from '../../src/chain/settlement-events.ts'
import { deployTestSettlement, fundJob, startTestChain, type TestChain, type TestDeployment } from './chain-fixture.ts'

let chain: TestChain
beforeAll(async () => {
  chain = await startTestChain()
})
afterAll(async () => {
  await chain?.stop()
})

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A consumer as the database mirror is: stores events and the cursor, keyed by txHash + logIndex. */
function recorder(d: TestDeployment, cursor: number | null = null) {
  const state = {
    cursor,
    events: [] as SettlementEvent[],
    calls: [] as { count: number; lastBlock: number }[],
  }
  const options = (extra: Partial<ChainWatcherOptions> = {}): ChainWatcherOptions => ({
    provider: chain.provider,
    contractAddress: d.address,
    fromBlock: d.deployBlock,
    loadCursor: () => state.cursor,
    onEvents: (events, lastBlock) => {
      state.events.push(...events)
      state.calls.push({ count: events.length, lastBlock })
      state.cursor = lastBlock
    },
    pollIntervalMs: 25,
    ...extra,
  })
  return { state, options }
}

const keys = (events: SettlementEvent[]) => events.map((e) => `${e.txHash}:${e.logIndex}`)

describe('ChainWatcher', () => {
  it('delivers each event once across polls, in order, and resumes from the cursor', async () => {
    const d = await deployTestSettlement(chain)
    const { state, options } = recorder(d)
    const watcher = new ChainWatcher(options())
    watcher.start()
    try {
      await until(() => state.events.some((e) => e.name === 'ValidatorChanged'))
      const first = await fundJob(chain, d)
      await until(() => state.events.some((e) => e.jobId === first.uuid))
      const second = await fundJob(chain, d)
      await until(() => state.events.some((e) => e.jobId === second.uuid))
      await new Promise((resolve) => setTimeout(resolve, 150)) // a few more empty polls
    } finally {
      await watcher.stop()
    }
    expect(state.events.map((e) => e.name)).toEqual(['OwnershipTransferred', 'ValidatorChanged', 'JobFunded', 'JobFunded'])
    expect(new Set(keys(state.events)).size).toBe(state.events.length)
    // lastBlock only moves forward, and the ranges were contiguous.
    for (let i = 1; i < state.calls.length; i++) expect(state.calls[i]!.lastBlock).toBeGreaterThan(state.calls[i - 1]!.lastBlock)
    expect(watcher.lastBlock).toBe(await chain.provider.getBlockNumber())

    // Stopped: events happen meanwhile; a new watcher from the stored cursor delivers only those.
    const missed = await fundJob(chain, d)
    const resumed = recorder(d, state.cursor)
    const again = new ChainWatcher(resumed.options())
    again.start()
    try {
      await until(() => resumed.state.events.length > 0)
      await new Promise((resolve) => setTimeout(resolve, 100))
    } finally {
      await again.stop()
    }
    expect(resumed.state.events.map((e) => [e.name, e.jobId])).toEqual([['JobFunded', missed.uuid]])
  })

  it('uses 0 confirmations on anvil and holds back the configured number elsewhere', async () => {
    const d = await deployTestSettlement(chain)
    await chain.provider.send('anvil_mine', ['0x3'])
    await fundJob(chain, d)
    const head = await chain.provider.getBlockNumber()
    // Default on anvil (chain id 8119 here, recognized by web3_clientVersion): up to the head.
    const local = recorder(d)
    const atHead = new ChainWatcher(local.options())
    atHead.start()
    try {
      await until(() => local.state.cursor === head)
    } finally {
      await atHead.stop()
    }
    expect(local.state.events.at(-1)?.name).toBe('JobFunded')

    const { state, options } = recorder(d)
    const watcher = new ChainWatcher(options({ confirmations: 2 }))
    watcher.start()
    try {
      await until(() => state.cursor !== null)
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(state.cursor).toBe(head - 2)
      expect(state.events.some((e) => e.name === 'JobFunded')).toBe(false)
      await chain.provider.send('anvil_mine', ['0x2'])
      await until(() => state.events.some((e) => e.name === 'JobFunded'))
      expect(state.cursor).toBe(head + 2 - 2)
    } finally {
      await watcher.stop()
    }
  })

  it('backs off on RPC and consumer errors, reports them, and never skips or repeats a range', async () => {
    const d = await deployTestSettlement(chain)
    const job = await fundJob(chain, d)
    const getBlockNumber = vi.spyOn(chain.provider, 'getBlockNumber')
    getBlockNumber.mockRejectedValueOnce(new Error('ECONNRESET')).mockRejectedValueOnce(new Error('ECONNRESET'))
    const errors: { message: string; attempt: number; retryInMs: number }[] = []
    const { state, options } = recorder(d)
    let failConsumer = true
    const watcher = new ChainWatcher(
      options({
        backoff: { initialMs: 20, maxMs: 100 },
        onError: (error, info) => {
          errors.push({ message: (error as Error).message, ...info })
          throw new Error('a broken reporter must not stop the watcher')
        },
        onEvents: (events, lastBlock) => {
          if (failConsumer) {
            failConsumer = false
            throw new Error('database down')
          }
          state.events.push(...events)
          state.cursor = lastBlock
        },
      }),
    )
    watcher.start()
    try {
      await until(() => state.events.some((e) => e.jobId === job.uuid))
    } finally {
      await watcher.stop()
      getBlockNumber.mockRestore()
    }
    expect(errors.map((e) => [e.message, e.attempt])).toEqual([
      ['ECONNRESET', 1],
      ['ECONNRESET', 2],
      ['database down', 3],
    ])
    // Exponential with jitter: within [base/2, base] for base 20, 40, 80.
    for (const [i, e] of errors.entries()) {
      const base = 20 * 2 ** i
      expect(e.retryInMs).toBeGreaterThanOrEqual(base / 2)
      expect(e.retryInMs).toBeLessThanOrEqual(base)
    }
    expect(state.events.map((e) => e.name)).toEqual(['OwnershipTransferred', 'ValidatorChanged', 'JobFunded'])
  })

  it('stop() ends a watcher waiting out a long backoff at once', async () => {
    const d = await deployTestSettlement(chain)
    const getBlockNumber = vi.spyOn(chain.provider, 'getBlockNumber').mockRejectedValue(new Error('down'))
    const { options } = recorder(d)
    const errors: unknown[] = []
    const watcher = new ChainWatcher(options({ backoff: { initialMs: 60_000 }, onError: (e) => errors.push(e) }))
    watcher.start()
    try {
      await until(() => errors.length === 1)
      const started = Date.now()
      await watcher.stop()
      expect(Date.now() - started).toBeLessThan(1_000)
    } finally {
      getBlockNumber.mockRestore()
    }
  })
})
