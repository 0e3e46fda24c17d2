import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Projects run one after another, each sizing its own parallelism for the 2-core machine;
    // vitest needs a distinct group for each (supabase 0, model 1, node-client 2, contracts 3).
    sequence: { groupOrder: 5 },
    name: 'visualizer',
    include: ['tests/**/*.test.ts'],
    // The browser test starts a gateway on PGlite (reloaded from this template) and Chromium.
    globalSetup: ['../node-client/tests/support/global-setup.ts'],
    maxWorkers: 1,
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
})
