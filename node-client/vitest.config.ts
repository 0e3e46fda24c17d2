import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Projects run one after another (supabase, model, node-client): each sizes its own
    // parallelism for the 2-core machine, and vitest needs distinct groups for that.
    sequence: { groupOrder: 2 },
    name: 'node-client',
    include: ['tests/**/*.test.ts'],
    // The CLI tests spawn `oblivion` processes (tsx compiles on start, ~1 s each) and start a
    // gateway on PGlite (the template is built once per run): one file at a time on 2 cores.
    globalSetup: ['tests/support/global-setup.ts'],
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
})
