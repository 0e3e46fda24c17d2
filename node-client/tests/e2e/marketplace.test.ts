import { readFile } from 'node:fs/promises'
import { LegacyWallet, parseInferenceMarketLogs } from '@oblivion/contracts'
import { commitInput } from '@oblivion/model/zk'
import { WITHHELD_ZKEY_SECTIONS, zkeySections } from '@oblivion/model/zk/node'
import { parseEther } from 'ethers'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { maxAbsDifference } from '../../../model/tests/support/array-compare.ts'
import { startOblivion } from '../../../sample_job/src/local-processes.ts'
import { onnxFileOf, zkModelHome } from '../../src/marketplace/zk-model-home.ts'
import { cliEnv } from '../support/run-cli.ts'
import { MARKET_ACCOUNTS, MarketplaceNetwork } from '../support/marketplace-network.ts'

/**
 * Issue 7's acceptance run on the real local stack: the mnist-zk sample job trained through the
 * network, listed by its owner with `oblivion model list` (the coordinator contributes to the
 * setup and seals it with a block hash), served with `oblivion serve`, and bought by another
 * wallet with `oblivion infer`: the answer is proved, paid on chain, recorded, and the buyer's CLI
 * checks the proof itself. Then an unanswered request is refunded after its deadline, and the
 * market ends holding exactly what it owes.
 */
const PRICE = parseEther('0.01')
/** Requests the owner did not answer: refunded after the deadline by the last test. */
const unansweredRequests: Array<{ id: string; chainRequestId: bigint; client: import('@supabase/supabase-js').SupabaseClient }> = []
let market: MarketplaceNetwork
const account = (index: number) => market.network.chain!.config.accounts[index]!

beforeAll(async () => {
  market = await MarketplaceNetwork.start({ price: '0.01' })
  console.log(`marketplace network ready: ${JSON.stringify(market.timings)} ms; model list: ${market.listLines.map((l) => `${l.type} ${l.ts}`).join(', ')}`)
}, 240_000)

afterAll(async () => {
  await market?.close()
})

function infer(args: string[]) {
  return startOblivion('infer', ['infer', ...args], { url: market.network.gateway.url, home: market.home }, { env: cliEnv(), captureStderr: true })
}

describe('the verified-inference marketplace through the CLI', () => {
  it('lists the trained model with the network’s contribution and a block-hash beacon', async () => {
    const listed = market.listLines.find((l) => l.type === 'model-listed')!
    expect(listed).toMatchObject({ modelId: market.modelId, priceWei: PRICE.toString() })
    const ready = market.listLines.find((l) => l.type === 'setup-ready')!
    expect(ready.beaconBlock).toEqual(expect.any(Number))
    const { rows } = await market.network.gateway.db.query<{ listed: boolean; chain_model_id: string; owner_address: string; zk_manifest: any; status: string; transcript: any }>(
      `select m.listed, m.chain_model_id, m.owner_address, m.zk_manifest, s.status, s.transcript
         from public.models m join public.zk_setups s on s.model_id = m.id where m.id = $1`,
      [market.modelId],
    )
    expect(rows[0]).toMatchObject({ listed: true, chain_model_id: market.chainModelId, owner_address: account(MARKET_ACCOUNTS.owner).address.toLowerCase(), status: 'ready' })
    expect(rows[0]!.transcript.contribution.name).toBe('oblivion coordinator')
    const contributions = rows[0]!.zk_manifest.setup.contributions as Array<{ name: string; beacon?: { hash: string } }>
    expect(contributions.map((c) => c.name)).toEqual(['oblivion coordinator', `block ${ready.beaconBlock} of chain ${market.network.chain!.config.chainId}`])
    expect('0x' + contributions[1]!.beacon!.hash).toBe(rows[0]!.transcript.beacon.blockHash)
    // The network contributed without seeing the circuit: what the owner uploaded, and what the
    // coordinator sent back, hold zeros where the coefficients (the weights) and the A/B points are.
    const { rows: setups } = await market.network.gateway.db.query<{ id: string }>('select id from public.zk_setups where model_id = $1', [market.modelId])
    const storage = market.network.gateway.serviceClient().storage.from('artifacts')
    for (const name of ['initial', 'final']) {
      const { data: blob, error } = await storage.download(`zk-setups/${setups[0]!.id}/${name}.zkey`)
      expect(error).toBeNull()
      const zkey = new Uint8Array(await blob!.arrayBuffer())
      const withheld = zkeySections(zkey).filter((s) => (WITHHELD_ZKEY_SECTIONS as readonly number[]).includes(s.id))
      expect(withheld.map((s) => s.id)).toEqual([4, 5, 6, 7])
      for (const s of withheld) expect(zkey.subarray(s.start, s.start + s.size).every((b) => b === 0), `${name}.zkey section ${s.id}`).toBe(true)
    }
    const onChain = await market.market.getModel(BigInt(market.chainModelId))
    expect(onChain.owner).toBe(account(MARKET_ACCOUNTS.owner).address)
    expect(onChain.price).toBe(PRICE)
  })

  it('sells one proved inference: the owner is paid, the buyer verifies the proof, the row holds it all', async () => {
    const { provider } = market
    const owner = account(MARKET_ACCOUNTS.owner).address
    const buyer = account(MARKET_ACCOUNTS.buyer).address
    const [ownerBefore, buyerBefore] = await Promise.all([provider.getBalance(owner), provider.getBalance(buyer)])

    const started = performance.now()
    const proc = infer([market.modelId, '--test-row', '0', '--dev-account', String(MARKET_ACCOUNTS.buyer)])
    const code = await proc.exited
    const inferMs = performance.now() - started
    expect(code, proc.stderr()).toBe(0) // and it exited on its own
    const requested = proc.lines.find((l) => l.type === 'inference-requested')!
    const result = proc.lines.find((l) => l.type === 'inference-result')!
    expect(result).toMatchObject({ proofVerified: true, chainVerified: true, problems: [], input: 'row 0 of mnist-14x14' })
    expect((result.probabilities as number[]).length).toBe(10)
    expect(result.predicted).toBe(result.label) // row 0 is an easy digit for a 0.9-accuracy model

    const fulfilled = market.serveProcess!.lines.find((l) => l.type === 'inference-fulfilled')!
    expect(fulfilled).toMatchObject({ requestId: requested.requestId, predicted: result.predicted })
    console.log(`infer round trip ${Math.round(inferMs)} ms; prove ${fulfilled.proveMs} ms, fulfil ${fulfilled.fulfilMs} ms, fulfil gas ${fulfilled.gasUsed}`)

    const fulfilReceipt = (await provider.getTransactionReceipt(fulfilled.txHash as string))!
    const requestReceipt = (await provider.getTransactionReceipt(requested.txHash as string))!
    const [ownerAfter, buyerAfter] = await Promise.all([provider.getBalance(owner), provider.getBalance(buyer)])
    expect(ownerAfter - ownerBefore).toBe(PRICE - fulfilReceipt.gasUsed * fulfilReceipt.gasPrice)
    expect(buyerBefore - buyerAfter).toBe(PRICE + requestReceipt.gasUsed * requestReceipt.gasPrice)

    const { rows } = await market.network.gateway.db.query<{ status: string; output: any; proof: any; public_signals: string[]; fulfil_tx_hash: string; buyer_address: string }>(
      'select status, output, proof, public_signals, fulfil_tx_hash, buyer_address from public.inference_requests where id = $1',
      [requested.requestId],
    )
    expect(rows[0]).toMatchObject({ status: 'fulfilled', fulfil_tx_hash: (fulfilled.txHash as string).toLowerCase(), buyer_address: buyer.toLowerCase() })
    expect(rows[0]!.public_signals).toEqual([String(result.predicted), requested.commitment])
    expect(rows[0]!.proof.protocol).toBe('groth16')
    expect(rows[0]!.output).toMatchObject({ predicted: result.predicted, probabilities: result.probabilities })

    // The float answer is the job's ONNX model in ONNX Runtime on the committed input (pixels / 2^fracBits).
    const { rows: inputs } = await market.network.gateway.db.query<{ input: { pixels: number[] }; fracBits: number }>(
      `select r.input, (m.zk_manifest->>'fracBits')::int as "fracBits" from public.inference_requests r join public.models m on m.id = r.model_id where r.id = $1`,
      [requested.requestId],
    )
    const session = await ort.InferenceSession.create(await readFile(onnxFileOf(zkModelHome(market.home, market.modelId))))
    const pixels = Float32Array.from(inputs[0]!.input.pixels, (p) => p / 2 ** inputs[0]!.fracBits)
    const output = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', pixels, [1, pixels.length]) })
    const onnxProbabilities = Array.from(output[session.outputNames[0]!]!.data as Float32Array)
    await session.release()
    expect(maxAbsDifference(result.probabilities as number[], onnxProbabilities)).toBeLessThan(1e-6)
    expect(result.floatPredicted).toBe(onnxProbabilities.indexOf(Math.max(...onnxProbabilities)))
  }, 120_000)

  it('refuses (and records why) a request whose revealed input does not match the commitment paid for', async () => {
    const { provider } = market
    const buyerWallet = new LegacyWallet(account(MARKET_ACCOUNTS.buyer).privateKey, provider)
    const listing = (await market.network.gateway.db.query<{ zk_manifest: any }>('select zk_manifest from public.models where id = $1', [market.modelId])).rows[0]!.zk_manifest
    const packing = { inputSize: listing.inputPacking.inputSize as number, inputBits: listing.inputPacking.inputBits as number }
    const pixels = new Array(packing.inputSize).fill(3)
    const commitment = commitInput(packing, pixels, 1111n)
    const receipt = await (await market.market.connect(buyerWallet).requestInference(BigInt(market.chainModelId), commitment, { value: PRICE })).wait()
    const requested = parseInferenceMarketLogs(receipt!.logs).find((e) => e.name === 'InferenceRequested')!
    const buyer = await market.network.gateway.createUser()
    const { data: requestId, error } = await buyer.client.rpc('submit_inference_request', {
      p_model_id: market.modelId,
      p_chain_request_id: (requested.args as { requestId: bigint }).requestId.toString(),
      p_input_commitment: commitment.toString(),
      p_input: { pixels, salt: '2222' }, // not the salt committed to
      p_buyer_address: buyerWallet.address.toLowerCase(),
      p_request_tx_hash: receipt!.hash.toLowerCase(),
    })
    expect(error).toBeNull()
    const refused = await market.serveProcess!.waitFor((l) => l.type === 'inference-refused' && l.requestId === requestId, 30_000)
    expect(refused.reason).toMatch(/the input and salt commit to \d+, not to the request's/)
    const { rows } = await market.network.gateway.db.query<{ status: string; error: string }>('select status, error from public.inference_requests where id = $1', [requestId])
    expect(rows[0]).toEqual({ status: 'failed', error: refused.reason })
    // Still open on chain: the buyer refunds it after the deadline (below, with the next one).
    expect((await market.market.getRequest((requested.args as { requestId: bigint }).requestId)).status).toBe(1n)
    unansweredRequests.push({ id: requestId as string, chainRequestId: (requested.args as { requestId: bigint }).requestId, client: buyer.client })
  }, 60_000)

  it('refunds a request nobody answered once its deadline has passed, and the market owes nothing', async () => {
    expect(await market.stopServing()).toBe(0) // Ctrl-C: drains and exits cleanly
    const { provider } = market
    const buyer = account(MARKET_ACCOUNTS.buyer).address
    const proc = infer([market.modelId, '--test-row', '1', '--dev-account', String(MARKET_ACCOUNTS.buyer)])
    const requested = await proc.waitFor((l) => l.type === 'inference-requested', 60_000)
    expect(await market.market.accountedBalance()).toBe(PRICE * BigInt(1 + unansweredRequests.length))
    await provider.send('evm_increaseTime', [market.network.chain!.config.market!.requestTimeout + 5])
    await provider.send('evm_mine', [])
    expect(await proc.exited).toBe(1) // the deadline passed (chain time) without an answer
    expect(proc.stderr()).toContain('CLI_NOT_ANSWERED')

    const before = await provider.getBalance(buyer)
    const refund = startOblivion('refund', ['infer', 'refund', requested.requestId as string, '--dev-account', String(MARKET_ACCOUNTS.buyer)], { url: market.network.gateway.url, home: market.home }, { env: cliEnv(), captureStderr: true })
    expect(await refund.exited, refund.stderr()).toBe(0)
    const refunded = refund.lines.find((l) => l.type === 'inference-refunded')!
    expect(refunded.amountWei).toBe(PRICE.toString())
    const receipt = (await provider.getTransactionReceipt(refunded.txHash as string))!
    expect((await provider.getBalance(buyer)) - before).toBe(PRICE - receipt.gasUsed * receipt.gasPrice)
    const { rows } = await market.network.gateway.db.query<{ status: string; refund_tx_hash: string }>('select status, refund_tx_hash from public.inference_requests where id = $1', [requested.requestId])
    expect(rows[0]).toEqual({ status: 'refunded', refund_tx_hash: (refunded.txHash as string).toLowerCase() })

    // The refused request: another CLI identity cannot see it; its buyer refunds it directly.
    for (const request of unansweredRequests) {
      const other = startOblivion('refund', ['infer', 'refund', request.id, '--dev-account', String(MARKET_ACCOUNTS.buyer), '--profile', 'other'], { url: market.network.gateway.url, home: market.home }, { env: cliEnv(), captureStderr: true })
      expect(await other.exited).toBe(1)
      expect(other.stderr()).toContain('CLI_NOT_FOUND')
      const buyerWallet = new LegacyWallet(account(MARKET_ACCOUNTS.buyer).privateKey, provider)
      const tx = await (await market.market.connect(buyerWallet).refund(request.chainRequestId)).wait()
      const { error } = await request.client.rpc('record_inference_refund', { p_request_id: request.id, p_refund_tx_hash: tx!.hash.toLowerCase() })
      expect(error).toBeNull()
    }
    const address = await market.market.getAddress()
    expect(await provider.getBalance(address)).toBe(await market.market.accountedBalance())
    expect(await market.market.accountedBalance()).toBe(0n)
  }, 120_000)
})
