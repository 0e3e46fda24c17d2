import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { startCoordinator, type CoordinatorEvent, type CoordinatorHandle } from '@oblivion/node-client/coordinator'
import { joinNetworkPresence, type PresenceHandle } from '@oblivion/node-client/network-channel'
import type { SupabaseClient } from '@supabase/supabase-js'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../../../supabase/tests/gateway/support/test-gateway.ts'
import { cidOf, globalModelPath, trainingSpec } from '../../../supabase/tests/support/fixtures.ts'
import { ensureVisualizerBuilt, serveVisualizer, VISUALIZER_DIR, type VisualizerServer } from '../../src/serve.ts'
import { launchChromium, type HeadlessChromium } from '../support/headless-chromium.ts'

/**
 * The wall screen in Chromium against a real gateway (PGlite) and the real coordinator: a
 * running job, a CLI worker holding a lease and an idle browser worker, both present on the
 * network-presence channel as the worker core makes them. The page must show them, follow a
 * claim through the coordinator's change pulse (well before the 15 s fallback poll), and drop a
 * worker the moment it leaves presence (the database would list it for 45 s more).
 */
const ARTIFACTS = path.join(VISUALIZER_DIR, 'test-artifacts')

async function rpc<T>(client: SupabaseClient, name: string, args: Record<string, unknown>): Promise<T> {
  const { data, error } = await client.rpc(name, args)
  if (error) throw new Error(`${name}: ${error.message}`)
  return data as T
}

async function worker(gw: TestGateway, name: string, kind: 'cli' | 'browser') {
  const { client } = await gw.createUser()
  const row = await rpc<{ id: string }>(client, 'register_worker', { p_name: name, p_kind: kind, p_capabilities: {} })
  return { id: row.id, client }
}

const graphAttribute = (page: Page, name: string) => page.getAttribute('[data-testid="network-graph"]', `data-${name}`)

async function expectGraph(page: Page, expected: Record<string, number>, timeoutMs: number): Promise<void> {
  const selector = `[data-testid="network-graph"]${Object.entries(expected).map(([k, v]) => `[data-${k}="${v}"]`).join('')}`
  try {
    await page.waitForSelector(selector, { timeout: timeoutMs })
  } catch {
    const actual = Object.fromEntries(await Promise.all(Object.keys(expected).map(async (k) => [k, await graphAttribute(page, k)])))
    throw new Error(`the graph shows ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)} within ${timeoutMs} ms`)
  }
}

describe('the wall screen on a live network', () => {
  let gw: TestGateway
  let server: VisualizerServer
  let browser: HeadlessChromium
  let coordinator: CoordinatorHandle
  const coordinatorWarnings: string[] = []
  const presences: PresenceHandle[] = []

  beforeAll(async () => {
    ;[gw] = await Promise.all([startTestGateway('pglite'), ensureVisualizerBuilt()])
    server = await serveVisualizer({
      port: 0,
      config: { supabaseUrl: gw.url, anonKey: gw.keys.anonKey, chain: null, webUrl: null, visualizerUrl: null },
    })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await Promise.all(presences.map((p) => p.leave()))
    await coordinator?.stop()
    await browser?.close()
    await server?.close()
    await gw?.close()
  })

  it('shows the workers and the job, follows a claim through the pulse, and drops a worker that leaves', async () => {
    // A running two-shard job (funded without escrow, round 1 started as the coordinator would).
    const service = gw.serviceClient()
    const { client: creator } = await gw.createUser()
    const job = await rpc<{ id: string }>(creator, 'create_job', { p_spec: trainingSpec({ rounds: 1, shards: 2 }), p_reward_wei: '1000' })
    await rpc(service, 'fund_job_without_escrow', { p_job_id: job.id })
    await rpc(service, 'start_round', { p_job_id: job.id, p_global_model_cid: cidOf(`weights of ${job.id}`), p_global_model_path: globalModelPath(job.id, 1) })

    const cli = await worker(gw, 'wall-cli', 'cli')
    const browserWorker = await worker(gw, 'wall-browser', 'browser')
    await rpc(cli.client, 'claim_task', { p_worker_id: cli.id })
    const cliPresence = joinNetworkPresence(cli.client, cli.id, { role: 'worker', worker_id: cli.id, kind: 'cli', started_at: new Date().toISOString() })
    presences.push(
      cliPresence,
      joinNetworkPresence(browserWorker.client, browserWorker.id, { role: 'worker', worker_id: browserWorker.id, kind: 'browser', started_at: new Date().toISOString() }),
    )
    // The real coordinator: its change subscription feeds the pulse. The job is mid-round, so it only waits.
    coordinator = await startCoordinator({
      supabase: service,
      pollIntervalMs: 60_000,
      fundWithoutEscrow: false,
      onEvent: (event: CoordinatorEvent) => event.type === 'warning' && coordinatorWarnings.push(event.message),
    })

    const page = await browser.context.newPage()
    const problems: string[] = []
    page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`))
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    await page.goto(server.url)

    await page.waitForSelector('[data-testid="wall-screen"][data-phase="live"][data-realtime="live"]', { timeout: 15_000 })
    await expectGraph(page, { workers: 2, 'cli-workers': 1, 'browser-workers': 1, jobs: 1, 'lease-links': 1 }, 10_000)
    await page.waitForSelector('[data-testid="wall-screen"][data-coordinator="present"]', { timeout: 10_000 })
    await page.waitForSelector(`[data-testid="leaderboard"] [data-worker="${cli.id}"]`, { timeout: 10_000 })
    await page.waitForSelector(`[data-testid="job-curves"] [data-job="${job.id}"]`, { timeout: 10_000 })
    expect(await page.textContent('[data-testid="tile-leases"]')).toContain('1')

    // The browser worker claims the other shard: the coordinator sees the change and pulses;
    // the page re-reads at once (its fallback poll is 15 s away).
    const claimedAt = Date.now()
    await rpc(browserWorker.client, 'claim_task', { p_worker_id: browserWorker.id })
    await expectGraph(page, { 'lease-links': 2 }, 5_000)
    const pulseSeconds = (Date.now() - claimedAt) / 1000
    expect(await page.textContent('[data-testid="tile-leases"]')).toContain('2')

    // The CLI worker leaves: gone from the page at once, its lease link with it, though the
    // database lists it (and its lease) until its heartbeats are 45 s old.
    await mkdir(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: path.join(ARTIFACTS, 'wall-screen-live.png') })
    await cliPresence.leave()
    await expectGraph(page, { workers: 1, 'cli-workers': 0, 'browser-workers': 1, 'lease-links': 1 }, 5_000)
    const topology = await rpc<{ workers: Array<{ id: string }> }>(gw.anonClient(), 'network_topology', {})
    expect(topology.workers.map((w) => w.id)).toContain(cli.id)
    await page.screenshot({ path: path.join(ARTIFACTS, 'wall-screen-after-leave.png') })

    expect(problems).toEqual([])
    expect(coordinatorWarnings).toEqual([])
    expect(pulseSeconds).toBeLessThan(5)
    await page.close()
  })

  it('says so when the network does not answer, and keeps retrying', async () => {
    const offline = await serveVisualizer({
      port: 0,
      config: { supabaseUrl: 'http://127.0.0.1:9', anonKey: gw.keys.anonKey, chain: null, webUrl: null, visualizerUrl: null },
    })
    const page = await browser.context.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    try {
      await page.goto(offline.url)
      await page.waitForSelector('[data-testid="wall-screen"][data-phase="unreachable"]', { timeout: 15_000 })
      const status = await page.textContent('[data-testid="network-status"]')
      expect(status).toContain("The network's API at http://127.0.0.1:9 does not answer")
      expect(status).toMatch(/Retrying in \d+ s/)
      await page.screenshot({ path: path.join(ARTIFACTS, 'wall-screen-unreachable.png') })
      expect(pageErrors).toEqual([])
    } finally {
      await page.close()
      await offline.close()
    }
  })
})
