/**
 * Bulk mode end to end on the real dev server and simulator: one record per (item, operation)
 * with the same results a per-check batch gives (answers, refusals, unknown numbers, pending
 * polls, slow_down, expiry and re-authorization, a 401, a 429, Identity Insights, invalid and
 * duplicate items); no CIBA rule broken on the wire; chunk summaries and details in the UI; no
 * token and no number in what the chunks hand back to history; and the batch's rate held by
 * its chunks together (a simulator of its own counts every 1-s window).
 */
import { createPublicKey } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startBatch } from '../client/batch.js';
import type { BatchItem, BatchRecord } from '../domain/batch.js';
import { startSimulator, type Simulator } from '../simulator/index.js';
import {
  addScenarios,
  createTestWorker,
  requestCount,
  simulatorStats,
  uniqueNumber,
  uniqueTaskQueue,
  useTestWorker,
} from './support/harness.js';

const ctx = useTestWorker('bulk');
const subjectKey = 'bulk-test-key';

async function collect(records: AsyncIterable<BatchRecord>): Promise<BatchRecord[]> {
  const out: BatchRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

const { EventType } = temporal.api.enums.v1;
const payloadText = (payloads: temporal.api.common.v1.IPayloads | null | undefined) =>
  (payloads?.payloads ?? []).map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('\n');

describe('bulk batch', () => {
  it('one record per (item, operation), as per-check mode answers, with every CIBA rule kept', async () => {
    const n = {
      plain: Array.from({ length: 10 }, () => uniqueNumber()),
      pending: uniqueNumber(),
      denied: uniqueNumber(),
      unknown: uniqueNumber(),
      expiring: uniqueNumber(),
      slowDown: uniqueNumber(),
      unauthorized: uniqueNumber(),
      throttled: uniqueNumber(),
      insights: uniqueNumber(),
    };
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: {
        ...Object.fromEntries(n.plain.map((m, i) => [m, { lastSimChangeHoursAgo: i % 2 ? 2 : 1000 }])),
        [n.pending]: { pendingPolls: 2, connectivity: 'CONNECTED_SMS' },
        [n.denied]: { pendingPolls: 1, denied: true },
        [n.unknown]: { unknown: true },
        // Never authorized within a 2-s window: two bc-authorize requests, then AUTHORIZATION_EXPIRED.
        [n.expiring]: { expiresIn: 2, interval: 0.5, pendingPolls: 1000 },
        [n.slowDown]: { faults: [{ endpoint: 'token', status: 400, error: 'slow_down' }] },
        [n.unauthorized]: { faults: [{ endpoint: 'camara', status: 401, code: 'UNAUTHENTICATED' }] },
        [n.throttled]: { faults: [{ endpoint: 'camara', status: 429, retryAfter: 1 }] },
        [n.insights]: {},
      },
    });
    const items: BatchItem[] = [
      ...n.plain.map((msisdn, i) => ({
        msisdn,
        operations: ['sim-swap' as const],
        maxAge: 24,
        ref: `plain-${i}`,
      })),
      { msisdn: n.pending, operations: ['device-connectivity'], ref: 'pending' },
      { msisdn: n.denied, operations: ['sim-swap'], ref: 'denied' },
      { msisdn: n.unknown, operations: ['sim-swap-date'], ref: 'unknown' },
      { msisdn: n.expiring, operations: ['device-connectivity'], ref: 'expiring' },
      { msisdn: n.slowDown, operations: ['device-connectivity'], ref: 'slow-down' },
      { msisdn: n.unauthorized, operations: ['sim-swap'], ref: 'unauthorized' },
      { msisdn: n.throttled, operations: ['device-connectivity'], ref: 'throttled' },
      { msisdn: n.insights, operations: ['carrier'], ref: 'insights' },
      { msisdn: '+12', operations: ['sim-swap'], ref: 'invalid' },
      { msisdn: n.plain[0]!, operations: ['sim-swap'], maxAge: 24, ref: 'duplicate' },
    ];
    const batchId = `bulk-${uniqueTaskQueue('b')}`;
    const handle = await startBatch(ctx.env.client, items, {
      batchId,
      taskQueue: ctx.taskQueue,
      subjectKey,
      bulk: true,
      chunkSize: 5,
      chunkConcurrency: 2,
      concurrency: 6,
      rateLimit: 40,
    });
    const records = await collect(handle.results({ pollIntervalMs: 200 }));
    const byRef = Object.fromEntries(records.map((r) => [r.ref!, r]));

    expect(records).toHaveLength(items.length);
    expect(new Set(records.map((r) => r.index)).size).toBe(items.length);
    n.plain.forEach((_, i) => {
      expect(byRef[`plain-${i}`]).toMatchObject({
        outcome: 'ok',
        result: { data: { swapped: i % 2 === 1 } },
      });
    });
    expect(byRef.pending).toMatchObject({
      outcome: 'ok',
      result: { data: { connectivityStatus: 'CONNECTED_SMS' }, polls: 3, authorizations: 1 },
    });
    expect(byRef.denied).toMatchObject({ outcome: 'failed', result: { error: { code: 'ACCESS_DENIED' } } });
    expect(byRef.unknown).toMatchObject({ outcome: 'failed', result: { error: { code: 'UNKNOWN_NUMBER' } } });
    expect(byRef.expiring).toMatchObject({
      outcome: 'failed',
      result: { authorizations: 2, error: { code: 'AUTHORIZATION_EXPIRED' } },
    });
    // slow_down adds 5 s to the interval before the next poll.
    const slow = byRef['slow-down']!.result!;
    expect(slow).toMatchObject({ status: 'ok', polls: 2 });
    expect(
      Date.parse(slow.timestamps.tokenIssued!) - Date.parse(slow.timestamps.authorized!),
    ).toBeGreaterThanOrEqual(5_000);
    expect(byRef.unauthorized).toMatchObject({ outcome: 'ok', result: { authorizations: 2 } });
    expect(byRef.throttled).toMatchObject({ outcome: 'ok' });
    expect(byRef.insights).toMatchObject({
      outcome: 'ok',
      result: { api: 'identity-insights', operation: 'carrier' },
    });
    expect(byRef.invalid).toMatchObject({ outcome: 'invalid', error: { code: 'INVALID_INPUT' } });
    expect(byRef.duplicate).toMatchObject({
      outcome: 'ok',
      duplicateOf: 0,
      result: byRef['plain-0']!.result,
    });

    // On the wire: every interval and expiry honoured; each flow's requests counted once.
    for (const msisdn of [
      ...n.plain,
      n.pending,
      n.denied,
      n.expiring,
      n.slowDown,
      n.unauthorized,
      n.throttled,
    ]) {
      const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
      expect(stats.violations, msisdn).toMatchObject({
        'poll-too-early': 0,
        'poll-after-expiry': 0,
        'poll-after-final': 0,
      });
    }
    expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, n.plain[0]), 'bc-authorize')).toBe(1);
    expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, n.expiring), 'bc-authorize')).toBe(2);
    expect(
      requestCount(await simulatorStats(ctx.env.simulatorUrl, n.throttled), 'device-connectivity', 429),
    ).toBe(1);

    const progress = await handle.result();
    expect(progress).toMatchObject({
      state: 'completed',
      bulk: true,
      chunks: 4, // 19 checks (the invalid and the duplicate item are recorded at once) in chunks of 5
      done: items.length,
      duplicates: 1,
      byOutcome: { ok: 15, failed: 3, invalid: 1, cancelled: 0 },
    });

    // The UI: a chunk activity per chunk with its summary; no check workflow; no token or number handed back.
    const history = await ctx.env.client.workflow.getHandle(batchId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    expect(scheduled).toHaveLength(4);
    const summaries = scheduled.map((e) =>
      payloadText(e.userMetadata?.summary ? { payloads: [e.userMetadata.summary] } : null),
    );
    expect(summaries[0]).toMatch(/chunk 0: 5 checks · sim-swap 5/);
    expect(
      events.some(
        (e) =>
          e.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED &&
          !e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId?.includes('/results/'),
      ),
    ).toBe(false);
    const handedBack = events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
      .map((e) => payloadText(e.activityTaskCompletedEventAttributes?.result))
      .join('\n');
    expect(handedBack).toContain('"outcomes"');
    for (const msisdn of [...n.plain, n.pending, n.denied, n.expiring])
      expect(handedBack).not.toContain(msisdn.slice(1));
    expect(handedBack).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT or access token
    expect(handedBack).not.toMatch(/v2\.[A-Za-z0-9_-]{11}\./); // not even a sealed one
    expect(handedBack).not.toMatch(/authReqId|auth_req_id/);
  }, 90_000);
});

describe('bulk batch rate limit', () => {
  let simulator: Simulator | undefined;
  let worker: Worker | undefined;
  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await simulator?.close();
  });

  it('the chunks together never send more than rateLimit requests in any 1-s window', async () => {
    const R = 8;
    simulator = await startSimulator({
      applicationId: inject('applicationId'),
      publicKey: createPublicKey(inject('privateKeyPem')),
      port: 0,
      interval: 0,
      rateLimit: R, // a request over R in any 1-s window is refused and counted
    });
    const items: BatchItem[] = Array.from({ length: 12 }, () => ({
      msisdn: uniqueNumber(),
      operations: ['device-connectivity'],
    }));
    simulator.addScenarios({
      numbers: Object.fromEntries(items.map((i) => [i.msisdn, { connectivity: 'CONNECTED_DATA' as const }])),
    });
    const taskQueue = uniqueTaskQueue('bulk-rate');
    worker = await createTestWorker(ctx.env, taskQueue, { vonage: { baseUrl: simulator.url } });
    const running = worker.run();
    const handle = await startBatch(ctx.env.client, items, {
      batchId: `bulk-rate-${taskQueue}`,
      taskQueue,
      subjectKey,
      bulk: true,
      chunkSize: 4,
      chunkConcurrency: 3,
      concurrency: 12,
      rateLimit: R,
    });
    const progress = await handle.result();
    worker.shutdown();
    await running;
    expect(progress.byOutcome, JSON.stringify(progress.byErrorCode)).toMatchObject({ ok: 12 });
    const stats = simulator.stats();
    expect(stats.total, JSON.stringify(stats)).toBe(12 * 3); // bc-authorize, token, CAMARA: nothing refused, nothing repeated
    expect(stats.violations['rate-limit-exceeded']).toBe(0);
    expect(stats.maxRequestsInAnyWindow1s).toBeLessThanOrEqual(R);
  }, 60_000);
});
