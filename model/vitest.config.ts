import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Projects run one after another (supabase, model, node-client): each sizes its own
    // parallelism for the 2-core machine, and vitest needs distinct groups for that.
    sequence: { groupOrder: 1 },
    name: 'model',
    include: ['tests/**/*.test.ts'],
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
