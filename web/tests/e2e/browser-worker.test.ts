import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connectOblivionSettlement, jobIdFromUuid, type OblivionSettlement } from '@oblivion/contracts'
import { JsonRpcProvider, Network, parseEther, type EventLog } from 'ethers'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, type Chromium } from '../support/chromium.ts'
import { injectWallet, type InjectedWallet } from '../support/injected-wallet.ts'
import { startFreshGateway, WebStack, waitUntil } from '../support/web-stack.ts'

/**
 * Issue 6's browser worker against the real network: the gateway, anvil with the settlement
 * contract, `oblivion coordinator`, a bonded `oblivion worker` and the built web app in
 * headless Chromium with an injected wallet (dev account 7). The page signs in, bonds through
 * its stake notice, trains shards of a chain-funded job beside the CLI worker (real updates
 * through complete_task), pauses and gives its task back when the tab hides, shows its earnings,
 * and after settlement claims its payout on chain. Sessions are short, so the run also checks
 * that the worker follows the page's refreshed tokens and never refreshes on its own.
 */
const BROWSER_ACCOUNT = 7
const CLI_ACCOUNT = 4
const CREATOR = 2
const ROUNDS = 3
const SHARDS = 4

let stack: WebStack
let chromium: Chromium
let page: Page
let errors: string[]
let failedResponses: string[]
let wallet: InjectedWallet
let provider: JsonRpcProvider
let contract: OblivionSettlement

const account = (index: number) => stack.chain!.config.accounts[index]!
const status = () => page.getByTestId('browser-worker-status').getAttribute('data-status')
const logs = () => `${stack.logs()}\n--- page errors\n${errors.join('\n')}\n--- failed requests\n${failedResponses.join('\n')}`

async function setTabHidden(hidden: boolean): Promise<void> {
  await page.evaluate((value) => {
    Object.defineProperty(document, 'visibilityState', { value: value ? 'hidden' : 'visible', configurable: true })
    Object.defineProperty(document, 'hidden', { value, configurable: true })
    document.dispatchEvent(new Event('visibilitychange'))
  }, hidden)
}

beforeAll(async () => {
  // Sessions last 40 s (not 3,600): the page's client refreshes them every 30 s while the job
  // runs, so the worker keeps working only if it follows the page's tokens.
  stack = await WebStack.start({ chain: true, challengeWindow: 60, gateway: (storageDir) => startFreshGateway(storageDir, { accessTokenSeconds: 40 }) })
  const { config } = stack.chain!
  provider = new JsonRpcProvider(config.rpcUrl, undefined, { staticNetwork: Network.from(config.chainId), cacheTimeout: -1 })
  contract = connectOblivionSettlement(config.settlement, provider)
  stack.coordinator()
  await stack.run(['worker', 'bond', '1', '--dev-account', String(CLI_ACCOUNT)])
  chromium = await launchChromium()
  ;({ page, errors, failedResponses } = await chromium.newPage())
  wallet = await injectWallet(page, { privateKey: account(BROWSER_ACCOUNT).privateKey, rpcUrl: config.rpcUrl, chainId: config.chainId })
}, 180_000)

afterAll(async () => {
  wallet?.close()
  provider?.destroy()
  await chromium?.close()
  await stack?.close()
})

describe('the browser worker', () => {
  it('signs in, bonds, trains shards beside a CLI worker, pauses when hidden, and claims its payout', async () => {
    await page.goto(`${stack.webUrl}/worker`)
    expect(await page.getByTestId('browser-worker-toggle').isDisabled()).toBe(true) // not signed in
    await page.getByTestId('connect-wallet').click()
    await page.getByTestId('sign-in').click()
    await page.getByTestId('signed-in').waitFor({ timeout: 30_000 })

    // On, before any work exists: it registers (paid at the wallet) and waits.
    await page.getByTestId('browser-worker-toggle').click()
    await waitUntil('the browser worker idle', async () => (await status()) === 'idle', 60_000, logs)
    const { rows: registered } = await stack.gateway.db.query<{ kind: string; payout_address: string }>(`select kind, payout_address from public.workers where kind = 'browser'`)
    expect(registered).toEqual([{ kind: 'browser', payout_address: wallet.address }])

    // A chain-funded job: its tasks are worth 1 coin / 12 each, which the unbonded wallet cannot stake.
    const spec = await stack.sampleSpec('mnist.json', (s) => {
      s.training = { ...s.training, rounds: ROUNDS, shards: SHARDS, localEpochs: 2 }
    })
    const specFile = path.join(stack.home, 'browser-job.json')
    await writeFile(specFile, JSON.stringify(spec))
    const created = await stack.run(['job', 'create', specFile, '--dev-account', String(CREATOR)])
    const jobId = String(created.find((l) => l.type === 'job-created')!.id)
    const perTask = parseEther('1') / BigInt(ROUNDS * SHARDS)

    const stakeNotice = page.getByTestId('stake-notice')
    await waitUntil('the stake notice', async () => (await stakeNotice.getAttribute('data-covered').catch(() => null)) === 'false', 60_000, logs)
    expect(await stakeNotice.innerText()).toContain(`bond at least`)
    await page.getByTestId('bond-amount').fill('0.1')
    await page.getByTestId('bond-submit').click()
    await page.getByTestId('bond-tx').waitFor({ timeout: 30_000 })
    await waitUntil('the bond mirrored and covering', async () => (await stakeNotice.getAttribute('data-covered')) === 'true', 60_000, logs)
    expect((await contract.bondOf(wallet.address)).bonded).toBe(parseEther('0.1'))
    // The CLI worker joins now, so the job's shards are shared between the two.
    stack.worker('cli-worker', ['--dev-account', String(CLI_ACCOUNT)])

    // It trains a shard for real: the progress bar follows the worker core's events.
    await waitUntil('the browser worker training', async () => (await status()) === 'training', 120_000, logs)
    const fractions = new Set<string>()
    await waitUntil('training progress', async () => {
      const f = await page.getByTestId('browser-worker-progress').getAttribute('data-fraction').catch(() => null)
      if (f) fractions.add(f)
      return fractions.size >= 3
    }, 60_000, logs)
    await waitUntil('a delivered task', async () => Number(await page.getByTestId('browser-worker-tasks-done').innerText()) >= 1, 120_000, logs)
    expect(Number(await page.getByTestId('browser-worker-samples-per-second').getAttribute('data-value'))).toBeGreaterThan(100)
    const { rows: delivered } = await stack.gateway.db.query<{ artifact_cid: string; sample_count: number; steps: number }>(
      `select r.artifact_cid, r.sample_count, (r.metrics->>'steps')::int as steps from public.task_results r join public.workers w on w.id = r.worker_id where w.kind = 'browser'`,
    )
    expect(delivered.length).toBeGreaterThanOrEqual(1)
    expect(delivered[0]!.sample_count).toBeGreaterThan(0)
    expect(delivered[0]!.steps).toBeGreaterThan(0)

    // Pending earnings: accepted tasks × reward / (rounds × shards), before settlement.
    await waitUntil('pending earnings', async () => BigInt((await page.getByTestId('earnings-pending').getAttribute('data-wei')) || '0') >= perTask, 30_000, logs)

    // Hiding the tab gives a running task back at once; showing it again resumes.
    await waitUntil('training again', async () => (await status()) === 'training', 120_000, logs)
    await setTabHidden(true)
    await waitUntil('paused', async () => (await status()) === 'paused', 10_000, logs)
    const notice = await waitUntil('the task given back', async () => {
      const text = await page.getByTestId('browser-worker-notice').innerText().catch(() => '')
      return /^Gave back task (\d+): the browser tab was hidden/.exec(text)
    }, 20_000, logs)
    // fail_task requeued it at once (the CLI worker may hold or have finished it since).
    const { rows: given } = await stack.gateway.db.query<{ attempts: number; leased_by_browser: boolean }>(
      `select t.attempts, coalesce(w.kind = 'browser' and t.status = 'leased', false) as leased_by_browser
         from public.tasks t left join public.workers w on w.id = t.leased_by where t.id = $1`,
      [Number(notice[1])],
    )
    expect(given[0]!.leased_by_browser).toBe(false)
    await setTabHidden(false)
    await waitUntil('running again', async () => ['idle', 'training'].includes((await status()) ?? ''), 60_000, logs)

    const job = await waitUntil('the job ended', async () => {
      const j = await stack.job(jobId)
      return ['completed', 'failed'].includes(j.status) ? j : undefined
    }, 400_000, logs)
    expect(job.status).toBe('completed')
    const { rows: byKind } = await stack.gateway.db.query<{ kind: string; tasks: number }>(
      `select w.kind, count(*)::int as tasks from public.task_results r join public.workers w on w.id = r.worker_id where r.job_id = $1 group by w.kind order by w.kind`,
      [jobId],
    )
    const browserTasks = byKind.find((r) => r.kind === 'browser')?.tasks ?? 0
    expect(browserTasks).toBeGreaterThanOrEqual(1)
    expect(byKind.find((r) => r.kind === 'cli')?.tasks ?? 0).toBeGreaterThanOrEqual(1)

    // The session outlived several access tokens: the page refreshed it and the worker followed,
    // never refreshing itself (a reused refresh token would have revoked the session).
    const { rows: sessions } = await stack.gateway.db.query<{ sessions: number; tokens: number }>(
      `select count(distinct s.id)::int as sessions, count(t.id)::int as tokens
         from auth.sessions s join auth.refresh_tokens t on t.session_id = s.id
        where s.user_id = (select owner_id from public.workers where kind = 'browser')`,
    )
    expect(sessions[0]!.sessions).toBe(1)
    expect(sessions[0]!.tokens).toBeGreaterThan(1)
    await page.getByTestId('signed-in').waitFor({ timeout: 1_000 })

    // Off: it drains and stops.
    await page.getByTestId('browser-worker-toggle').click()
    await waitUntil('off', async () => (await status()) === 'off', 60_000, logs)

    // Settlement, then the claim once the challenge window (60 s) has passed on chain.
    await waitUntil('the settlement confirmed', async () => {
      const { rows } = await stack.gateway.db.query<{ status: string }>(`select status from public.settlements where job_id = $1`, [jobId])
      return rows[0]?.status === 'confirmed'
    }, 90_000, logs)
    const expected = perTask * BigInt(browserTasks)
    await waitUntil('settled earnings', async () => BigInt((await page.getByTestId('earnings-settled').getAttribute('data-wei')) || '0') === expected, 30_000, logs)
    const row = page.locator(`[data-testid="payout-row"][data-job-id="${jobId}"]`)
    await waitUntil('a payout waiting for the challenge window', async () => (await row.getAttribute('data-state').catch(() => null)) === 'waiting', 30_000, logs)
    expect(await row.getByTestId('payout-claim').count()).toBe(0)
    await provider.send('evm_increaseTime', [120])
    await provider.send('evm_mine', [])
    // The list is read again every 15 s (no reload: it would race the page's 30 s token refresh).
    await waitUntil('a claimable payout', async () => (await row.getAttribute('data-state').catch(() => null)) === 'claimable', 60_000, logs)
    expect(await row.getAttribute('data-amount-wei')).toBe(String(expected))
    await row.getByTestId('payout-claim').click()
    await page.getByTestId('claim-tx').waitFor({ timeout: 30_000 })
    await waitUntil('the payout claimed', async () => (await row.getAttribute('data-state')) === 'claimed', 30_000, logs)
    const claims = await contract.queryFilter(contract.filters.PayoutClaimed(jobIdFromUuid(jobId), account(BROWSER_ACCOUNT).address))
    expect((claims[0] as EventLog).args.amount).toBe(expected)
    expect((await page.getByTestId('claim-tx').getAttribute('data-tx-hash'))?.toLowerCase()).toBe(claims[0]!.transactionHash.toLowerCase())

    expect(errors, failedResponses.join('\n')).toEqual([])
  }, 900_000)
})
