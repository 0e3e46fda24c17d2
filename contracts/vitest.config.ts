import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Projects run one after another (supabase, model, node-client, contracts): each sizes its
    // own parallelism for the 2-core machine, and vitest needs distinct groups for that.
    sequence: { groupOrder: 3 },
    name: 'contracts',
    include: ['tests/**/*.test.ts'],
    // Tests start anvil chains and spawn the deploy command (tsx compiles on start, ~1 s each).
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
