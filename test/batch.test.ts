/**
 * batchCheck end to end on the real dev server and simulator: exactly one record per
 * (item, operation), pages and continue-as-new crossed, attach by id, dedupe, invalid items,
 * cancellation.
 */
import { describe, expect, it } from 'vitest';
import { getBatch, startBatch } from '../client/batch.js';
import type { BatchItem, BatchRecord } from '../domain/batch.js';
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
});
