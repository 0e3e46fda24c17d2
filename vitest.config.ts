import { defineConfig } from 'vitest/config'

// `npm test` runs every workspace package that has a vitest.config.ts, then the web app's
// browser tests (web/vitest.e2e.config.ts).
export default defineConfig({
  test: {
    projects: ['*/vitest.config.ts', 'web/vitest.e2e.config.ts'],
  },
})
