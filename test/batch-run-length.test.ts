/**
 * A batch run's history stays short enough to replay inside one workflow task: the run ends
 * (drains, continues as new) when Temporal suggests it, not only after `continueAsNewAfter`
 * checks. Its own dev server, whose suggestion comes after 40 events instead of ~4,000, so a
 * 20-check batch crosses it; the shared simulator. The batch's workflow task timeout, set at
 * start, survives continue-as-new.
 */
import { createPrivateKey } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBatch } from '../client/batch.js';
import type { BatchRecord } from '../domain/batch.js';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import { netcheckPlugin } from '../worker/index.js';
import { addScenarios, uniqueNumber, uniqueTaskQueue } from './support/harness.js';

const SUGGEST_AFTER_EVENTS = 40;

describe('a batch run ends when Temporal suggests continue-as-new', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('run-length');

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: inject('temporalCliPath') },
        ip: '127.0.0.1',
        searchAttributes: [...SEARCH_ATTRIBUTES],
        extraArgs: [
          '--headless',
          '--log-level',
          'error',
          '--dynamic-config-value',
          `limit.historyCount.suggestContinueAsNew=${SUGGEST_AFTER_EVENTS}`,
        ],
      },
    });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      plugins: [
        netcheckPlugin({
          applicationId: inject('applicationId'),
          privateKey: createPrivateKey(inject('privateKeyPem')),
          baseUrl: inject('simulatorUrl'),
        }),
      ],
    });
    running = worker.run();
  }, 60_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  it('splits a 20-check batch into short runs, each check recorded once', async () => {
    const numbers = Array.from({ length: 20 }, () => uniqueNumber());
    await addScenarios(inject('simulatorUrl'), {
      numbers: Object.fromEntries(numbers.map((n) => [n, { connectivity: 'CONNECTED_DATA' as const }])),
    });
    const batchId = `run-length-${Date.now()}`;
    const batch = await startBatch(
      env.client,
      numbers.map((msisdn) => ({ msisdn, operations: ['device-connectivity' as const] })),
      { batchId, taskQueue, subjectKey: 'run-length-key', concurrency: 4 }, // continueAsNewAfter: 2,000
    );
    const records: BatchRecord[] = [];
    for await (const record of batch.results({ pollIntervalMs: 200 })) records.push(record);
    const summary = await batch.result();

    expect(records.map((r) => r.index).sort((a, b) => a - b)).toEqual(numbers.map((_, i) => i));
    expect(records.every((r) => r.outcome === 'ok')).toBe(true);
    expect(summary).toMatchObject({ state: 'completed', total: 20, done: 20 });
    // One run holding all 20 checks would be ~110 events long.
    expect(summary.runs).toBeGreaterThanOrEqual(2);
    const runs: { historyLength: number; workflowTaskTimeout: unknown }[] = [];
    for await (const run of env.client.workflow.list({ query: `WorkflowId = "${batchId}"` })) {
      const described = await env.client.workflow.getHandle(batchId, run.runId).describe();
      runs.push({
        historyLength: run.historyLength,
        workflowTaskTimeout: described.raw.executionConfig?.defaultWorkflowTaskTimeout?.seconds,
      });
    }
    expect(runs).toHaveLength(summary.runs);
    for (const run of runs) {
      // The suggestion, plus at most the drain of the 4 checks in flight and the records' page.
      expect(run.historyLength).toBeLessThan(SUGGEST_AFTER_EVENTS + 40);
      expect(Number(run.workflowTaskTimeout)).toBe(20);
    }
  }, 120_000);
});
