import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__tests__/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // The one-line entry points (main step, post step) run only inside the bundles, which the
      // end-to-end tests execute.
      exclude: ['src/index.ts', 'src/post.ts'],
      reporter: ['text', 'json-summary', 'lcov'],
      thresholds: { statements: 90, branches: 90, functions: 90, lines: 90 }
    }
  }
})
