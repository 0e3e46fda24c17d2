import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // After every other project (supabase 0, model 1, node-client 2, contracts 3, visualizer 5,
    // web 6): these start whole networks and a Chromium, one file at a time.
    sequence: { groupOrder: 7 },
    name: 'web-e2e',
    // Headless Chromium against the real network: the web app is built once for the run, and
    // node-client's migrated PGlite template is made once for the tests that start their network
    // with its helpers (startTestGateway('pglite'): MarketplaceNetwork in marketplace.test.ts).
    include: ['tests/e2e/**/*.test.ts'],
    globalSetup: ['tests/support/build-once.ts', '../node-client/tests/support/global-setup.ts'],
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
})
