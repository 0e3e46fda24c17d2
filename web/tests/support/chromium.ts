import type { BrowserContext, Page } from 'playwright-core'
import { launchChromium as launchHeadlessChromium } from '../../../visualizer/tests/support/headless-chromium.ts'

export interface Chromium {
  context: BrowserContext
  /**
   * A new tab that records console errors and uncaught exceptions (the page's and its Web
   * Workers'), so a test can fail on them, and the HTTP responses ≥ 400 that say which request a
   * console "Failed to load resource" was.
   */
  newPage(): Promise<{ page: Page; errors: string[]; failedResponses: string[] }>
  close(): Promise<void>
}

/** Headless Chromium with a fresh profile (the visualizer's launcher: our machines' flags). */
export async function launchChromium(): Promise<Chromium> {
  const { context, close } = await launchHeadlessChromium()
  // Functions handed to the page (evaluate, addInitScript) travel as their source text. Under tsx
  // (scripts, benches) that text calls esbuild's keepNames helper `__name`, which pages lack.
  await context.addInitScript('globalThis.__name ??= (target) => target')
  return {
    context,
    async newPage() {
      const page = await context.newPage()
      const errors: string[] = []
      const failedResponses: string[] = []
      // A dedicated worker's console messages reach the page's console event too (worker() set).
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`${message.worker() ? 'worker ' : ''}console: ${message.text()}`)
      })
      page.on('pageerror', (error) => errors.push(`page error: ${error.message}`))
      page.on('response', (response) => {
        if (response.status() >= 400) failedResponses.push(`${new Date().toISOString()} ${response.status()} ${response.request().method()} ${response.url()}`)
      })
      return { page, errors, failedResponses }
    },
    close,
  }
}
