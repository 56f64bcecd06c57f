/**
 * How a caller's application starts netcheck's runs: its own search attributes, memo, summary
 * and priority on the run beside netcheck's; a batch and its checks one priority step below a
 * check started on its own; the id policies (a failed run may run again on request; a running
 * one may be refused instead of attached to). Checked on the runs' own descriptions.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBatch } from '../../client/batch.js';
import { startCheck } from '../../client/index.js';
import { checkId } from '../../domain/batch-pages.js';
import { BATCH_PRIORITY_KEY } from '../../domain/priority.js';
import { NetcheckApi, NetcheckBatchId, NetcheckOperation } from '../../domain/search-attributes.js';
import { addScenarios, uniqueNumber, uniqueTaskQueue, useTestWorker } from '../support/harness.js';

const subjectKey = 'start-options-subject-key-of-at-least-32-bytes';
const CustomerTier = defineSearchAttributeKey('AppCustomerTier', SearchAttributeType.KEYWORD);
const ctx = useTestWorker('start-options');

beforeAll(async () => {
  // The application's own search attribute, registered on the namespace as it would register it.
  try {
    await ctx.env.client.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: {
        [CustomerTier.name]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      },
    });
  } catch (err) {
    if (!/already exists/i.test(String(err))) throw err;
  }
});

/** A check on a queue no worker polls: it stays running until the test terminates it. */
function parkedCheck(options: Parameters<typeof startCheck>[2] = {}) {
  return startCheck(
    ctx.env.client,
    { msisdn: uniqueNumber(), operation: 'sim-swap', maxAge: 24 },
    { taskQueue: uniqueTaskQueue('parked'), subjectKey, ...options },
  );
}

describe('a check started with the caller’s options', () => {
  it('carries its search attribute, memo, summary and priority beside netcheck’s own', async () => {
    const handle = await parkedCheck({
      typedSearchAttributes: [{ key: CustomerTier, value: 'gold' }],
      memo: { signupId: 'signup-8812' },
      staticSummary: 'signup 8812',
      priority: { priorityKey: 1, fairnessKey: 'tenant-acme' },
    });
    try {
      const run = await handle.describe();
      expect(run.typedSearchAttributes.get(CustomerTier)).toBe('gold');
      expect(run.typedSearchAttributes.get(NetcheckOperation)).toBe('sim-swap');
      expect(run.typedSearchAttributes.get(NetcheckApi)).toBe('camara');
      expect(run.memo).toEqual({ signupId: 'signup-8812' });
      expect(await run.staticSummary()).toBe('signup 8812');
      expect(run.priority).toMatchObject({ priorityKey: 1, fairnessKey: 'tenant-acme' });
    } finally {
      await handle.terminate('test done');
    }
  });

  it('keeps Temporal’s default priority when it names none (a batch runs one step below)', async () => {
    const handle = await parkedCheck();
    try {
      expect((await handle.describe()).priority?.priorityKey ?? 0).not.toBe(BATCH_PRIORITY_KEY);
    } finally {
      await handle.terminate('test done');
    }
  });

  /** Starts of one request (one number, one request id) on a queue no worker polls, with more options each time. */
  function sameRequest() {
    const requestId = randomUUID();
    const taskQueue = uniqueTaskQueue('parked');
    const msisdn = uniqueNumber();
    return (options: Parameters<typeof startCheck>[2] = {}) =>
      startCheck(
        ctx.env.client,
        { msisdn, operation: 'sim-swap', maxAge: 24 },
        { taskQueue, subjectKey, requestId, ...options },
      );
  }

  it('a request id whose run failed attaches to it by default, and runs again on request', async () => {
    const start = sameRequest();
    const first = await start();
    await first.terminate('a failed run (say, CONFIGURATION), fixed since');
    const firstRun = (await first.describe()).runId;

    const attached = await start();
    expect((await attached.describe()).runId).toBe(firstRun);

    const again = await start({ workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' });
    const second = await again.describe();
    try {
      expect(second.runId).not.toBe(firstRun);
      expect(second.status.name).toBe('RUNNING');
    } finally {
      await again.terminate('test done');
    }
  });

  it('a running request id is attached to by default, and refused with workflowIdConflictPolicy FAIL', async () => {
    const start = sameRequest();
    const first = await start();
    try {
      const runId = (await first.describe()).runId;
      expect((await (await start()).describe()).runId).toBe(runId);
      await expect(start({ workflowIdConflictPolicy: 'FAIL' })).rejects.toThrow(
        WorkflowExecutionAlreadyStartedError,
      );
    } finally {
      await first.terminate('test done');
    }
  });
});

describe('a batch started with the caller’s options', () => {
  it('runs at priority key 4 with its checks, and carries the caller’s search attribute and memo', async () => {
    const numbers = [uniqueNumber(), uniqueNumber()];
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: Object.fromEntries(numbers.map((n) => [n, { interval: 0.2, lastSimChangeHoursAgo: 500 }])),
    });
    const batchId = `start-options-${randomUUID()}`;
    const batch = await startBatch(
      ctx.env.client,
      numbers.map((msisdn) => ({ msisdn, operations: ['sim-swap' as const] })),
      {
        batchId,
        taskQueue: ctx.taskQueue,
        subjectKey,
        typedSearchAttributes: [{ key: CustomerTier, value: 'nightly' }],
        memo: { owner: 'risk-team' },
      },
    );
    expect(await batch.result()).toMatchObject({ total: 2, done: 2 });
    const run = await ctx.env.client.workflow.getHandle(batchId).describe();
    expect(run.priority?.priorityKey).toBe(BATCH_PRIORITY_KEY);
    expect(run.typedSearchAttributes.get(CustomerTier)).toBe('nightly');
    expect(run.typedSearchAttributes.get(NetcheckBatchId)).toBe(batchId);
    expect(run.memo).toMatchObject({ owner: 'risk-team', netcheckInput: expect.any(String) as unknown });
    // Its checks run at the batch's priority.
    const child = await ctx.env.client.workflow.getHandle(checkId(batchId, 0, 'sim-swap')).describe();
    expect(child.priority?.priorityKey).toBe(BATCH_PRIORITY_KEY);
  });
});
