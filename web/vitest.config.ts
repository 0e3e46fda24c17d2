import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Projects run one after another, each sized for the 2-core machine; vitest needs distinct
    // groups for that (supabase 0, model 1, node-client 2, contracts 3).
    sequence: { groupOrder: 6 },
    name: 'web',
    // The pages' pure logic (spec form ↔ job spec, issue paths → fields, model files, CSV checks).
    // The Chromium end-to-end test lives beside it in tests/ with its own include.
    include: ['tests/unit/**/*.test.ts'],
    maxWorkers: 2,
    testTimeout: 30_000,
  },
})
