import { defineConfig } from 'vitest/config';

/**
 * Two tiers. `unit`: pure code, the simulator, activities against the simulator, the CLI's
 * parsing, the codec: no Temporal server and no workflow bundles (`npm run test:unit`, well under
 * a minute). `integration`: everything that needs the shared dev server, the simulator and the
 * workflow bundles that test/support/global-setup.ts starts once per run. `npm test` runs both.
 */
const UNIT = [
  'test/activities/**/*.test.ts',
  'test/batch/bulk-state.test.ts',
  'test/batch/input.test.ts',
  'test/batch/send-page.test.ts',
  'test/batch/state.test.ts',
  'test/cli/defaults.test.ts',
  'test/cli/input-ports.test.ts',
  'test/deploy/compose.test.ts',
  'test/package/boundaries.test.ts',
  'test/package/errors.test.ts',
  'test/package/patches.test.ts',
  'test/security/codec-server.test.ts',
  'test/security/codec.test.ts',
  'test/simulator/**/*.test.ts',
  'test/unit/**/*.test.ts',
  'test/worker-config.test.ts',
];

export default defineConfig({
  test: {
    // Each test file runs in its own process: Temporal workers hold native resources.
    pool: 'forks',
    poolOptions: { forks: { singleFork: false } },
    // Most of a test's time is spent waiting on durable timers, CIBA intervals and the simulator,
    // not on the CPU: several files at once (vitest's default is one fewer than the cores, i.e.
    // one at a time on a 2-core machine). NETCHECK_TEST_WORKERS overrides.
    maxWorkers: Number(process.env.NETCHECK_TEST_WORKERS) || 4,
    minWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: UNIT,
          // One dev server and one simulator for the whole run; workflow code bundled once.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
