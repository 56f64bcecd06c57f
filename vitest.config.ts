import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file runs in its own process: Temporal workers hold native resources.
    pool: 'forks',
    poolOptions: { forks: { singleFork: false } },
    // One dev server and one simulator for the whole run; workflow code bundled once.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
