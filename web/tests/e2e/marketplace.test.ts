import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MARKET_ACCOUNTS, MarketplaceNetwork } from '../../../node-client/tests/support/marketplace-network.ts'
import type { NetworkProcess } from '../../../sample_job/src/local-processes.ts'
import { launchChromium, type Chromium } from '../support/chromium.ts'
import { injectWallet, type InjectedWallet } from '../support/injected-wallet.ts'
import { startWebApp, waitUntil } from '../support/web-stack.ts'

/**
 * Issue 7's web marketplace in Chromium, against the network node-client's MarketplaceNetwork
 * builds through the CLI (gateway, anvil with the settlement and the market, coordinator, the
 * mnist-zk sample model trained, listed with `oblivion model list` and served by `oblivion
 * serve`), plus the built web app. A buyer (dev account 3, injected wallet) finds the model on
 * /marketplace signed out, draws a digit (the preview shows the 14×14 pixels it commits to), then
 * picks an MNIST test 7 and buys it: one legacy transaction pays requestInference, the input goes
 * to the owner, the owner's proof arrives by Realtime, and the page shows the class, the
 * probabilities, the public signals, the proof, a Groth16 verdict from this browser and the
 * chain's (Fulfilled, same output and commitment, fulfil receipt succeeded). Screenshots land in
 * web/test-artifacts/; any console error fails the test.
 */
const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts')

let market: MarketplaceNetwork
let web: NetworkProcess
let webUrl: string
let chromium: Chromium
let page: Page
let errors: string[]
let wallet: InjectedWallet

const shot = async (name: string, on: Page = page) => {
  // A full-page shot paints the sticky top bar where the page was scrolled to: start at the top.
  await on.evaluate(() => window.scrollTo(0, 0))
  await on.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true })
}
const attribute = (testId: string, name: string) => page.getByTestId(testId).first().getAttribute(name).catch(() => null)
const logs = () => `--- page errors\n${errors.join('\n')}\n--- serve\n${market.serveProcess?.lines.slice(-8).map((l) => JSON.stringify(l)).join('\n') ?? 'not serving'}`

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true })
  market = await MarketplaceNetwork.start({ price: '0.01' })
  const chain = market.network.chain!.config
  const started = await startWebApp({
    supabaseUrl: market.network.gateway.url,
    anonKey: market.network.gateway.keys.anonKey,
    chain: { chainId: chain.chainId, name: 'Oblivion local (anvil)', rpcUrl: chain.rpcUrl, settlement: chain.settlement, challengeWindow: chain.challengeWindow, market: chain.market!.address },
    visualizerUrl: null,
  })
  web = started.process
  webUrl = started.url
  chromium = await launchChromium()
  ;({ page, errors } = await chromium.newPage())
  page.setDefaultTimeout(30_000)
  wallet = await injectWallet(page, { privateKey: chain.accounts[MARKET_ACCOUNTS.buyer]!.privateKey, rpcUrl: chain.rpcUrl, chainId: chain.chainId })
}, 420_000)

afterAll(async () => {
  await chromium?.close()
  web?.child.kill('SIGKILL')
  await web?.exited
  await market?.close()
})

describe('the web marketplace', () => {
  it('lists the sample model, buys an inference with the wallet and shows the verified proof and the chain’s verdict', async () => {
    // Signed out: the listing is public.
    await page.goto(`${webUrl}/marketplace`)
    const card = page.locator(`[data-testid="model-card"][data-model-id="${market.modelId}"]`)
    await card.waitFor()
    expect(await card.getAttribute('data-chain-model-id')).toBe(market.chainModelId)
    expect(await card.getByTestId('model-card-price').getAttribute('data-wei')).toBe('10000000000000000')
    expect(await card.getByTestId('setup-transcript').innerText()).toMatch(/oblivion coordinator .* \+ beacon block \d+/)
    await shot('marketplace')

    await card.getByTestId('model-card-buy').click()
    await page.getByTestId('model-page').waitFor()
    expect(await page.getByTestId('model-setup').innerText()).toMatch(/oblivion coordinator/)

    // Draw a digit: the preview shows the 14×14 pixels that will be committed.
    const canvas = page.getByTestId('draw-canvas')
    const box = (await canvas.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.25)
    await page.mouse.down()
    for (const [x, y] of [[0.7, 0.25], [0.45, 0.8]] as const) await page.mouse.move(box.x + box.width * x, box.y + box.height * y, { steps: 12 })
    await page.mouse.up()
    await expect.poll(() => attribute('input-preview', 'data-ready')).toBe('true')
    expect(await page.getByTestId('buy-gate').getAttribute('data-step')).toBe('connect')
    await shot('marketplace-model-draw')

    // Sign in (SIWE) from the buy panel's gate.
    await page.getByTestId('buy-gate-connect').click()
    await page.getByTestId('buy-gate-sign-in').click()
    await page.getByTestId('signed-in').waitFor()

    // A test image instead: an MNIST 7.
    await page.getByTestId('input-mode-pick').click()
    await page.getByTestId('test-digit-class-7').click()
    await page.getByTestId('test-digit-0').click()
    await expect.poll(() => attribute('input-preview', 'data-ready')).toBe('true')

    const sentBefore = wallet.sent.length
    await page.getByTestId('buy-inference').click()
    const view = page.getByTestId('inference-view')
    await view.waitFor({ timeout: 60_000 })
    expect(wallet.sent.length).toBe(sentBefore + 1)
    const requestId = (await view.getAttribute('data-request-id'))!
    expect(page.url()).toContain(`?request=${requestId}`)

    // The owner's proof arrives (Realtime), then both verdicts.
    await waitUntil('the inference to be verified', async () => (await view.getAttribute('data-stage')) === 'verified' || (await view.getAttribute('data-stage')) === 'rejected', 180_000, logs)
    expect(await view.getAttribute('data-stage')).toBe('verified')
    expect(await attribute('offchain-verdict', 'data-ok')).toBe('true')
    expect(await attribute('chain-verdict', 'data-ok')).toBe('true')

    const { rows } = await market.network.gateway.db.query<{ status: string; output: { predicted: number }; public_signals: string[]; fulfil_tx_hash: string; chain_request_id: string; buyer_address: string }>(
      'select status, output, public_signals, fulfil_tx_hash, chain_request_id, buyer_address from public.inference_requests where id = $1',
      [requestId],
    )
    const row = rows[0]!
    expect(row).toMatchObject({ status: 'fulfilled', buyer_address: wallet.address })
    expect(await attribute('predicted-class', 'data-value')).toBe(String(row.output.predicted))
    expect(await attribute('fulfil-tx', 'data-value')).toBe(row.fulfil_tx_hash)
    expect(await attribute('fulfil-receipt', 'data-status')).toBe('success')
    expect(await page.getByTestId('public-signals').innerText()).toContain(row.public_signals[1]!)
    expect(await attribute('request-tx', 'data-value')).toBe(wallet.sent.at(-1))
    const onChain = await market.market.getRequest(BigInt(row.chain_request_id))
    expect(Number(onChain.status)).toBe(2) // Fulfilled
    expect(onChain.output).toBe(BigInt(row.output.predicted))
    expect(onChain.buyer.toLowerCase()).toBe(wallet.address)
    await page.getByTestId('proof-json').locator('summary').click()
    expect(await page.getByTestId('proof-json').locator('pre').innerText()).toContain('pi_a')
    await page.getByTestId('my-requests').waitFor()
    await shot('marketplace-verified')

    // The model page and the marketplace count it.
    await expect.poll(() => page.getByTestId('model-fulfilled').innerText()).toBe('1')
    await page.goto(`${webUrl}/marketplace`)
    await expect.poll(() => page.locator(`[data-testid="model-card"][data-model-id="${market.modelId}"] [data-testid="model-card-fulfilled"]`).innerText()).toBe('1')

    expect(errors, logs()).toEqual([])
  })

  it('lets the owner change the price and pause the model from the wallet, the chain and the listing in step', async () => {
    const chain = market.network.chain!.config
    const owner = await launchChromium()
    try {
      const { page: ownerPage, errors: ownerErrors } = await owner.newPage()
      ownerPage.setDefaultTimeout(30_000)
      await injectWallet(ownerPage, { privateKey: chain.accounts[MARKET_ACCOUNTS.owner]!.privateKey, rpcUrl: chain.rpcUrl, chainId: chain.chainId })
      await ownerPage.goto(`${webUrl}/marketplace`)
      await ownerPage.getByTestId('connect-wallet').click()
      await ownerPage.getByTestId('sign-in').click()
      await ownerPage.getByTestId('signed-in').waitFor()
      // The CLI listed the model under its own (anonymous) identity; the web signs in with the
      // wallet (SIWE), another user. Hand the model to that user, as if the owner had created the
      // job from the web app, so this session may change the listing (set_model_listing checks it).
      await ownerPage.getByTestId('your-models').waitFor()
      const userId = await ownerPage.evaluate(() => {
        const key = Object.keys(localStorage).find((k) => k.startsWith('oblivion-auth-'))!
        return (JSON.parse(localStorage.getItem(key)!) as { user: { id: string } }).user.id
      })
      await market.network.gateway.db.query('update public.models set owner_id = $1 where id = $2', [userId, market.modelId])
      await ownerPage.reload()
      const row = ownerPage.getByTestId(`owner-model-${market.modelId}`)
      await row.waitFor()
      expect(await row.getAttribute('data-listed')).toBe('true')

      await row.getByTestId('owner-price').fill('0.02')
      await row.getByTestId('owner-set-price').click()
      await row.getByTestId('owner-done').waitFor()
      expect((await market.market.getModel(BigInt(market.chainModelId))).price).toBe(20_000_000_000_000_000n)
      await expect.poll(() => ownerPage.locator(`[data-testid="model-card"][data-model-id="${market.modelId}"] [data-testid="model-card-price"]`).getAttribute('data-wei')).toBe('20000000000000000')
      await shot('marketplace-owner', ownerPage)

      await row.getByTestId('owner-toggle-listing').click()
      await expect.poll(() => row.getAttribute('data-listed')).toBe('false')
      expect((await market.market.getModel(BigInt(market.chainModelId))).active).toBe(false)
      await ownerPage.getByTestId('marketplace-empty').waitFor()
      await row.getByTestId('owner-toggle-listing').click()
      await expect.poll(() => row.getAttribute('data-listed')).toBe('true')
      expect((await market.market.getModel(BigInt(market.chainModelId))).active).toBe(true)
      expect(ownerErrors).toEqual([])
    } finally {
      await owner.close()
    }
  })

  it('offers the refund once an unanswered request passes its deadline, and records it', async () => {
    await market.stopServing()
    await page.goto(`${webUrl}/marketplace/${market.modelId}`)
    await page.getByTestId('input-mode-pick').click()
    await page.getByTestId('test-digit-class-3').click()
    await page.getByTestId('test-digit-0').click()
    await expect.poll(() => attribute('input-preview', 'data-ready')).toBe('true')
    await page.getByTestId('buy-inference').click()
    const view = page.getByTestId('inference-view').first()
    await expect.poll(() => view.getAttribute('data-stage'), { timeout: 60_000 }).toBe('waiting')
    const requestId = (await view.getAttribute('data-request-id'))!
    expect(await page.getByTestId('refund-inference').count()).toBe(0)

    // Nobody answers; the chain's clock passes the deadline.
    await market.provider.send('evm_increaseTime', [market.network.chain!.config.market!.requestTimeout + 1])
    await market.provider.send('evm_mine', [])
    await expect.poll(() => view.getAttribute('data-stage'), { timeout: 30_000 }).toBe('expired')
    await shot('marketplace-expired')
    await page.getByTestId('refund-inference').click()
    await page.getByTestId('refund-done').waitFor({ timeout: 60_000 })
    await expect.poll(() => view.getAttribute('data-status')).toBe('refunded')
    const { rows } = await market.network.gateway.db.query<{ status: string; refund_tx_hash: string; chain_request_id: string }>(
      'select status, refund_tx_hash, chain_request_id from public.inference_requests where id = $1',
      [requestId],
    )
    expect(rows[0]).toMatchObject({ status: 'refunded', refund_tx_hash: wallet.sent.at(-1) })
    expect(Number((await market.market.getRequest(BigInt(rows[0]!.chain_request_id))).status)).toBe(3) // Refunded
    expect(errors, logs()).toEqual([])
  })
})
