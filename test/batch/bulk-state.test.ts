/**
 * Bulk mode's state (domain/bulk-state.ts) without a server: its options and bounds, how chunks
 * are cut and shared (rate and flows), exactly one record per check however a chunk ends, and a
 * whole bulk batch driven the way workflows/batch.ts drives it, across runs.
 */
import { describe, expect, it } from 'vitest';
import type { BatchPage, BatchPageItem, StoredRecord } from '../../domain/batch.js';
import { BATCH_DEFAULTS, batchOptionsProblem } from '../../domain/batch-options.js';
import { BatchState } from '../../domain/batch-state.js';
import { chunkSummary, type BulkOutcome } from '../../domain/bulk.js';
import { BulkChunks, type ChunkEnd } from '../../domain/bulk-state.js';
import type { CheckResult } from '../../domain/types.js';

const item = (index: number, operations: string[] = ['sim-swap']): BatchPageItem =>
  ({ index, msisdn: `+4477009${String(index).padStart(5, '0')}`, operations }) as BatchPageItem;
const ok = (operation: string): CheckResult =>
  ({
    api: 'camara',
    operation,
    status: 'ok',
    data: { swapped: false },
    correlationId: 'c',
    polls: 1,
    authorizations: 1,
    timestamps: { started: 't', finished: 't' },
  }) as CheckResult;

function bulkBatch(items: BatchPageItem[], options: Record<string, unknown> = {}) {
  const batch = new BatchState('b', { bulk: true, ...options });
  const chunks = new BulkChunks(batch);
  batch.addPage({ pageIndex: 0, items, last: true });
  return { batch, chunks };
}

describe('bulk options', () => {
  it('has documented defaults and bounds, and bulk-only options need bulk', () => {
    expect(BATCH_DEFAULTS).toMatchObject({ chunkSize: 200, chunkConcurrency: 4 });
    expect(batchOptionsProblem({ bulk: true, chunkSize: 500, chunkConcurrency: 100, rateLimit: 0.5 })).toBe(
      undefined,
    );
    expect(batchOptionsProblem({ bulk: true, chunkSize: 501 })).toMatch(
      /chunkSize must be a whole number from 1 to 500 \(got 501\)/,
    );
    expect(batchOptionsProblem({ bulk: true, chunkConcurrency: 0 })).toMatch(/chunkConcurrency must be/);
    expect(batchOptionsProblem({ bulk: true, rateLimit: 0 })).toMatch(/rateLimit must be a number/);
    expect(batchOptionsProblem({ bulk: true, rateLimit: '5' })).toMatch(/rateLimit must be a number/);
    expect(batchOptionsProblem({ bulk: 'yes' })).toMatch(/bulk must be true or false/);
    expect(batchOptionsProblem({ chunkSize: 10, rateLimit: 5 })).toMatch(
      /chunkSize, rateLimit apply only to bulk batches: set bulk: true/,
    );
    expect(batchOptionsProblem({ bulk: true, fast: true })).toMatch(/fast applies to per-check batches only/);
  });
});

describe('BulkChunks', () => {
  it('cuts full chunks, shares the concurrency and the rate between the chunks at once', () => {
    const items = Array.from({ length: 25 }, (_, i) =>
      item(i, i % 5 === 0 ? ['sim-swap', 'carrier'] : ['sim-swap']),
    );
    const { batch, chunks } = bulkBatch(items, {
      chunkSize: 10,
      chunkConcurrency: 2,
      concurrency: 9,
      rateLimit: 30,
    });
    expect(chunks.atOnce).toBe(2);
    expect(chunks.flowsPerChunk).toBe(4); // floor(9 / 2)
    expect([chunks.ratePerChunk(0), chunks.ratePerChunk(1)]).toEqual([15, 15]); // together never over 30
    const first = chunks.launch();
    expect(first.input).toMatchObject({ batchId: 'b', chunk: 0, concurrency: 4, ratePerSecond: 15 });
    expect(first.input.checks).toHaveLength(10);
    expect(first.input.checks[0]).toEqual({
      index: 0,
      request: { msisdn: items[0]!.msisdn, operation: 'sim-swap', api: 'camara' },
    });
    expect(first.chunk.summary).toBe('chunk 0: 10 checks · sim-swap 8, carrier 2');
    chunks.launch();
    expect(chunks.canLaunch()).toBe(false); // two at once
    expect(batch.progress).toMatchObject({ inFlight: 20, chunks: 2, bulk: true });
    expect(batch.snapshot().queued).toBe(10);
    expect(chunks.details()).toMatch(/bulk: 2 of 2 chunks running · 4 flows each · 30 req\/s/);
  });

  it('never runs more chunks at once than checks may be in flight', () => {
    const { chunks } = bulkBatch([item(0)], { chunkConcurrency: 8, concurrency: 3 });
    expect(chunks.atOnce).toBe(3);
    expect(chunks.flowsPerChunk).toBe(1);
    expect(chunks.ratePerChunk(0)).toBeUndefined();
  });

  it('shares the rate in whole requests per second that add up to it, and runs no more chunks than it', () => {
    const shares = (rateLimit: number, chunkConcurrency: number) => {
      const { chunks } = bulkBatch([item(0)], { rateLimit, chunkConcurrency });
      return Array.from({ length: chunks.atOnce }, (_, slot) => chunks.ratePerChunk(slot));
    };
    expect(shares(8, 3)).toEqual([3, 3, 2]);
    expect(shares(30, 4)).toEqual([8, 8, 7, 7]);
    expect(shares(100.5, 4)).toEqual([25, 25, 25, 25]);
    expect(shares(2, 4)).toEqual([1, 1]); // one request per second per chunk at least: two chunks
    expect(shares(0.5, 4)).toEqual([0.5]);
  });

  it('a new chunk takes the slot (and the rate share) a finished one left', () => {
    const items = Array.from({ length: 9 }, (_, i) => item(i));
    const { chunks } = bulkBatch(items, { chunkSize: 3, chunkConcurrency: 2, rateLimit: 5 });
    const a = chunks.launch();
    const b = chunks.launch();
    expect([a.chunk.slot, a.input.ratePerSecond, b.chunk.slot, b.input.ratePerSecond]).toEqual([0, 3, 1, 2]);
    chunks.finished(a.chunk.number, { outcomes: [] });
    const c = chunks.launch();
    expect([c.chunk.slot, c.input.ratePerSecond]).toEqual([0, 3]);
  });

  it('waits for a full chunk while input arrives, unless nothing runs', () => {
    const batch = new BatchState('b', { bulk: true, chunkSize: 5, chunkConcurrency: 2 });
    const chunks = new BulkChunks(batch);
    batch.addPage({ pageIndex: 0, items: [item(0), item(1)], last: false });
    expect(chunks.canLaunch()).toBe(true); // nothing runs: start what there is
    chunks.launch();
    batch.addPage({ pageIndex: 1, items: [item(2), item(3)], last: false });
    expect(chunks.canLaunch()).toBe(false); // a chunk runs and 2 < 5 queued
    batch.addPage({ pageIndex: 2, items: [item(4)], last: true });
    expect(chunks.canLaunch()).toBe(true); // the input is complete
  });

  it('one record per check however the chunk ends: outcomes, cancelled, failed, or an outcome missing', () => {
    const items = Array.from({ length: 12 }, (_, i) => item(i));
    const { batch, chunks } = bulkBatch(items, { chunkSize: 3, chunkConcurrency: 4 });
    const launched = [chunks.launch(), chunks.launch(), chunks.launch(), chunks.launch()];
    const okAt = (at: number): BulkOutcome => ({ at, result: ok('sim-swap') });
    const ends: ChunkEnd[] = [
      // A repeated outcome (a retry's and the heartbeat's) counts once.
      { outcomes: [okAt(0), okAt(2), okAt(1), okAt(0)] },
      { outcomes: [okAt(1)], cancelled: true },
      { outcomes: [okAt(0)], failure: { code: 'TIMEOUT', message: 'gone' } },
      { outcomes: [{ at: 0, error: { code: 'CONFIGURATION', message: 'bad key' } }] },
    ];
    launched.forEach(({ chunk }, i) => chunks.finished(chunk.number, ends[i]!));
    chunks.finished(launched[0]!.chunk.number, ends[0]!); // a second end of the same chunk is ignored
    const records = batch.pending;
    expect(records).toHaveLength(12);
    expect(new Set(records.map((r) => r.index)).size).toBe(12);
    const byIndex = (i: number) => records.find((r) => r.index === i)!;
    expect([0, 1, 2].map((i) => byIndex(i).outcome)).toEqual(['ok', 'ok', 'ok']);
    expect([3, 4, 5].map((i) => byIndex(i).outcome)).toEqual(['cancelled', 'ok', 'cancelled']);
    expect([6, 7, 8].map((i) => byIndex(i).outcome)).toEqual(['ok', 'failed', 'failed']);
    expect(byIndex(7).error).toEqual({ code: 'TIMEOUT', message: 'gone' });
    expect(byIndex(9).error?.code).toBe('CONFIGURATION');
    expect(byIndex(10).error?.code).toBe('INTERNAL');
    expect(batch.progress).toMatchObject({ done: 12, inFlight: 0 });
    expect(chunks.details()).toMatch(/chunk 1: 3 checks · sim-swap 3 — done: 1 ok, 0 failed, 2 cancelled/);
  });

  it('a whole bulk batch: every check once, across pages, chunks, result pages and runs', () => {
    const items = Array.from({ length: 47 }, (_, i) =>
      item(i, i % 4 === 0 ? ['sim-swap', 'device-roaming'] : ['sim-swap']),
    );
    const options = {
      bulk: true,
      chunkSize: 6,
      chunkConcurrency: 3,
      concurrency: 6,
      continueAsNewAfter: 20,
      resultPageSize: 7,
    };
    const pages: BatchPage[] = [];
    for (let i = 0; i < items.length; i += 10)
      pages.push({ pageIndex: pages.length, items: items.slice(i, i + 10), last: i + 10 >= items.length });
    const stored: StoredRecord[] = [];
    let carried: ReturnType<BatchState['continueAsNew']> | undefined;
    let runs = 0;
    let nextPage = 0;
    for (let finished = false; !finished;) {
      runs++;
      if (runs > 100) throw new Error('the batch continues as new forever');
      const batch = new BatchState('b', options, carried ? structuredClone(carried) : undefined);
      const chunks = new BulkChunks(batch);
      const running: number[] = [];
      for (let step = 0; ; step++) {
        if (step > 10_000) throw new Error('the batch never finished');
        if (nextPage < pages.length && !batch.pageRefusal(pages[nextPage]!))
          batch.addPage(pages[nextPage++]!);
        const ended = running.shift();
        if (ended !== undefined) {
          const size = chunks.running.get(ended)!.checks.length;
          chunks.finished(ended, {
            outcomes: Array.from({ length: size }, (_, at) => ({ at, result: ok('sim-swap') })),
          });
        }
        if (!chunks.hasWork()) continue;
        while (chunks.canLaunch()) {
          const { chunk } = chunks.launch();
          expect(chunk.checks.length).toBeLessThanOrEqual(6);
          running.push(chunk.number);
        }
        for (let p = batch.nextResultPage(false); p; p = batch.nextResultPage(false)) {
          stored.push(...p);
          batch.resultPageStored(p.length);
        }
        if (batch.allDone() || batch.readyToContinueAsNew()) {
          for (let p = batch.nextResultPage(true); p; p = batch.nextResultPage(true)) {
            stored.push(...p);
            batch.resultPageStored(p.length);
          }
          if (batch.allDone()) finished = true;
          else carried = batch.continueAsNew();
          break;
        }
      }
    }
    const expected = items.reduce((n, i) => n + i.operations.length, 0);
    expect(stored).toHaveLength(expected);
    expect(new Set(stored.map((r) => `${r.index}/${r.operation}`)).size).toBe(expected);
    expect(runs).toBeGreaterThanOrEqual(3);
  });
});

describe('chunk summaries', () => {
  it('say how many checks and which operations', () => {
    const checks = [{ request: { msisdn: '+1', operation: 'carrier' as const } }];
    expect(chunkSummary(7, checks)).toBe('chunk 7: 1 check · carrier 1');
  });
});
