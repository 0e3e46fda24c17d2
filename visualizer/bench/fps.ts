/**
 * `npm run bench:visualizer`: frames per second of the wall screen in headless Chromium, on
 * the synthetic network (/?synthetic=N: N workers, live lease churn, no network needed), at 500
 * and 2,000 workers. Prints JSON. Frames are counted with requestAnimationFrame over the
 * measured window, after a warm-up in which the first layout runs.
 *
 *   npm run -s bench:visualizer [-- --sizes 500,2000 --seconds 5 --warmup 3]
 */
import { parseArgs } from 'node:util'
import { launchChromium } from '../tests/support/headless-chromium.ts'
import { ensureVisualizerBuilt, serveVisualizer } from '../src/serve.ts'

const USAGE = `Usage: npm run -s bench:visualizer [-- --sizes 500,2000 --seconds 5 --warmup 3]

Frames per second of the visualizer's synthetic network in headless Chromium (/usr/bin/chromium,
or CHROMIUM_PATH). Builds the visualizer first if its build is missing or stale. Prints JSON.`

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        sizes: { type: 'string', default: '500,2000' },
        seconds: { type: 'string', default: '5' },
        warmup: { type: 'string', default: '3' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    })
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
})()
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const sizes = values.sizes.split(',').map(Number)
const seconds = Number(values.seconds)
const warmup = Number(values.warmup)
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !(seconds > 0) || !(warmup >= 0)) {
  console.error(`--sizes takes whole numbers, --seconds and --warmup positive numbers.\n\n${USAGE}`)
  process.exit(2)
}

/**
 * The page-side counter, as source text: tsx would wrap a function passed to page.evaluate with
 * helpers (__name) that do not exist in the page.
 */
function countFrames(ms: number): string {
  return `new Promise((resolve) => {
    const frames = []
    const start = performance.now()
    const frame = (now) => {
      frames.push(now)
      if (now - start < ${ms}) requestAnimationFrame(frame)
      else {
        const gaps = frames.slice(1).map((t, i) => t - frames[i]).sort((a, b) => a - b)
        const seconds = (frames[frames.length - 1] - frames[0]) / 1000
        resolve({ fps: (frames.length - 1) / seconds, p95FrameMs: gaps[Math.floor(gaps.length * 0.95)] ?? null, maxFrameMs: gaps[gaps.length - 1] ?? null, frames: frames.length - 1 })
      }
    }
    requestAnimationFrame(frame)
  })`
}

await ensureVisualizerBuilt({ onBuild: (message) => console.error(message) })
const server = await serveVisualizer({
  port: 0,
  config: { supabaseUrl: 'http://127.0.0.1:9', anonKey: 'unused-in-synthetic-mode', chain: null, webUrl: null, visualizerUrl: null },
})
const browser = await launchChromium({ width: 1920, height: 1080 })
const result: Record<string, unknown> = {}
try {
  for (const size of sizes) {
    const page = await browser.context.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(`${server.url}/?synthetic=${size}`)
    await page.waitForSelector(`[data-testid="network-graph"][data-workers="${size}"]`, { timeout: 30_000 })
    await page.waitForTimeout(warmup * 1000)
    const measured = (await page.evaluate(countFrames(seconds * 1000))) as { fps: number; p95FrameMs: number | null; maxFrameMs: number | null; frames: number }
    const links = await page.getAttribute('[data-testid="network-graph"]', 'data-lease-links')
    result[`fps${size}`] = Math.round(measured.fps * 10) / 10
    result[`p95FrameMs${size}`] = measured.p95FrameMs && Math.round(measured.p95FrameMs * 10) / 10
    result[`maxFrameMs${size}`] = measured.maxFrameMs && Math.round(measured.maxFrameMs * 10) / 10
    result[`leaseLinks${size}`] = Number(links)
    if (errors.length) result[`errors${size}`] = errors
    await page.close()
  }
  result.seconds = seconds
  result.viewport = '1920x1080'
  result.chromium = browser.context.browser()?.version() ?? null
  result.note = 'headless Chromium, --disable-gpu (software canvas); synthetic lease churn every 500 ms'
  console.log(JSON.stringify(result, null, 2))
} finally {
  await browser.close()
  await server.close()
}
