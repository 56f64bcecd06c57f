/**
 * batchCheck end to end on the real dev server and simulator: exactly one record per
 * (item, operation), pages and continue-as-new crossed, attach by id, dedupe, invalid items,
 * cancellation, options refused, a full queue, a batch that dies while its input is sent,
 * oversized input, duplicates read while input still arrives, and the API of each check.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { BatchClosedError, BatchConflictError, getBatch, startBatch } from '../client/batch.js';
import type { BatchItem, BatchPageItem, BatchRecord } from '../domain/batch.js';
import { BATCH_BUSY } from '../domain/batch-pages.js';
import { NetcheckApi } from '../domain/search-attributes.js';
import { addPageUpdate, batchCheck, batchProgressQuery, checkId } from '../workflows/batch.js';
import {
  addScenarios,
  requestCount,
  simulatorStats,
  uniqueNumber,
  useTestWorker,
} from './support/harness.js';

const ctx = useTestWorker('batch');
const subjectKey = 'batch-test-key';

async function collect(records: AsyncIterable<BatchRecord>): Promise<BatchRecord[]> {
  const out: BatchRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

const keyOf = (r: { index: number; operation: string }) => `${r.index}/${r.operation}`;
const byRefOf = (records: BatchRecord[]): Record<string, BatchRecord> =>
  Object.fromEntries(records.map((r) => [r.ref ?? String(r.index), r]));

describe('batchCheck', () => {
  it('yields exactly one correct record per item and operation, across pages and continue-as-new', async () => {
    const swapped = uniqueNumber();
    const notSwapped = uniqueNumber();
    const denied = uniqueNumber();
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: {
        [swapped]: { interval: 0.2, lastSimChangeHoursAgo: 2, connectivity: 'CONNECTED_SMS' },
        [notSwapped]: { interval: 0.2, lastSimChangeHoursAgo: 1000, connectivity: 'NOT_CONNECTED' },
        [denied]: { interval: 0.2, denied: true },
      },
    });
    const items: BatchItem[] = [];
    for (let i = 0; i < 12; i++) {
      // Virtual Operator: an even last digit roams in GB, an odd one does not (endings avoid 11 and 22).
      const msisdn = `+99012${340 + i}${i % 2 === 0 ? '4' : '3'}`;
      items.push({ msisdn, operations: ['device-roaming'], ref: `vo-${i}` });
    }
    items.push({
      msisdn: swapped,
      operations: ['sim-swap', 'device-connectivity'],
      maxAge: 24,
      ref: 'swapped',
    });
    items.push({
      msisdn: notSwapped,
      operations: ['sim-swap', 'device-connectivity'],
      maxAge: 24,
      ref: 'old',
    });
    items.push({ msisdn: denied, operations: ['sim-swap'], ref: 'denied' });
    items.push({ msisdn: '12345', operations: ['sim-swap'], ref: 'bad-number' });
    items.push({ msisdn: swapped, operations: ['teleport' as never], ref: 'bad-op' });
    items.push({ msisdn: swapped, operations: ['sim-swap'], maxAge: 0, ref: 'bad-max-age' });
    items.push({ msisdn: swapped, operations: ['sim-swap'], maxAge: 24, ref: 'dup-of-swapped' });

    const batchId = `batch-${Date.now()}`;
    const handle = await startBatch(ctx.env.client, items, {
      batchId,
      taskQueue: ctx.taskQueue,
      subjectKey,
      concurrency: 4,
      pageSize: 5, // 19 items → 4 pages
      continueAsNewAfter: 6, // 16 checks → 3 runs
      resultPageSize: 4,
    });
    const records = await collect(handle.results({ pollIntervalMs: 200 }));
    const summary = await handle.result();

    // One record per (item, operation): 12 + 2 + 2 + 1 + 4 = 21.
    expect(records).toHaveLength(21);
    expect(new Set(records.map(keyOf)).size).toBe(21);
    expect(summary).toMatchObject({ state: 'completed', total: 21, done: 21, inFlight: 0, duplicates: 1 });
    expect(summary.byOutcome).toEqual({ ok: 16, failed: 1, invalid: 3, cancelled: 0 });
    expect(summary.runs).toBeGreaterThanOrEqual(3);
    expect(summary.pagesReceived).toBe(4);

    const byRef = (ref: string, op?: string) =>
      records.find((r) => r.ref === ref && (op === undefined || r.operation === op))!;
    for (let i = 0; i < 12; i++) {
      expect(byRef(`vo-${i}`).result?.data).toEqual(
        i % 2 === 0 ? { roaming: true, countryCode: 234, countryName: ['GB'] } : { roaming: false },
      );
    }
    expect(byRef('swapped', 'sim-swap').result?.data).toEqual({ swapped: true });
    expect(byRef('swapped', 'device-connectivity').result?.data).toEqual({
      connectivityStatus: 'CONNECTED_SMS',
    });
    expect(byRef('old', 'sim-swap').result?.data).toEqual({ swapped: false });
    expect(byRef('denied')).toMatchObject({
      outcome: 'failed',
      result: { error: { code: 'ACCESS_DENIED' } },
    });
    for (const ref of ['bad-number', 'bad-op', 'bad-max-age']) {
      expect(byRef(ref)).toMatchObject({ outcome: 'invalid', error: { code: 'INVALID_INPUT' } });
    }
    // The duplicate shares the original's result and was not checked again.
    const dup = byRef('dup-of-swapped');
    expect(dup).toMatchObject({ outcome: 'ok', duplicateOf: 12 });
    expect(dup.result).toEqual(byRef('swapped', 'sim-swap').result);
    const stats = await simulatorStats(ctx.env.simulatorUrl, swapped);
    expect(requestCount(stats, 'sim-swap', 200)).toBe(1);
    expect(stats.violations['poll-too-early']).toBe(0);
  });

  it('starting the same batch id again attaches to it instead of checking twice', async () => {
    const numbers = [uniqueNumber(), uniqueNumber(), uniqueNumber()];
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: Object.fromEntries(
        numbers.map((n) => [n, { interval: 0.2, connectivity: 'CONNECTED_DATA' as const }]),
      ),
    });
    const items = numbers.map((msisdn) => ({ msisdn, operations: ['device-connectivity' as const] }));
    const batchId = `attach-${Date.now()}`;
    const options = { batchId, taskQueue: ctx.taskQueue, subjectKey, pageSize: 2 };
    const first = await startBatch(ctx.env.client, items, options);
    const second = await startBatch(ctx.env.client, items, options);
    await first.result();
    const third = await startBatch(ctx.env.client, items, options); // after it closed
    const records = await collect(third.results({ pollIntervalMs: 200 }));
    expect(records).toHaveLength(3);
    expect((await second.result()).total).toBe(3);
    for (const n of numbers) {
      expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, n), 'bc-authorize')).toBe(1);
    }
  });

  it('the same batch id with other input is refused, while running, after continue-as-new and once closed', async () => {
    const numbers = [uniqueNumber(), uniqueNumber(), uniqueNumber()];
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: Object.fromEntries(
        numbers.map((n) => [n, { interval: 1, connectivity: 'CONNECTED_DATA' as const }]),
      ),
    });
    const items = numbers.map((msisdn) => ({ msisdn, operations: ['device-connectivity' as const] }));
    const other = [{ msisdn: uniqueNumber(), operations: ['device-connectivity' as const] }];
    const batchId = `conflict-${Date.now()}`;
    const options = { batchId, taskQueue: ctx.taskQueue, subjectKey, continueAsNewAfter: 1 };
    const handle = await startBatch(ctx.env.client, items, options);
    const refused = async () => {
      const err = await startBatch(ctx.env.client, other, options).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BatchConflictError);
      expect((err as BatchConflictError).code).toBe('USAGE');
      expect((err as Error).message).toMatch(/already exists with other input/);
    };
    await refused(); // running
    while ((await handle.progress()).runs < 2 && (await handle.progress()).state !== 'completed') {
      await new Promise((r) => setTimeout(r, 200));
    }
    await refused(); // a later run of the batch (continue-as-new keeps the fingerprint)
    const final = await handle.result();
    expect(final.total).toBe(3);
    expect(final.runs).toBeGreaterThan(1);
    await refused(); // closed
    // The same input still attaches, and nothing of the other input was ever checked.
    const again = await startBatch(ctx.env.client, items, options);
    expect(await collect(again.results({ pollIntervalMs: 200 }))).toHaveLength(3);
    expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, other[0]!.msisdn), 'bc-authorize')).toBe(
      0,
    );
  });

  it('with dedupe off, a repeated number is checked each time', async () => {
    const msisdn = uniqueNumber();
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: { [msisdn]: { interval: 0.2, connectivity: 'CONNECTED_DATA' } },
    });
    const items = [1, 2, 3].map(() => ({ msisdn, operations: ['device-connectivity' as const] }));
    const handle = await startBatch(ctx.env.client, items, {
      batchId: `nodedupe-${Date.now()}`,
      taskQueue: ctx.taskQueue,
      subjectKey,
      dedupe: false,
    });
    const records = await collect(handle.results({ pollIntervalMs: 200 }));
    expect(records.map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok']);
    expect(records.every((r) => r.duplicateOf === undefined)).toBe(true);
    expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, msisdn), 'device-connectivity', 200)).toBe(
      3,
    );
  });

  it('cancelling a batch cancels checks in flight and records the rest as cancelled', async () => {
    const numbers = Array.from({ length: 6 }, () => uniqueNumber());
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: Object.fromEntries(
        numbers.map((n) => [n, { interval: 1, pendingPolls: 1000, expiresIn: 300 }]),
      ),
    });
    const handle = await startBatch(
      ctx.env.client,
      numbers.map((msisdn) => ({ msisdn, operations: ['sim-swap' as const] })),
      { batchId: `cancel-${Date.now()}`, taskQueue: ctx.taskQueue, subjectKey, concurrency: 2 },
    );
    for (let i = 0; i < 50 && (await handle.progress()).inFlight < 2; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await handle.progress()).inFlight).toBe(2);
    await handle.cancel();
    const summary = await handle.result();
    expect(summary.state).toBe('cancelled');
    const records = await collect(getBatch(ctx.env.client, handle.batchId).results({ pollIntervalMs: 200 }));
    expect(records).toHaveLength(6);
    expect(records.every((r) => r.outcome === 'cancelled' && r.error?.code === 'CANCELLED')).toBe(true);
    expect(summary.byOutcome.cancelled).toBe(6);
  });

  it('refuses options that would loop or overflow: in the client, and in the workflow itself', async () => {
    const base = { batchId: `bad-options-${Date.now()}`, taskQueue: ctx.taskQueue, subjectKey };
    const items = [{ msisdn: uniqueNumber(), operations: ['sim-swap' as const] }];
    await expect(startBatch(ctx.env.client, items, { ...base, resultPageSize: 0 })).rejects.toThrow(
      /resultPageSize must be a whole number from 1 to 500 \(got 0\)/,
    );
    await expect(startBatch(ctx.env.client, items, { ...base, continueAsNewAfter: 0 })).rejects.toThrow(
      /continueAsNewAfter must be a whole number from 1 to 5000/,
    );
    // A caller that starts the workflow directly gets an INVALID_INPUT failure, not an endless loop.
    const run = ctx.env.client.workflow.execute(batchCheck, {
      workflowId: `bad-options-wf-${Date.now()}`,
      taskQueue: ctx.taskQueue,
      args: [{ batchId: 'x', options: { resultPageSize: 0, continueAsNewAfter: 0 } }],
    });
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('INVALID_INPUT');
    expect(cause.message).toMatch(/continueAsNewAfter .*; resultPageSize .*\(got 0\)/);
  });

  it('a full queue refuses a page with a typed BATCH_BUSY failure; startBatch sends it again until it fits', async () => {
    const slow = uniqueNumber(); // the first check: a few pending polls
    const fast = uniqueNumber();
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: {
        [slow]: { interval: 1, pendingPolls: 3, connectivity: 'CONNECTED_DATA' },
        [fast]: { interval: 0.2, connectivity: 'CONNECTED_DATA' },
      },
    });
    const batchId = `busy-${Date.now()}`;
    const workflow = await ctx.env.client.workflow.start(batchCheck, {
      workflowId: batchId,
      taskQueue: ctx.taskQueue,
      args: [{ batchId, options: { concurrency: 1, dedupe: false } }],
    });
    const items: BatchItem[] = Array.from({ length: 1002 }, (_, i) => ({
      msisdn: i === 0 ? slow : fast,
      operations: ['device-connectivity'],
    }));
    const page = (pageIndex: number, from: number, to: number, last: boolean) => ({
      pageIndex,
      items: items.slice(from, to).map((item, i): BatchPageItem => ({ ...item, index: from + i })),
      last,
    });
    // An empty queue takes any page: 1,001 checks, the slow one in flight, 1,000 queued.
    await workflow.executeUpdate(addPageUpdate, { args: [page(0, 0, 1001, false)] });
    const refused = await workflow.executeUpdate(addPageUpdate, { args: [page(1, 1001, 1002, true)] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (refused as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: BATCH_BUSY, nonRetryable: false });
    expect(cause!.message).toMatch(/1000 checks queued; send page 1 again shortly/);

    // The client attaches (page 0 is there), sends page 1, is told BATCH_BUSY until the slow
    // check ends and the queue has room, and returns once the page is in.
    await startBatch(ctx.env.client, items, {
      batchId,
      taskQueue: ctx.taskQueue,
      subjectKey,
      pageSize: 1001,
      dedupe: false,
    });
    expect(await workflow.query(batchProgressQuery)).toMatchObject({ total: 1002, inputComplete: true });
    await workflow.cancel();
    const summary = await workflow.result();
    expect(summary).toMatchObject({ state: 'cancelled', total: 1002, done: 1002 });
    expect(summary.byOutcome.ok).toBeGreaterThanOrEqual(1);
  });

  it('a batch that dies while its input is sent ends startBatch at once with the reason', async () => {
    const batchId = `dies-${Date.now()}`;
    async function* items(): AsyncIterable<BatchItem> {
      yield { msisdn: 'invalid-0', operations: ['sim-swap'] };
      yield { msisdn: 'invalid-1', operations: ['sim-swap'] };
      // Page 0 has been sent: the batch is now terminated under the client's feet.
      await ctx.env.client.workflow.getHandle(batchId).terminate('an operator stopped it');
      yield { msisdn: 'invalid-2', operations: ['sim-swap'] };
    }
    const err = await startBatch(ctx.env.client, items(), {
      batchId,
      taskQueue: ctx.taskQueue,
      subjectKey,
      pageSize: 1,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BatchClosedError);
    expect((err as BatchClosedError).status).toBe('TERMINATED');
    expect((err as Error).message).toMatch(
      new RegExp(
        `batch ${batchId} is terminated \\(an operator stopped it\\): the rest of its input cannot be sent`,
      ),
    );
  });

  it('oversized input: pages are cut by bytes, a 4.5 KB ref makes its record invalid, and the batch completes', async () => {
    const items: BatchItem[] = [
      // 3,000 items with 256-character refs (≈ 900 KB): several pages, each under 256 KiB.
      ...Array.from({ length: 3_000 }, (_, i) => ({
        msisdn: `bad-${i}`,
        operations: ['sim-swap' as const],
        ref: `${i}-`.padEnd(256, 'r'),
      })),
      ...Array.from({ length: 50 }, () => ({
        msisdn: '+447700900001',
        operations: ['sim-swap' as const],
        ref: 'x'.repeat(4_500),
      })),
    ];
    const handle = await startBatch(ctx.env.client, items, {
      batchId: `oversized-${Date.now()}`,
      taskQueue: ctx.taskQueue,
      subjectKey,
    });
    const records = await collect(handle.results({ pollIntervalMs: 300 }));
    const summary = await handle.result();
    expect(summary).toMatchObject({ state: 'completed', total: 3_050, done: 3_050 });
    expect(summary.pagesReceived).toBeGreaterThanOrEqual(4);
    expect(records).toHaveLength(3_050);
    expect(records.every((r) => r.outcome === 'invalid')).toBe(true);
    const long = records.filter((r) => r.index >= 3_000);
    expect(long.every((r) => r.ref!.length === 257 && /ref is longer than 256/.test(r.error!.message))).toBe(
      true,
    );
  });

  it('a duplicate in a page sent after its original was read is reported with the original result', async () => {
    const msisdn = uniqueNumber();
    const other = uniqueNumber();
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: {
        [msisdn]: { interval: 0.2, connectivity: 'CONNECTED_SMS' },
        [other]: { interval: 0.2, connectivity: 'NOT_CONNECTED' },
      },
    });
    const batchId = `late-dup-${Date.now()}`;
    let originalRead!: () => void;
    const gate = new Promise<void>((resolve) => (originalRead = resolve));
    async function* items(): AsyncIterable<BatchItem> {
      yield { msisdn, operations: ['device-connectivity'], ref: 'original' };
      yield { msisdn: other, operations: ['device-connectivity'], ref: 'other' };
      await gate; // the reader has the original's record; the duplicate is not sent yet
      yield { msisdn, operations: ['device-connectivity'], ref: 'later-duplicate' };
    }
    const sending = startBatch(ctx.env.client, items(), {
      batchId,
      taskQueue: ctx.taskQueue,
      subjectKey,
      pageSize: 1,
      resultPageSize: 1,
    });
    const records: BatchRecord[] = [];
    for (let i = 0; i < 100; i++) {
      try {
        await ctx.env.client.workflow.getHandle(batchId).describe();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for await (const record of getBatch(ctx.env.client, batchId).results({ pollIntervalMs: 200 })) {
      records.push(record);
      if (record.ref === 'original') originalRead();
    }
    await sending;
    expect(records.map((r) => r.ref).sort()).toEqual(['later-duplicate', 'original', 'other']);
    const original = records.find((r) => r.ref === 'original')!;
    const duplicate = records.find((r) => r.ref === 'later-duplicate')!;
    expect(original).toMatchObject({
      outcome: 'ok',
      result: { data: { connectivityStatus: 'CONNECTED_SMS' } },
    });
    expect(duplicate).toMatchObject({ outcome: 'ok', duplicateOf: 0, index: 2 });
    expect(duplicate.result).toEqual(original.result);
    expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, msisdn), 'device-connectivity', 200)).toBe(
      1,
    );
  });

  it('checks the same number again when maxAge, api or purpose differ (dedupe is per question)', async () => {
    const msisdn = uniqueNumber();
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: { [msisdn]: { interval: 0.2, lastSimChangeHoursAgo: 100 } },
    });
    const handle = await startBatch(
      ctx.env.client,
      [
        { msisdn, operations: ['sim-swap'], maxAge: 24, ref: 'day' },
        { msisdn, operations: ['sim-swap'], maxAge: 720, ref: 'month' },
        { msisdn, operations: ['sim-swap'], maxAge: 24, ref: 'day-again' },
      ],
      { batchId: `per-question-${Date.now()}`, taskQueue: ctx.taskQueue, subjectKey },
    );
    const records = await collect(handle.results({ pollIntervalMs: 200 }));
    const byRef = byRefOf(records);
    expect(byRef.day!.result?.data).toEqual({ swapped: false });
    expect(byRef.month!.result?.data).toEqual({ swapped: true });
    expect(byRef['day-again']).toMatchObject({ duplicateOf: 0, result: { data: { swapped: false } } });
  });

  it('each check runs over its item’s API, named in NetcheckApi; carrier goes over identity-insights', async () => {
    const msisdn = uniqueNumber();
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: { [msisdn]: { interval: 0.2, lastSimChangeHoursAgo: 5 } },
    });
    const batchId = `apis-${Date.now()}`;
    const handle = await startBatch(
      ctx.env.client,
      [
        { msisdn, operations: ['sim-swap'], maxAge: 24, ref: 'camara' },
        { msisdn, operations: ['sim-swap'], maxAge: 24, api: 'identity-insights', ref: 'insights' },
        { msisdn, operations: ['carrier'], ref: 'carrier' },
      ],
      { batchId, taskQueue: ctx.taskQueue, subjectKey },
    );
    const records = await collect(handle.results({ pollIntervalMs: 200 }));
    const apiOf = async (index: number, operation: string) =>
      (
        await ctx.env.client.workflow.getHandle(checkId(batchId, index, operation)).describe()
      ).typedSearchAttributes.get(NetcheckApi);
    expect(await apiOf(0, 'sim-swap')).toBe('camara');
    expect(await apiOf(1, 'sim-swap')).toBe('identity-insights');
    expect(await apiOf(2, 'carrier')).toBe('identity-insights');
    const byRef = byRefOf(records);
    // Two APIs, one question each: not deduplicated, the same answer in the same fields.
    expect(byRef.insights!.duplicateOf).toBeUndefined();
    expect(byRef.camara).toMatchObject({ outcome: 'ok', result: { api: 'camara', data: { swapped: true } } });
    expect(byRef.insights).toMatchObject({
      outcome: 'ok',
      result: { api: 'identity-insights', data: { swapped: true } },
    });
    expect(byRef.carrier).toMatchObject({
      outcome: 'ok',
      result: { api: 'identity-insights', operation: 'carrier' },
    });
  });
});
