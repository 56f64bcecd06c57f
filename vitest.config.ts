import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file runs in its own process: Temporal workers hold native resources.
    pool: 'forks',
    poolOptions: { forks: { singleFork: false } },
    // Most of a test's time is spent waiting on durable timers, CIBA intervals and the simulator,
    // not on the CPU: several files at once (vitest's default is one fewer than the cores, i.e.
    // one at a time on a 2-core machine). NETCHECK_TEST_WORKERS overrides.
    maxWorkers: Number(process.env.NETCHECK_TEST_WORKERS) || 4,
    minWorkers: 1,
    // One dev server and one simulator for the whole run; workflow code bundled once.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
