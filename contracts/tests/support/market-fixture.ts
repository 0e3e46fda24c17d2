import { Interface, id, parseEther, type TransactionReceipt } from 'ethers'
import { expect } from 'vitest'
import {
  deployInferenceMarket,
  inferenceMarketAbi,
  parseInferenceMarketLogs,
  type InferenceMarket,
  type InferenceMarketEvent,
} from '../../bindings/InferenceMarket.ts'
import { verificationKeyBytes } from '../../src/groth16/encoding.ts'
import { mined, revertOf, type LegacyWallet, type TestChain } from './chain.ts'
import { type TinySetup } from './tiny-statement.ts'

export const REQUEST_TIMEOUT = 3_600n
export const PRICE = parseEther('0.25')

export const RequestStatus = { None: 0n, Open: 1n, Fulfilled: 2n, Refunded: 3n } as const

const marketErrors = Interface.from(inferenceMarketAbi)

export interface MarketDeployment {
  market: InferenceMarket
  address: string
  /** Lists models and proves: the only one paid for their requests. */
  owner: LegacyWallet
  /** Owner of a second model, with another setup. */
  otherOwner: LegacyWallet
  buyer: LegacyWallet
  otherBuyer: LegacyWallet
  stranger: LegacyWallet
  as(wallet: LegacyWallet): InferenceMarket
}

/** Deploys a fresh market per test and remembers it, so `expectAllAccounted` can check it after. */
export class MarketFixture {
  private deployed: InferenceMarket[] = []

  constructor(readonly chain: TestChain) {}

  async deploy(requestTimeout = REQUEST_TIMEOUT): Promise<MarketDeployment> {
    const [deployer, owner, otherOwner, buyer, otherBuyer, stranger] = this.chain.wallets as [
      LegacyWallet,
      LegacyWallet,
      LegacyWallet,
      LegacyWallet,
      LegacyWallet,
      LegacyWallet,
    ]
    const market = await deployInferenceMarket(deployer, requestTimeout)
    this.deployed.push(market)
    return { market, address: await market.getAddress(), owner, otherOwner, buyer, otherBuyer, stranger, as: (w) => market.connect(w) }
  }

  /** Lists `setup`'s key from `owner` (default d.owner) and returns the new model id. */
  async list(d: MarketDeployment, setup: TinySetup, { owner = d.owner, price = PRICE } = {}) {
    const receipt = await mined(d.as(owner).listModel(verificationKeyBytes(setup.vk), price, id('tiny statement model card')))
    return { modelId: await d.market.modelCount(), receipt }
  }

  /** Requests an inference on `inputCommitment` from `buyer` (default d.buyer), paying the price. */
  async request(d: MarketDeployment, modelId: bigint, inputCommitment: bigint, { buyer = d.buyer, value = PRICE } = {}) {
    const receipt = await mined(d.as(buyer).requestInference(modelId, inputCommitment, { value }))
    return { requestId: await d.market.requestCount(), receipt }
  }

  /** address(market).balance == accountedBalance() for every market the test deployed. */
  async expectAllAccounted(): Promise<void> {
    const deployed = this.deployed
    this.deployed = []
    for (const market of deployed) {
      const [balance, accounted] = await Promise.all([this.chain.provider.getBalance(await market.getAddress()), market.accountedBalance()])
      expect(balance).toBe(accounted)
    }
  }
}

/** Expects `call` to revert with the market's custom error `name` (and `args`, when given). */
export async function expectMarketRevert(call: Promise<unknown>, name: string, args?: unknown[]): Promise<void> {
  const revert = await revertOf(call, marketErrors)
  expect(revert.name).toBe(name)
  if (args) expect(revert.args).toEqual(args)
}

export function marketEventsOf(d: MarketDeployment, receipt: TransactionReceipt): Pick<InferenceMarketEvent, 'name' | 'args'>[] {
  return parseInferenceMarketLogs(receipt.logs, d.address).map(({ name, args }) => ({ name, args }) as Pick<InferenceMarketEvent, 'name' | 'args'>)
}
