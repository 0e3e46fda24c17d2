import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

/** Debian's chromium (`apt-get install -y chromium`); CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** What our machines need (see shared notes, "Web"): no sandbox as root, no GPU, no network chatter. */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface HeadlessChromium {
  context: BrowserContext
  close(): Promise<void>
}

/** Headless Chromium with a fresh user-data dir (removed on close). */
export async function launchChromium(options: { width?: number; height?: number } = {}): Promise<HeadlessChromium> {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'oblivion-chromium-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ARGS,
      viewport: { width: options.width ?? 1600, height: options.height ?? 900 },
    })
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true })
    throw new Error(`Could not start Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH): ${(error as Error).message}`)
  }
  return {
    context,
    async close() {
      await context.close().catch(() => {})
      await rm(userDataDir, { recursive: true, force: true })
    },
  }
}
