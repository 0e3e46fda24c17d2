import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { devAccounts } from '@oblivion/contracts'
import type { Page } from 'playwright-core'
import { launchChromium } from '../tests/support/chromium.ts'
import { injectWallet } from '../tests/support/injected-wallet.ts'
import { WebStack, waitUntil } from '../tests/support/web-stack.ts'

/**
 * `npm run bench:browser-worker` — prints JSON: local-training samples/s of the browser worker
 * (the web app's Web Worker in headless Chromium, TF.js wasm without threads) against the CLI
 * worker (`oblivion worker` in Node, TF.js wasm) on the SAME shard: one job (same spec, same job
 * id, so the same split, normalisation and shard 0), one shard, 2 × tasks rounds; the browser
 * trains the first half of the rounds, the CLI the second. Each side's first task pays its
 * warm-up (kernel compilation), so the headline numbers are the median of each side's other
 * tasks. Samples/s = steps × batch size / training seconds, as the worker core reports it and as
 * bench:train counts.
 *
 * Runs on its own local network (gateway on in-memory PGlite, coordinator without a chain, the
 * built web app): `npm run build -w web` first. Options: --spec <file in sample_job/jobs>
 * (default mnist.json, DP-SGD), --epochs <local epochs> (default 2), --tasks <per side> (default 3).
 */
const { values } = parseArgs({
  options: { spec: { type: 'string', default: 'mnist.json' }, epochs: { type: 'string', default: '2' }, tasks: { type: 'string', default: '3' } },
})
const TASKS = Math.max(2, Number(values.tasks))
const ROUNDS = 2 * TASKS
// anvil's dev account 7: only its signature is used (Sign-In with Ethereum); no chain runs here.
const DEV_KEY = devAccounts(8)[7]!.privateKey

async function browserRates(page: Page, count: number, stack: WebStack): Promise<number[]> {
  const rates: number[] = []
  for (let done = 1; done <= count; done++) {
    await waitUntil(`browser task ${done}`, async () => Number(await page.getByTestId('browser-worker-tasks-done').innerText()) >= done, 300_000, () => stack.logs())
    rates.push(Number(await page.getByTestId('browser-worker-samples-per-second').getAttribute('data-value')))
    // Drain once the last task is claimed, so the browser never takes the CLI's rounds.
    if (done === count - 1) {
      await waitUntil('the browser training its last task', async () => (await page.getByTestId('browser-worker-status').getAttribute('data-status')) === 'training', 120_000, () => stack.logs())
      await page.getByTestId('browser-worker-toggle').click()
    }
  }
  return rates
}

const stack = await WebStack.start({ chain: false })
const chromium = await launchChromium()
try {
  stack.coordinator()
  const { page, errors } = await chromium.newPage()
  await injectWallet(page, { privateKey: DEV_KEY, rpcUrl: 'http://127.0.0.1:9', chainId: 8119 })
  await page.goto(`${stack.webUrl}/worker`)
  await page.getByTestId('connect-wallet').click()
  await page.getByTestId('sign-in').click()
  await page.getByTestId('signed-in').waitFor({ timeout: 30_000 })
  await page.getByTestId('browser-worker-toggle').click()
  await waitUntil('the browser worker idle', async () => (await page.getByTestId('browser-worker-status').getAttribute('data-status')) === 'idle', 120_000, () => stack.logs())
  const backend = (await page.getByTestId('browser-worker-backend').count()) > 0 ? 'cpu' : 'wasm'

  const spec = await stack.sampleSpec(values.spec!, (s) => {
    s.training = { ...s.training, rounds: ROUNDS, shards: 1, localEpochs: Number(values.epochs) }
    // One shard of the whole training set moves the weights further than the sample's bound
    // (sized for 4 shards); the bench measures speed, so no update may be refused.
    if (s.aggregation) delete s.aggregation.updateNormBound
  })
  const specFile = path.join(stack.home, 'bench-job.json')
  await writeFile(specFile, JSON.stringify(spec))
  const created = await stack.run(['job', 'create', specFile, '--no-fund'])
  const jobId = String(created.find((line) => line.type === 'job-created')!.id)

  const browser = await browserRates(page, TASKS, stack)
  await waitUntil('the browser worker off', async () => (await page.getByTestId('browser-worker-status').getAttribute('data-status')) === 'off', 60_000, () => stack.logs())

  const cli = stack.worker('bench-cli')
  const completed = await waitUntil(`the CLI worker training rounds ${TASKS + 1}–${ROUNDS}`, async () => {
    const lines = cli.lines.filter((line) => line.type === 'completed')
    return lines.length >= TASKS ? lines : undefined
  }, 600_000, () => stack.logs())
  const cliRates = completed.map((line) => Number(line.samplesPerSecond))

  const { rows } = await stack.gateway.db.query<{ round: number; kind: string; sample_count: number; steps: number }>(
    `select r.round, w.kind, r.sample_count, (r.metrics->>'steps')::int as steps
       from public.task_results r join public.workers w on w.id = r.worker_id join public.tasks t on t.id = r.task_id
      where r.job_id = $1 and t.shard_index = 0 order by r.round`,
    [jobId],
  )
  const expected = [...Array<string>(TASKS).fill('browser'), ...Array<string>(TASKS).fill('cli')].join()
  if (rows.map((r) => r.kind).join() !== expected) throw new Error(`unexpected trainers per round: ${JSON.stringify(rows)}`)
  if (errors.length) throw new Error(`the page logged errors:\n${errors.join('\n')}`)

  const round = (n: number) => Math.round(n)
  const warmMedian = (rates: number[]) => {
    const warm = rates.slice(1).sort((a, b) => a - b)
    return warm.length % 2 ? warm[(warm.length - 1) / 2]! : (warm[warm.length / 2 - 1]! + warm[warm.length / 2]!) / 2
  }
  const browserRate = warmMedian(browser)
  const cliRate = warmMedian(cliRates)
  console.log(
    JSON.stringify(
      {
        shard: {
          jobId,
          spec: values.spec,
          shardIndex: 0,
          examples: rows[0]!.sample_count,
          stepsPerTask: rows[0]!.steps,
          batchSize: spec.training.batchSize,
          localEpochs: spec.training.localEpochs,
          dpSgd: spec.privacy !== undefined,
        },
        browserBackend: backend,
        cliBackend: 'wasm',
        // Per task, in round order (the browser's rounds first): the first of each side pays the warm-up.
        browserPerTask: browser.map(round),
        cliPerTask: cliRates.map(round),
        browserSamplesPerSecond: round(browserRate),
        cliSamplesPerSecond: round(cliRate),
        ratio: Number((browserRate / cliRate).toFixed(3)),
      },
      null,
      2,
    ),
  )
} finally {
  await chromium.close()
  await stack.close()
}
