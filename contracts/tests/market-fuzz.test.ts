/**
 * Invariant fuzz of InferenceMarket on anvil with real Groth16 proofs: a seeded random sequence of
 * listings, price and activity changes, requests (right and wrong values, fresh and reused
 * commitments), fulfilments (valid, tampered, foreign and replayed proofs, wrong callers, late) and
 * refunds (early, late, twice, by others), anchors and time jumps, each checked against a model of
 * the contract written from its interface (tests/support/market-fuzz-model.ts). After every operation:
 *   - it succeeded or reverted as the model predicted, with the custom error the model named;
 *   - the market's balance == accountedBalance() == the prices of the model's Open requests;
 *   - every account's balance moved by exactly what the market owed it, minus its gas
 *     (gasUsed × gasPrice from the receipt) and what it paid in;
 *   - the touched request and model read back as the model has them.
 *
 * Proofs are made up front (a pool of inputs proved under each of two setups, ~0.2 s each).
 * FUZZ_SEED=<n> replays a run; MARKET_FUZZ_OPS=<n> changes its length (default 800);
 * MARKET_FUZZ_TRACE=1 prints each operation before it is sent. Removing the line that records a
 * request's commitment (so commitments could be reused) fails it at operation #115 of seed 7.
 */
import { Interface, JsonRpcProvider, Network, type TransactionReceipt } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inferenceMarketAbi, type InferenceMarket } from '../bindings/InferenceMarket.ts'
import { verificationKeyBytes } from '../src/groth16/encoding.ts'
import { startTestChain, type LegacyWallet, type TestChain } from './support/chain.ts'
import { FuzzRandom, fuzzSeed } from './support/fuzz-random.ts'
import { MarketModel, type MarketOp, type PoolProof } from './support/market-fuzz-model.ts'
import { MarketPlanner, wordsFor } from './support/market-fuzz-planner.ts'
import { deployInferenceMarket } from '../bindings/InferenceMarket.ts'
import { loadTinyStatement, releaseSnarkjs, type TinyStatement } from './support/tiny-statement.ts'

const SEED = fuzzSeed(process.env.FUZZ_SEED)
const OPERATIONS = operationCount(process.env.MARKET_FUZZ_OPS)
const REQUEST_TIMEOUT = 300n
/** Inputs proved per setup before the run. */
const POOL_PER_SETUP = 32
/** Above every operation here (fulfil ~272k); a fulfil whose precompile fails burns most of it. */
const GAS_LIMIT = 600_000n

const errors = Interface.from(inferenceMarketAbi)

describe(`InferenceMarket under ${OPERATIONS} random operations (seed ${SEED})`, () => {
  let chain: TestChain
  let statement: TinyStatement
  let market: InferenceMarket
  let marketAddress: string
  /** Like chain.provider, without ethers' 10 ms batch stall (each operation makes ~10 round trips). */
  let provider: JsonRpcProvider
  const pool: PoolProof[] = []

  beforeAll(async () => {
    chain = await startTestChain()
    statement = await loadTinyStatement()
    const random = new FuzzRandom(SEED ^ 0x5eed)
    const started = performance.now()
    for (const setup of [0, 1] as const) {
      for (let i = 0; i < POOL_PER_SETUP; i++) {
        const proved = await statement.prove(statement.setups[setup], random.bigint(0n, 1n << 60n), random.bigint(0n, 1n << 200n))
        pool.push({ setup, inputCommitment: proved.inputCommitment, output: proved.output, words: proved.words })
      }
    }
    console.log(`market fuzz: ${pool.length} proofs made in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    provider = new JsonRpcProvider(chain.anvil.url, undefined, { staticNetwork: Network.from(8119), cacheTimeout: -1, batchStallTime: 0 })
    market = (await deployInferenceMarket(chain.wallets[0]!, REQUEST_TIMEOUT)).connect(provider) as InferenceMarket
    marketAddress = await market.getAddress()
  }, 180_000)

  afterAll(async () => {
    provider?.destroy()
    await chain?.stop()
    await releaseSnarkjs()
  })

  it('holds exactly the open requests’ prices and pays every account only what it is owed, after every operation', async () => {
    console.log(`market fuzz: seed ${SEED}, ${OPERATIONS} operations (replay with FUZZ_SEED=${SEED})`)
    const startedAt = performance.now()
    const wallets = new Map(chain.wallets.slice(1, 8).map((w) => [w.address, w.connect(provider) as LegacyWallet] as [string, LegacyWallet]))
    const addresses = [...wallets.keys()]
    const actors = { owners: addresses.slice(0, 2), buyers: addresses.slice(2, 5), stranger: addresses[5]!, everyone: addresses }
    const model = new MarketModel(REQUEST_TIMEOUT)
    const random = new FuzzRandom(SEED)
    const planner = new MarketPlanner(random, model, actors, pool)
    const outcomes = new Map<string, number>()
    const recent: string[] = []
    let now = await chain.now()
    const gasPrice = await provider.send('eth_gasPrice', []).then(BigInt)
    const nonces = new Map(await Promise.all(addresses.map(async (a) => [a, await provider.getTransactionCount(a)] as [string, number])))
    let balances = await balancesOf(addresses)

    for (let index = 0; index < OPERATIONS; index++) {
      const { op, advance, intent } = planner.next(now)
      now += advance
      const prediction = model.predict(op, now)
      await provider.send('evm_setNextBlockTimestamp', [Number(now)])
      if (process.env.MARKET_FUZZ_TRACE) console.log(`#${index} t=${now} ${intent}`)
      const nonce = nonces.get(op.from)!
      nonces.set(op.from, nonce + 1)
      const { receipt, revert } = await send(wallets.get(op.from)!, op, random, { gasPrice, nonce })
      const ok = receipt.status === 1
      if (ok && prediction.error === undefined) prediction.apply()
      const outcome = ok ? `${op.kind} ok` : `${op.kind} ${revert}`
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
      recent.push(`#${index} t=${now} ${intent}: ${outcome}`)
      if (recent.length > 12) recent.shift()

      const context = `operation #${index} ${intent} (replay: FUZZ_SEED=${SEED})\n${recent.join('\n')}`
      expect(ok ? 'success' : revert, context).toBe(prediction.error ?? 'success')

      const [after, contractBalance, accounted] = await Promise.all([
        balancesOf(addresses),
        provider.getBalance(marketAddress),
        market.accountedBalance(),
      ])
      expect([contractBalance, accounted], context).toEqual([model.escrow(), model.escrow()])
      const fee = receipt.gasUsed * receipt.gasPrice
      const paidIn = ok && op.kind === 'request' ? op.value : 0n
      for (const address of addresses) {
        const expected = (ok ? (prediction.payouts.get(address) ?? 0n) : 0n) - (address === op.from ? fee + paidIn : 0n)
        expect(after.get(address)! - balances.get(address)!, `${context}\nbalance of ${address}`).toBe(expected)
      }
      balances = after
      await expectReadBack(model, op, context)
    }

    const seconds = (performance.now() - startedAt) / 1000
    const report = [...outcomes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `  ${k}: ${v}`).join('\n')
    console.log(`market fuzz: ${OPERATIONS} operations in ${seconds.toFixed(1)} s, seed ${SEED}\n${report}`)
    const count = (outcome: string) => outcomes.get(outcome) ?? 0
    // Both sides get exercised: money moves both ways, and proofs are refused.
    expect(count('fulfil ok')).toBeGreaterThan(5)
    expect(count('refund ok')).toBeGreaterThan(2)
    expect(count('fulfil InvalidProof')).toBeGreaterThan(5)
    expect(count('request ok')).toBeGreaterThan(20)
  }, 600_000)

  async function balancesOf(addresses: string[]): Promise<Map<string, bigint>> {
    const values = await Promise.all(addresses.map((a) => provider.getBalance(a)))
    return new Map(addresses.map((a, i) => [a, values[i]!]))
  }

  /** Signs locally with explicit nonce, gas price and limit: no estimate, and reverting transactions are mined. */
  async function send(
    wallet: LegacyWallet,
    op: MarketOp,
    random: FuzzRandom,
    fixed: { gasPrice: bigint; nonce: number },
  ): Promise<{ receipt: TransactionReceipt; revert: string | undefined }> {
    const as = market.connect(wallet) as InferenceMarket
    const overrides = { ...fixed, gasLimit: GAS_LIMIT }
    const key = (setup: 0 | 1, wellFormed: boolean) => {
      const bytes = verificationKeyBytes(statement.setups[setup].vk)
      return wellFormed ? bytes : bytes.slice(0, -64)
    }
    const tx = await (() => {
      switch (op.kind) {
        case 'listModel':
          return as.listModel(key(op.setup, op.wellFormedKey), op.price, `0x${'ab'.repeat(32)}`, { ...fixed, gasLimit: 1_000_000n })
        case 'setPrice':
          return as.setPrice(op.modelId, op.price, overrides)
        case 'setActive':
          return as.setActive(op.modelId, op.active, overrides)
        case 'request':
          return as.requestInference(op.modelId, op.inputCommitment, { ...overrides, value: op.value })
        case 'fulfil':
          return as.fulfil(op.requestId, op.output, wordsFor(op, random), overrides)
        case 'refund':
          return as.refund(op.requestId, overrides)
        case 'anchor':
          return as.anchorProofs(op.modelId, op.root, op.count, overrides)
      }
    })()
    const receipt = await receiptOf(tx.hash)
    if (receipt.status === 1) return { receipt, revert: undefined }
    const trace = (await provider.send('debug_traceTransaction', [tx.hash, {}])) as { returnValue?: string }
    const data = trace.returnValue ? (trace.returnValue.startsWith('0x') ? trace.returnValue : `0x${trace.returnValue}`) : '0x'
    return { receipt, revert: errors.parseError(data)?.name ?? `unknown revert ${data}` }
  }

  /**
   * Anvil automines, but may answer eth_sendRawTransaction just before the block is stored; poll
   * every 2 ms (ethers' waitForTransaction falls back to 4 s block polling).
   */
  async function receiptOf(hash: string): Promise<TransactionReceipt> {
    for (let attempt = 0; attempt < 5000; attempt++) {
      const receipt = await provider.getTransactionReceipt(hash)
      if (receipt) return receipt
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    throw new Error(`transaction ${hash} was not mined within ~10 s: is anvil automining?`)
  }

  async function expectReadBack(model: MarketModel, op: MarketOp, context: string): Promise<void> {
    if (op.kind === 'fulfil' || op.kind === 'refund') {
      const expected = model.requests.get(op.requestId)
      const onChain = (await market.getRequest(op.requestId)).toObject()
      if (expected) {
        expect(onChain, context).toEqual(expected)
      } else {
        expect(onChain.status, context).toBe(0n)
      }
    }
    const modelId = 'modelId' in op ? op.modelId : op.kind === 'fulfil' ? model.requests.get(op.requestId)?.modelId : undefined
    if (modelId !== undefined) {
      const expected = model.models.get(modelId)
      const onChain = await market.getModel(modelId)
      expect(
        { owner: onChain.owner, price: onChain.price, active: onChain.active, fulfilled: onChain.fulfilled },
        context,
      ).toEqual(expected ? { owner: expected.owner, price: expected.price, active: expected.active, fulfilled: expected.fulfilled } : {
        owner: '0x0000000000000000000000000000000000000000', price: 0n, active: false, fulfilled: 0n,
      })
    }
  }
})

function operationCount(env: string | undefined): number {
  if (env === undefined || env === '') return 800
  const count = Number(env)
  if (!Number.isInteger(count) || count < 1) throw new Error(`MARKET_FUZZ_OPS must be a positive whole number, got ${JSON.stringify(env)}`)
  return count
}
