import { defineConfig } from 'vitest/config'

// `npm test` runs every workspace package that has a vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['*/vitest.config.ts'],
  },
})
