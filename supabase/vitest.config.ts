import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Projects run one after another (supabase, model, node-client): each sizes its own
    // parallelism for the 2-core machine, and vitest needs distinct groups for that.
    sequence: { groupOrder: 0 },
    name: 'supabase',
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    // Each file gets its own databases; the concurrency test opens 64+ connections, so cap the
    // files running at once on a 2-core machine.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
