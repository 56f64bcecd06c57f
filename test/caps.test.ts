/**
 * Caps end to end (issue 21, item 4), on the shared dev server and simulator: a provider's
 * absurd timing ends a check at once; every check and batch has an execution timeout (default
 * and configured, batch children included, across continue-as-new); a check that never gets a
 * token ends by its timeout; a streamed batch input over its cap is cancelled; a batch started
 * directly with an absurd bulk rate fails.
 */
import { WorkflowFailedError, type WorkflowExecutionDescription } from '@temporalio/client';
import { TimeoutFailure } from '@temporalio/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchTooLargeError, getBatch, startBatch } from '../client/batch.js';
import { checkNumber, startCheck } from '../client/index.js';
import type { BatchItem, BatchRecord } from '../domain/batch.js';
import { errorCodeOf } from '../domain/errors.js';
import { batchCheck, checkId } from '../workflows/batch.js';
import { numberWith, useTestWorker } from './support/harness.js';

const ctx = useTestWorker('caps');
const subjectKey = 'caps-test-subject-key-of-at-least-32-bytes';
const HOUR_S = 3_600;
const WEEK_S = 7 * 24 * HOUR_S;

/** The execution timeout Temporal holds for a run, in seconds. */
function timeoutSeconds(description: WorkflowExecutionDescription): number | undefined {
  const timeout = description.raw.executionConfig?.workflowExecutionTimeout;
  return timeout?.seconds === undefined || timeout.seconds === null ? undefined : Number(timeout.seconds);
}

async function collect(records: AsyncIterable<BatchRecord>): Promise<BatchRecord[]> {
  const out: BatchRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

/** A number the simulator never grants: pending for ever, inside a long window. */
const neverGranted = () =>
  numberWith(ctx.env.simulatorUrl, { pendingPolls: 1_000_000, interval: 1, expiresIn: 300 });

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("a provider's absurd timing", () => {
  it('interval 1e12 and expires_in 1e15 end the check at once with PROTOCOL_ERROR (it used to sleep ~31 years)', async () => {
    const msisdn = await numberWith(ctx.env.simulatorUrl, { interval: 1e12, expiresIn: 1e15 });
    const result = await checkNumber(
      ctx.env.client,
      { msisdn, operation: 'sim-swap' },
      { taskQueue: ctx.taskQueue, subjectKey },
    );
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PROTOCOL_ERROR');
    expect(result.error?.message).toMatch(/expires_in: expected at most 3600 seconds/);
    expect(result.polls).toBe(0);
  });
});

describe('execution timeouts', () => {
  it('a check has one by default (1 h), NETCHECK_CHECK_TIMEOUT sets it, executionTimeout wins', async () => {
    const msisdn = await numberWith(ctx.env.simulatorUrl, { interval: 0.2, lastSimChangeHoursAgo: 5 });
    const start = (options: { executionTimeout?: string } = {}) =>
      startCheck(
        ctx.env.client,
        { msisdn, operation: 'sim-swap' },
        { taskQueue: ctx.taskQueue, subjectKey, ...options },
      );
    const byDefault = await start();
    expect(timeoutSeconds(await byDefault.describe())).toBe(HOUR_S);
    vi.stubEnv('NETCHECK_CHECK_TIMEOUT', '90m');
    const fromEnv = await start();
    expect(timeoutSeconds(await fromEnv.describe())).toBe(90 * 60);
    const explicit = await start({ executionTimeout: '2h' });
    expect(timeoutSeconds(await explicit.describe())).toBe(2 * HOUR_S);
    for (const handle of [byDefault, fromEnv, explicit]) expect((await handle.result()).status).toBe('ok');
  });

  it('a check the provider never grants ends by its execution timeout', async () => {
    const msisdn = await neverGranted();
    const handle = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'device-roaming' },
      { taskQueue: ctx.taskQueue, subjectKey, executionTimeout: '3s' },
    );
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure);
    expect((await handle.describe()).status.name).toBe('TIMED_OUT');
  });

  it('a batch has one for its whole chain of runs (default 7 days), and each check one of 1 h', async () => {
    const numbers = [
      await numberWith(ctx.env.simulatorUrl, { interval: 0.2 }),
      await numberWith(ctx.env.simulatorUrl, { interval: 0.2 }),
    ];
    const items: BatchItem[] = numbers.map((msisdn, i) => ({
      msisdn,
      operations: ['device-roaming'],
      ref: `r${i}`,
    }));
    const batchId = `caps-default-${Date.now()}`;
    // One check per run: the batch continues as new before its second check.
    const batch = await startBatch(ctx.env.client, items, {
      batchId,
      taskQueue: ctx.taskQueue,
      subjectKey,
      continueAsNewAfter: 1,
    });
    const records = await collect(batch.results());
    expect(records).toHaveLength(2);
    const summary = await batch.result();
    expect(summary.runs).toBeGreaterThanOrEqual(2);
    // The last run (after continue-as-new) still carries the batch's timeout.
    expect(timeoutSeconds(await ctx.env.client.workflow.getHandle(batchId).describe())).toBe(WEEK_S);
    for (const index of [0, 1]) {
      const child = await ctx.env.client.workflow
        .getHandle(checkId(batchId, index, 'device-roaming'))
        .describe();
      expect(timeoutSeconds(child)).toBe(HOUR_S);
    }
  });

  it('NETCHECK_BATCH_TIMEOUT and checkTimeout set them; a check that runs out is a failed record', async () => {
    const stuck = await neverGranted();
    const fine = await numberWith(ctx.env.simulatorUrl, { interval: 0.2 });
    vi.stubEnv('NETCHECK_BATCH_TIMEOUT', '2d');
    const batchId = `caps-configured-${Date.now()}`;
    const batch = await startBatch(
      ctx.env.client,
      [
        { msisdn: stuck, operations: ['device-roaming'], ref: 'stuck' },
        { msisdn: fine, operations: ['device-roaming'], ref: 'fine' },
      ],
      { batchId, taskQueue: ctx.taskQueue, subjectKey, checkTimeout: '3s' },
    );
    expect(timeoutSeconds(await ctx.env.client.workflow.getHandle(batchId).describe())).toBe(2 * 24 * HOUR_S);
    const byRef = new Map((await collect(batch.results())).map((r) => [r.ref, r]));
    expect(byRef.get('fine')?.outcome).toBe('ok');
    expect(byRef.get('stuck')?.outcome).toBe('failed');
    expect(byRef.get('stuck')?.error?.code).toBe('INTERNAL');
    expect(byRef.get('stuck')?.error?.message).toMatch(/timed out/i);
    const child = ctx.env.client.workflow.getHandle(checkId(batchId, 0, 'device-roaming'));
    expect(timeoutSeconds(await child.describe())).toBe(3);
    expect((await child.describe()).status.name).toBe('TIMED_OUT');
  });
});

describe('batch row cap', () => {
  it('a streamed input over the cap cancels the batch it started and says how to split', async () => {
    const msisdn = await numberWith(ctx.env.simulatorUrl, { interval: 0.2 });
    // A stream whose length startBatch cannot know before it sends.
    function* items(): Iterable<BatchItem> {
      for (let i = 0; i < 5; i++) yield { msisdn, operations: ['device-roaming'], ref: `s${i}` };
    }
    const batchId = `caps-stream-${Date.now()}`;
    const err = await startBatch(ctx.env.client, items(), {
      batchId,
      taskQueue: ctx.taskQueue,
      subjectKey,
      maxItems: 3,
      pageSize: 1,
      dedupe: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchTooLargeError);
    expect((err as BatchTooLargeError).cancelledBatchId).toBe(batchId);
    expect((err as Error).message).toMatch(
      /more than 3 items.*; batch caps-stream-\d+ was cancelled after receiving the first 3/,
    );
    const summary = await getBatch(ctx.env.client, batchId).result();
    expect(summary.state).toBe('cancelled');
    // Nothing past the cap reached the batch.
    expect(summary.total).toBeLessThanOrEqual(3);
  });
});

describe('rate bounds in the workflow', () => {
  it('a bulk batch started directly with rateLimit 50,000 fails INVALID_INPUT', async () => {
    const handle = await ctx.env.client.workflow.start(batchCheck, {
      workflowId: `caps-rate-${Date.now()}`,
      taskQueue: ctx.taskQueue,
      args: [{ batchId: 'caps-rate', options: { bulk: true, rateLimit: 50_000 } }],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(errorCodeOf(err)).toBe('INVALID_INPUT');
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(
      /rateLimit must be a number of requests per second from 0\.1 to 10,000/,
    );
  });
});
