// `npm start`'s local chain deploys the inference market next to the settlement, records it in
// chain.json, and reuses both on a restart only when both are still there and unchanged.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { JsonRpcProvider, Network } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectInferenceMarket } from '../../bindings/InferenceMarket.ts'
import { readChainConfig, writeChainConfig } from '../../src/local-chain/chain-config.ts'
import { startLocalChain } from '../../src/local-chain/local-chain.ts'

let home: string

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'oblivion-local-market-'))
})
afterAll(async () => rm(home, { recursive: true, force: true }))

describe('startLocalChain and the market', () => {
  it('deploys InferenceMarket (request timeout 120 s), records it, and reuses it on a restart', async () => {
    const first = await startLocalChain({ home, port: 0 })
    let marketAddress: string
    try {
      expect(first.deployment).toBe('deployed')
      const market = first.config.market!
      expect(market).toMatchObject({ requestTimeout: 120, artifactSourceHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) })
      expect(market.block).toBeGreaterThan(first.config.settlementBlock)
      const provider = new JsonRpcProvider(first.config.rpcUrl, undefined, { staticNetwork: Network.from(8119), cacheTimeout: -1 })
      try {
        expect(await connectInferenceMarket(market.address, provider).requestTimeout()).toBe(120n)
      } finally {
        provider.destroy()
      }
      expect((await readChainConfig(home))!.market).toEqual(market)
      marketAddress = market.address
    } finally {
      await first.stop()
    }

    const second = await startLocalChain({ home, port: 0 })
    try {
      expect(second.deployment).toBe('reused')
      expect(second.config.market!.address).toBe(marketAddress)
    } finally {
      await second.stop()
    }
  })

  it('redeploys both contracts when chain.json predates the market', async () => {
    const previous = (await readChainConfig(home))!
    const { market: _dropped, ...withoutMarket } = previous
    await writeChainConfig(home, withoutMarket)
    const chain = await startLocalChain({ home, port: 0 })
    try {
      expect(chain.deployment).toBe('deployed')
      expect(chain.deployReason).toBe('no InferenceMarket recorded yet')
      expect(chain.config.market).toBeDefined()
    } finally {
      await chain.stop()
    }
  })
})
