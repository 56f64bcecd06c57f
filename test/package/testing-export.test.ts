/**
 * `netcheck/testing` as a user meets it: this file imports nothing of netcheck but that export
 * (and the user's own workflow module), and tests a workflow that runs `networkCheck` as a child
 * against the in-process simulator. The Temporal server is the run's shared dev server, reached
 * as a TestWorkflowEnvironment would reach any existing one.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestWorker, startTestSimulator, type TestSimulator } from '../../testing/index.js';
import { approveTransfer } from './fixtures/fraud-workflows.js';

const SWAPPED = '+447700900101';
const UNCHANGED = '+447700900102';
const REFUSES = '+447700900103';

// Warnings and errors only: the worker's state changes would bury them.
Runtime.install({ logger: new DefaultLogger('WARN') });

let testEnv: TestWorkflowEnvironment;
let simulator: TestSimulator;

beforeAll(async () => {
  testEnv = await TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
  simulator = await startTestSimulator({
    scenarios: {
      numbers: {
        [SWAPPED]: { lastSimChangeHoursAgo: 2 },
        [UNCHANGED]: { lastSimChangeHoursAgo: 2_000 },
      },
    },
  });
  simulator.addScenarios({ numbers: { [REFUSES]: { denied: true, pendingPolls: 1 } } });
});

afterAll(async () => {
  await simulator?.close();
  await testEnv?.teardown();
});

describe('a user workflow that runs networkCheck as a child', () => {
  it('decides from the SIM Swap answers the simulator was given', { timeout: 120_000 }, async () => {
    const taskQueue = `fraud-${randomUUID()}`;
    const worker = await createTestWorker(simulator, {
      connection: testEnv.nativeConnection,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./fixtures/fraud-workflows.ts', import.meta.url)),
    });
    const decide = (msisdn: string) =>
      testEnv.client.workflow.execute(approveTransfer, {
        taskQueue,
        workflowId: `transfer-${randomUUID()}`,
        args: [msisdn],
      });
    const decisions = await worker.runUntil(
      Promise.all([decide(SWAPPED), decide(UNCHANGED), decide(REFUSES)]),
    );
    expect(decisions).toEqual(['hold', 'approve', 'review']);

    // The checks went through the in-process simulator, by the CIBA rules.
    for (const msisdn of [SWAPPED, UNCHANGED, REFUSES]) {
      const stats = simulator.stats(msisdn);
      expect(Object.keys(stats.requests).some((endpoint) => endpoint.includes('bc-authorize'))).toBe(true);
      expect(Object.values(stats.violations).every((count) => count === 0)).toBe(true);
    }
    expect(Object.keys(simulator.stats(SWAPPED).requests).some((e) => e.includes('sim-swap'))).toBe(true);
  });

  it('gives each test a fresh key pair and application', async () => {
    const other = await startTestSimulator();
    try {
      expect(other.vonage.applicationId).not.toBe(simulator.vonage.applicationId);
      expect(other.vonage.privateKey.asymmetricKeyType).toBe('rsa');
      expect(other.url).not.toBe(simulator.url);
      // A plugin built for one simulator signs with that simulator's key.
      expect(other.plugin().name).toBe('netcheck');
    } finally {
      await other.close();
    }
  });
});
