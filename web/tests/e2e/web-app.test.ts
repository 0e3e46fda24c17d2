import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { parseJobSpec, prepareJobData, useBackend } from '@oblivion/model'
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import * as ort from 'onnxruntime-node'
import WebSocket from 'ws'
import type { Download, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalNetwork } from '../../../node-client/src/network/local-network.ts'
import { tempDir } from '../../../node-client/tests/support/run-cli.ts'
import { launchChromium, type Chromium } from '../support/chromium.ts'
import { injectWallet, type InjectedWallet } from '../support/injected-wallet.ts'
import { argmaxRows, maxAbsDifference } from '../../../model/tests/support/array-compare.ts'
import { forwardMlp } from '../../../model/tests/support/mlp-forward.ts'
import { weightsFromKerasH5, weightsFromPickle, weightsFromTorchPt } from '../support/model-files.ts'
import { waitUntil } from '../support/web-stack.ts'

/**
 * Issue 6's acceptance run in Chromium against `npm start`'s stack (LocalNetwork: the database,
 * gateway and anvil process, the coordinator, one bonded CLI worker, the built web app and the
 * visualizer). A person with a wallet (dev account 3, injected EIP-1193 provider, on another
 * network at first) switches to the local chain, declines and then signs the SIWE message, sees
 * the dashboard's numbers and the form's validation, creates and funds a job from the form,
 * turns on the browser worker, which trains shards beside the CLI worker; the job completes; the
 * network page shows the browser worker, the CLI worker and the job, and loses the browser worker
 * when it stops; the job page shows the rounds and the settlement transaction; every download is
 * the real format: the ONNX file gives the argmax of the TF.js file on the held-out digits, and
 * the HDF5, PyTorch and pickle files, read as Keras, torch and pickle read them, the same outputs. A screenshot of each page lands in web/test-artifacts/, and
 * any console error fails the test.
 */
const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts')
const PERSON = 3

let network: LocalNetwork
let removeHome: () => Promise<void>
let chromium: Chromium
let page: Page
let errors: string[]
let wallet: InjectedWallet
let webUrl: string

const logs = () => `--- page errors\n${errors.join('\n')}\n--- network\n${network.services.map((s) => `${s.name}: ${s.state} ${s.notes ?? ''}`).join('\n')}`
const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true })
const attribute = (testId: string, name: string) => page.getByTestId(testId).getAttribute(name).catch(() => null)

beforeAll(async () => {
  // Not emptied first: other browser tests (marketplace.test.ts) save their screenshots beside these.
  await mkdir(ARTIFACTS, { recursive: true })
  const home = await tempDir('oblivion-web-e2e-')
  removeHome = home.remove
  network = new LocalNetwork({ home: home.dir, port: 0, chainPort: 0, chain: true, reset: false, workers: 1, webPort: 0, visualizerPort: 0, pollSeconds: 1 })
  await network.start()
  webUrl = network.publicConfig!.webUrl!
  const chain = network.chain!
  chromium = await launchChromium()
  ;({ page, errors } = await chromium.newPage())
  page.setDefaultTimeout(30_000)
  // The wallet starts on Ethereum mainnet: the page must offer to switch to the local chain.
  wallet = await injectWallet(page, { privateKey: chain.accounts[PERSON]!.privateKey, rpcUrl: chain.rpcUrl, chainId: chain.chainId, startChainId: 1 })
}, 300_000)

afterAll(async () => {
  await chromium?.close()
  await network?.stop()
  await removeHome?.()
})

describe('the web app on the local network', () => {
  it('signs in, creates and funds a job from the form, trains it with the browser and CLI workers, and serves every format', async () => {
    // Dashboard: the network's live numbers (the CLI worker is online, nothing queued yet).
    await page.goto(webUrl)
    await expect.poll(() => page.getByTestId('workers-online').innerText(), { timeout: 30_000 }).toMatch(/^1\s+workers online \(0 browser, 1 CLI\)/)
    expect(await page.getByTestId('jobs-running').innerText()).toMatch(/^0\s+jobs running/)
    await shot('dashboard')
    // The wallet: on another network the page offers the local chain; a declined signature says
    // what to do, then sign in.
    await page.getByTestId('connect-wallet').click()
    await page.getByTestId('switch-chain').click()
    await expect.poll(() => wallet.chainId).toBe(network.chain!.chainId)
    wallet.rejectNext('personal_sign')
    await page.getByTestId('sign-in').click()
    await expect.poll(() => page.getByTestId('wallet-problem').innerText()).toMatch(/declined the sign-in signature/i)
    await page.getByTestId('sign-in').click()
    await page.getByTestId('signed-in').waitFor()

    // The form: a bad field is named under itself; then a small MNIST job, funded from the wallet.
    await page.goto(`${webUrl}/jobs/new`)
    await page.getByTestId('job-form').waitFor()
    await page.getByTestId('field-training.batchSize').fill('0')
    await page.getByTestId('create-job-submit').click()
    await page.getByTestId('error-training.batchSize').waitFor()
    await shot('create-job-validation')
    await page.getByTestId('field-name').fill('Digits from the browser')
    await page.getByTestId('field-training.batchSize').fill('32')
    await page.getByTestId('error-training.batchSize').waitFor({ state: 'detached' })
    await page.getByTestId('field-training.rounds').fill('3')
    await page.getByTestId('field-training.shards').fill('4')
    await page.getByTestId('field-training.localEpochs').fill('1')
    await page.getByTestId('field-privacy').selectOption('none')
    await page.getByTestId('field-reward').fill('0.8')
    await shot('create-job')
    // The CLI worker waits until the browser worker holds a shard: otherwise it may train them all.
    const cli = network.workerProcesses[0]!
    cli.child.kill('SIGSTOP')
    await page.getByTestId('create-job-submit').click()
    await page.getByTestId('job-page').waitFor({ timeout: 60_000 })
    const jobId = (await page.getByTestId('job-page').getAttribute('data-job-id'))!
    await expect.poll(() => attribute('escrow-status', 'data-status'), { timeout: 30_000 }).toMatch(/funded|started/)

    // The browser worker: bond through its stake notice, then train beside the CLI worker.
    await page.goto(`${webUrl}/worker`)
    await page.getByTestId('browser-worker-toggle').click()
    // This wallet has no bond: the panel says so and offers to bond (the stake rule of claim_task).
    const stake = page.getByTestId('stake-notice')
    await waitUntil('the stake notice', async () => (await stake.getAttribute('data-covered').catch(() => null)) === 'false', 60_000, logs)
    await page.getByTestId('bond-amount').fill('1')
    await page.getByTestId('bond-submit').click()
    await page.getByTestId('bond-tx').waitFor()
    await waitUntil('the bond mirrored and covering', async () => (await stake.getAttribute('data-covered')) === 'true', 60_000, logs)
    // While it trains (the CLI worker still paused, so the job is surely running), the network
    // page in a second tab shows the coordinator's job and both kinds of workers.
    let topology!: Page
    let topologyErrors: string[] = []
    try {
      await waitUntil('the browser worker training a shard', async () => (await attribute('browser-worker-status', 'data-status')) === 'training', 120_000, logs)
      // On TF.js' WebAssembly backend: the panel names the cpu fallback only when it happens.
      expect(await page.getByTestId('browser-worker-backend').count()).toBe(0)
      await shot('browser-worker')
      const second = await chromium.newPage()
      topology = second.page
      topologyErrors = second.errors
      await topology.goto(`${webUrl}/network`)
      const graph = topology.getByTestId('network-graph')
      await graph.waitFor({ state: 'attached' })
      const counts = async () => ({
        browser: Number(await graph.getAttribute('data-browser-workers')),
        cli: Number(await graph.getAttribute('data-cli-workers')),
        jobs: Number(await graph.getAttribute('data-jobs')),
      })
      await expect.poll(counts, { timeout: 30_000 }).toMatchObject({ browser: 1, cli: 1, jobs: 1 })
      await topology.screenshot({ path: path.join(ARTIFACTS, 'network.png'), fullPage: true })
      // The operators' wall screen, served by the same network, sees the same three.
      const wall = await chromium.newPage()
      await wall.page.goto(network.publicConfig!.visualizerUrl!)
      await wall.page.waitForSelector('[data-testid="wall-screen"][data-phase="live"][data-coordinator="present"]', { timeout: 30_000 })
      await wall.page.waitForSelector('[data-testid="network-graph"][data-browser-workers="1"][data-cli-workers="1"][data-jobs="1"]', { timeout: 30_000 })
      await wall.page.screenshot({ path: path.join(ARTIFACTS, 'visualizer-live.png') })
      expect(wall.errors, 'the wall screen').toEqual([])
      await wall.page.close()
    } finally {
      cli.child.kill('SIGCONT')
    }
    await waitUntil('a shard trained in the browser', async () => Number(await page.getByTestId('browser-worker-tasks-done').innerText().catch(() => '0')) >= 1, 240_000, logs)

    // Back on the job: it completes live; the browser and the CLI worker both delivered shards.
    await page.goto(`${webUrl}/jobs/${jobId}`)
    await expect.poll(() => attribute('job-status', 'data-status'), { timeout: 240_000, interval: 1_000 }).toBe('completed')
    // Leaving /worker ended the browser worker: the open network tab drops it.
    await expect.poll(async () => Number(await topology.getByTestId('network-graph').getAttribute('data-browser-workers')), { timeout: 60_000 }).toBe(0)
    const byKind = await tasksByKind(jobId)
    expect(byKind.browser, JSON.stringify(byKind)).toBeGreaterThanOrEqual(1)
    expect(byKind.cli, JSON.stringify(byKind)).toBeGreaterThanOrEqual(1)
    // The rounds as they were aggregated (Realtime), each with its held-out accuracy, and the
    // coordinator's settlement transaction once it is mined.
    for (const round of [1, 2, 3]) {
      await expect.poll(() => attribute(`round-row-${round}`, 'data-status'), { timeout: 30_000 }).toBe('aggregated')
      expect(await page.getByTestId(`round-accuracy-${round}`).innerText()).toMatch(/^\d+(\.\d+)? %$/)
    }
    await page.getByTestId('rounds-chart').waitFor()
    await expect.poll(() => attribute('settlement-status', 'data-status'), { timeout: 90_000 }).toBe('confirmed')
    expect(await page.getByTestId('settlement-tx').innerText()).toMatch(/^0x[0-9a-f]{4}/)

    // Downloads: each format is the real thing.
    const files = new Map<string, Buffer>()
    for (const format of ['tfjs', 'onnx', 'h5', 'pt', 'pkl'] as const) {
      const expected = format === 'tfjs' ? 2 : 1
      const downloads: Download[] = []
      const onDownload = (d: Download) => downloads.push(d)
      page.on('download', onDownload)
      await page.getByTestId(`download-${format}`).click()
      await waitUntil(`${format} downloaded`, async () => downloads.length >= expected, 30_000, logs)
      page.off('download', onDownload)
      for (const d of downloads) files.set(d.suggestedFilename(), await readFile((await d.path())!))
    }
    await shot('job-completed')
    const names = [...files.keys()]
    const file = (pattern: RegExp) => files.get(names.find((n) => pattern.test(n))!)!
    const { features, count, tfjsOutputs } = await expectSameArgmax(file(/\.json$/), file(/\.bin$/), file(/\.onnx$/), jobId)
    // The Keras, PyTorch and pickle files hold the same network: read as their consumers read them, they predict alike.
    const h5 = await weightsFromKerasH5(new Uint8Array(file(/\.h5$/)))
    const fromFiles = {
      h5,
      pt: weightsFromTorchPt(new Uint8Array(file(/\.pt$/)), h5.layers.map((l) => l.activation)),
      pkl: weightsFromPickle(new Uint8Array(file(/\.pkl$/))),
    }
    for (const [format, weights] of Object.entries(fromFiles)) {
      const outputs = forwardMlp(weights, features, count)
      expect(argmaxRows(outputs, 10), format).toEqual(argmaxRows(tfjsOutputs, 10))
      expect(maxAbsDifference(outputs, tfjsOutputs), format).toBeLessThan(1e-4)
    }

    expect([...errors, ...topologyErrors], logs()).toEqual([])
  }, 600_000)
})

/** supabase-js as the coordinator uses it (the service_role key from the network's home). */
async function serviceClient(): Promise<SupabaseClient> {
  const keys = JSON.parse(await readFile(path.join(network.options.home, 'gateway.json'), 'utf8')) as { serviceRoleKey: string }
  return createClient(network.gateway!.url, keys.serviceRoleKey, { auth: { persistSession: false }, realtime: { transport: WebSocket as never } })
}

/** Accepted tasks of the job per worker kind. */
async function tasksByKind(jobId: string): Promise<Record<string, number>> {
  const client = await serviceClient()
  const { data, error } = await client.from('task_results').select('worker_id').eq('job_id', jobId)
  if (error) throw new Error(error.message)
  const results = data as { worker_id: string }[]
  const { data: workers, error: workerError } = await client.from('workers').select('id, kind').in('id', [...new Set(results.map((r) => r.worker_id))])
  if (workerError) throw new Error(workerError.message)
  const kindOf = new Map((workers as { id: string; kind: string }[]).map((w) => [w.id, w.kind]))
  const counts: Record<string, number> = {}
  for (const r of results) counts[kindOf.get(r.worker_id)!] = (counts[kindOf.get(r.worker_id)!] ?? 0) + 1
  return counts
}

/**
 * The downloaded ONNX file and TF.js files give the same class for every held-out digit of the
 * job; returns those digits and the TF.js model's outputs for the other formats to match.
 */
async function expectSameArgmax(modelJson: Buffer, weights: Buffer, onnx: Buffer, jobId: string): Promise<{ features: Float32Array; count: number; tfjsOutputs: Float32Array }> {
  await useBackend('cpu')
  const { data: job, error } = await (await serviceClient()).from('jobs').select('spec').eq('id', jobId).single()
  if (error) throw new Error(error.message)
  const spec = parseJobSpec((job as { spec: unknown }).spec)
  const test = (await prepareJobData(spec, jobId, { readObject: () => Promise.reject(new Error('builtin data set')) })).test
  const x = tf.tensor2d(test.features, [test.count, test.featureCount])
  const manifest = JSON.parse(modelJson.toString('utf8')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] }
  const tfjsModel = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs: manifest.weightsManifest[0]!.weights, weightData: new Uint8Array(weights).slice().buffer }),
  )
  const predicted = tfjsModel.predict(x) as tf.Tensor
  const tfjsOutputs = (await predicted.data()) as Float32Array
  const expected = Array.from(await predicted.argMax(1).data())
  const session = await ort.InferenceSession.create(new Uint8Array(onnx))
  const output = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(test.features), [test.count, test.featureCount]) })
  const probabilities = output[session.outputNames[0]!]!.data as Float32Array
  const classes = probabilities.length / test.count
  const onnxArgmax = Array.from({ length: test.count }, (_, i) => {
    const row = probabilities.subarray(i * classes, (i + 1) * classes)
    return row.indexOf(Math.max(...row))
  })
  expect(onnxArgmax).toEqual(expected)
  expect(test.count).toBeGreaterThan(100)
  return { features: Float32Array.from(test.features), count: test.count, tfjsOutputs }
}
