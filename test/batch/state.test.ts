/**
 * The batch's state machine (domain/batch-state.ts, batch-options.ts, batch-pages.ts) without a server: options and their
 * bounds, pages in and out, the queue and its limits, progress, records, continue-as-new, and
 * a whole batch driven the way the workflow drives it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { InvalidRequestError } from '../../domain/errors.js';
import { describe, expect, it } from 'vitest';
import type { BatchItem, BatchPage, BatchPageItem, StoredRecord } from '../../domain/batch.js';
import { BATCH_DEFAULTS, batchOptionsProblem, resolveBatchOptions } from '../../domain/batch-options.js';
import {
  BATCH_BUSY,
  boundedItem,
  dedupeKey,
  defaultApiFor,
  FIELD_LIMITS,
  jsonBytes,
  PAGE_MAX_BYTES,
  PageBuilder,
  utf8Length,
} from '../../domain/batch-pages.js';
import { BatchState, QUEUE_MAX_BYTES, type CheckEnd } from '../../domain/batch-state.js';
import type { CheckResult } from '../../domain/types.js';

const page = (pageIndex: number, items: BatchPageItem[], last = false): BatchPage => ({
  pageIndex,
  items,
  last,
});
const item = (index: number, extra: Partial<BatchPageItem> = {}): BatchPageItem => ({
  index,
  msisdn: `+4477009${String(index).padStart(5, '0')}`,
  operations: ['sim-swap'],
  ...extra,
});
const okResult = (operation: string): CheckResult =>
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

describe('batch options', () => {
  it('fills the documented defaults', () => {
    expect(resolveBatchOptions(undefined)).toEqual(BATCH_DEFAULTS);
    expect(BATCH_DEFAULTS).toEqual({
      concurrency: 100,
      dedupe: true,
      continueAsNewAfter: 2_000,
      resultPageSize: 200,
      chunkSize: 200,
      chunkConcurrency: 4,
    });
    expect(resolveBatchOptions({ concurrency: 5, resultPageSize: undefined })).toMatchObject({
      concurrency: 5,
      resultPageSize: 200,
    });
  });

  it('refuses every value that would loop, overflow or is of the wrong type, naming each', () => {
    expect(batchOptionsProblem(undefined)).toBeUndefined();
    expect(
      batchOptionsProblem({ concurrency: 1000, continueAsNewAfter: 1, resultPageSize: 500 }),
    ).toBeUndefined();
    expect(batchOptionsProblem({ resultPageSize: 0 })).toMatch(
      /resultPageSize must be a whole number from 1 to 500 \(got 0\)/,
    );
    expect(batchOptionsProblem({ continueAsNewAfter: 0 })).toMatch(
      /continueAsNewAfter must be a whole number from 1 to 5000 \(got 0\)/,
    );
    expect(batchOptionsProblem({ concurrency: 2.5 })).toMatch(/concurrency must be a whole number/);
    expect(batchOptionsProblem({ concurrency: '10' })).toMatch(/concurrency .* \(got "10"\)/);
    expect(batchOptionsProblem({ maxAuthorizations: 0 })).toMatch(/maxAuthorizations/);
    expect(batchOptionsProblem({ dedupe: 'no' })).toMatch(/dedupe must be true or false/);
    expect(batchOptionsProblem({ rate: 5 })).toMatch(/unknown batch option\(s\): rate/);
    expect(batchOptionsProblem('fast')).toMatch(/must be an object/);
    // Every problem at once.
    expect(batchOptionsProblem({ resultPageSize: 0, continueAsNewAfter: -1 })!.split('; ')).toHaveLength(2);
  });
});

describe('input items and pages', () => {
  it('cuts overlong fields to one character over the limit and refuses too many operations', () => {
    const long = boundedItem({ msisdn: '+4477009', operations: ['sim-swap'], ref: 'r'.repeat(5000) }, 3);
    expect(long.ref).toHaveLength(FIELD_LIMITS.ref + 1);
    expect(long.index).toBe(3);
    const repeated = boundedItem({ msisdn: '+1', operations: ['sim-swap', 'sim-swap', 'carrier'] }, 0);
    expect(repeated.operations).toEqual(['sim-swap', 'carrier']);
    const many = Array.from({ length: 17 }, (_, i) => `op-${i}`) as never[];
    const tooMany = () => boundedItem({ msisdn: '+1', operations: many }, 7);
    expect(tooMany).toThrow(InvalidRequestError);
    expect(tooMany).toThrow(/item 7 has 17 operations/);
  });

  it('builds pages by count and by bytes, the same way every time', () => {
    const build = (items: BatchPageItem[], max: number) => {
      const builder = new PageBuilder(max);
      const pages: BatchPageItem[][] = [];
      for (const i of items) {
        const full = builder.add(i);
        if (full) pages.push(full);
      }
      pages.push(builder.finish());
      return pages;
    };
    const small = Array.from({ length: 7 }, (_, i) => item(i));
    expect(build(small, 3).map((p) => p.length)).toEqual([3, 3, 1]);
    expect(build(small, 7).map((p) => p.length)).toEqual([7]);
    expect(build([], 3)).toEqual([[]]);

    // 3,000 items with 256-character refs: far more than 256 KiB, so pages close by bytes first.
    const big = Array.from({ length: 3_000 }, (_, i) => item(i, { ref: 'x'.repeat(256) }));
    const pages = build(big, 5_000);
    expect(pages.length).toBeGreaterThan(3);
    for (const p of pages) expect(jsonBytes(page(0, p, false))).toBeLessThanOrEqual(PAGE_MAX_BYTES);
    expect(pages.flat().map((i) => i.index)).toEqual(big.map((i) => i.index));
    expect(build(big, 5_000).map((p) => p.length)).toEqual(pages.map((p) => p.length));
  });

  it('counts UTF-8 bytes as Buffer does', () => {
    for (const text of ['abc', 'Zürich', '東京', '😀 ok', '']) {
      expect(utf8Length(text)).toBe(Buffer.byteLength(text));
    }
  });

  it('dedupes only checks that would ask the same question', () => {
    const base: BatchItem = { msisdn: '+447700900001', operations: ['sim-swap'], maxAge: 24 };
    const key = dedupeKey(base, 'sim-swap');
    expect(key).toBeDefined();
    expect(dedupeKey({ ...base, ref: 'other' }, 'sim-swap')).toBe(key);
    expect(dedupeKey({ ...base, maxAge: 720 }, 'sim-swap')).not.toBe(key);
    expect(dedupeKey({ ...base, api: 'identity-insights' }, 'sim-swap')).not.toBe(key);
    expect(dedupeKey({ ...base, purpose: 'IdentityVerification' }, 'sim-swap')).not.toBe(key);
    // The default purpose and maxAge are the same check as naming them.
    expect(dedupeKey({ msisdn: base.msisdn, operations: ['sim-swap'] }, 'sim-swap')).toBe(
      dedupeKey({ ...base, maxAge: 240, purpose: 'FraudPreventionAndDetection' }, 'sim-swap'),
    );
    // Invalid requests are recorded invalid, never deduplicated.
    expect(dedupeKey({ ...base, maxAge: 0 }, 'sim-swap')).toBeUndefined();
    expect(dedupeKey({ ...base, ref: 'r'.repeat(257) }, 'sim-swap')).toBeUndefined();
    expect(dedupeKey({ ...base, api: 'camara' }, 'carrier')).toBeUndefined();
  });

  it('carrier defaults to the one API that serves it', () => {
    expect(defaultApiFor('sim-swap')).toBe('camara');
    expect(defaultApiFor('carrier')).toBe('identity-insights');
    expect(defaultApiFor('teleport')).toBe('camara');
  });
});

describe('BatchState', () => {
  it('queues valid checks, records invalid ones and duplicates at once, and counts them', () => {
    const batch = new BatchState('b', { concurrency: 2 });
    const ack = batch.addPage(
      page(0, [
        item(0, { operations: ['sim-swap', 'device-roaming'] }),
        item(1, { msisdn: '12345' }),
        item(2, { operations: ['teleport' as never] }),
        item(3, { duplicateOf: { 'sim-swap': 0 } }),
        item(4, { operations: ['carrier'] }),
        item(5, { operations: ['carrier'], api: 'camara' }),
        item(6, { ref: 'r'.repeat(FIELD_LIMITS.ref + 1) }),
        item(7, { operations: [] }),
      ]),
    );
    expect(ack).toEqual({ accepted: true, nextPageIndex: 1 });
    const p = batch.snapshot();
    expect(p).toMatchObject({
      total: 9,
      done: 6,
      queued: 3,
      duplicates: 1,
      pagesReceived: 1,
      state: 'receiving',
    });
    expect(p.byOutcome).toEqual({ ok: 0, failed: 0, invalid: 5, cancelled: 0 });
    expect(p.byErrorCode).toEqual({ INVALID_INPUT: 5 });
    const invalid = (i: number) => batch.pending.find((r) => r.index === i)!.error!.message;
    expect(invalid(1)).toMatch(/must be E\.164/);
    expect(invalid(5)).toMatch(/carrier runs only over identity-insights/);
    expect(invalid(6)).toMatch(/ref is longer than 256 characters/);
    expect(invalid(7)).toMatch(/operation must be one of/);
    // carrier without an api goes over identity-insights; the others over camara.
    expect(batch.queue.map((c) => `${c.index}/${c.request.operation}/${c.request.api}`)).toEqual([
      '0/sim-swap/camara',
      '0/device-roaming/camara',
      '4/carrier/identity-insights',
    ]);
  });

  it('endRun: the run starts no more checks, drains, then continues as new; a run that started none goes on', () => {
    const batch = new BatchState('b', { concurrency: 2, continueAsNewAfter: 100 });
    batch.endRun(); // nothing started yet: ignored, or the batch would continue as new forever
    batch.addPage(page(0, [item(0), item(1), item(2)], true));
    expect(batch.canLaunch()).toBe(true);
    const first = batch.launch();
    batch.endRun();
    expect(batch.canLaunch()).toBe(false);
    expect(batch.timeToContinueAsNew()).toBe(true);
    expect(batch.readyToContinueAsNew()).toBe(false); // one check still in flight
    batch.finished(first.check, { result: okResult('sim-swap') });
    batch.settled();
    expect(batch.readyToContinueAsNew()).toBe(true);
    expect(batch.hasWork()).toBe(true);
    // The next run starts the two checks this one left queued.
    const next = new BatchState('b', { concurrency: 2, continueAsNewAfter: 100 }, batch.continueAsNew());
    expect(next.queue.map((c) => c.index)).toEqual([1, 2]);
    expect(next.canLaunch()).toBe(true);
  });

  it('records an overlong ref as before where the patch gate says the run predates the rule', () => {
    const old = new BatchState('b', {}, undefined, () => false);
    old.addPage(page(0, [item(0, { ref: 'r'.repeat(300) })], true));
    expect(old.snapshot()).toMatchObject({ queued: 1, done: 0 });
  });

  it('acknowledges a resent page without adding it; refuses early, late and malformed pages', () => {
    const batch = new BatchState('b', {});
    batch.addPage(page(0, [item(0)]));
    expect(batch.pageRefusal(page(0, [item(0)]))).toBeUndefined();
    expect(batch.addPage(page(0, [item(0)]))).toEqual({ accepted: false, nextPageIndex: 1 });
    expect(batch.snapshot().total).toBe(1);
    expect(batch.pageRefusal(page(2, []))).toBeInstanceOf(RangeError);
    expect(batch.pageRefusal({ pageIndex: 1.5, items: [] } as unknown as BatchPage)).toBeInstanceOf(
      TypeError,
    );
    batch.addPage(page(1, [item(1)], true));
    expect(batch.snapshot()).toMatchObject({ state: 'running', inputComplete: true });
    expect(batch.pageRefusal(page(2, [item(2)]))?.message).toMatch(/input is complete/);
  });

  it('a full queue refuses a page with a typed, retryable BATCH_BUSY failure — by checks and by bytes', () => {
    const batch = new BatchState('b', { concurrency: 1 });
    expect(batch.queueLimit).toBe(1_000);
    batch.addPage(
      page(
        0,
        Array.from({ length: 900 }, (_, i) => item(i)),
      ),
    );
    expect(
      batch.pageRefusal(
        page(
          1,
          Array.from({ length: 100 }, (_, i) => item(900 + i)),
        ),
      ),
    ).toBeUndefined();
    // 60 items × 2 operations = 120 checks: over the 1,000-check queue.
    const refusal = batch.pageRefusal(
      page(
        1,
        Array.from({ length: 60 }, (_, i) => item(900 + i, { operations: ['sim-swap', 'device-roaming'] })),
      ),
    );
    expect(refusal).toBeInstanceOf(ApplicationFailure);
    expect(refusal).toMatchObject({ type: BATCH_BUSY, nonRetryable: false });
    expect(refusal!.message).toMatch(/900 checks queued; send page 1 again shortly/);

    // Few checks but many bytes: the queue must fit in one continue-as-new payload.
    const heavy = new BatchState('b', { concurrency: 1 });
    const fat = (i: number) => item(i, { ref: 'x'.repeat(256), operations: ['sim-swap', 'sim-swap-date'] });
    let index = 0;
    for (let p = 0; ; p++) {
      const next = page(
        p,
        Array.from({ length: 200 }, () => fat(index++)),
      );
      const why = heavy.pageRefusal(next);
      if (why) {
        expect(why).toMatchObject({ type: BATCH_BUSY });
        break;
      }
      heavy.addPage(next);
      expect(heavy.queue.length).toBeLessThan(heavy.queueLimit);
    }
    expect(jsonBytes(heavy.queue)).toBeLessThanOrEqual(QUEUE_MAX_BYTES * 1.01);
    // An empty queue takes any page (so a batch never stalls).
    expect(
      new BatchState('b', {}).pageRefusal(
        page(
          0,
          Array.from({ length: 5000 }, (_, i) => item(i)),
        ),
      ),
    ).toBeUndefined();
  });

  it('launches up to the concurrency, builds the child with its api, and records how each check ended', () => {
    const batch = new BatchState('nightly', { concurrency: 2, maxAuthorizations: 3, fast: true });
    batch.addPage(
      page(
        0,
        [
          item(0, { subject: 'abc', ref: 'r0', maxAge: 24 }),
          item(1, { api: 'identity-insights', operations: ['device-roaming'] }),
          item(2),
          item(3),
        ],
        true,
      ),
    );
    const started: ReturnType<BatchState['launch']>[] = [];
    while (batch.canLaunch()) started.push(batch.launch());
    expect(started).toHaveLength(2);
    expect(batch.snapshot()).toMatchObject({ inFlight: 2, queued: 2 });

    const [first, second] = started;
    expect(first!.start.workflowId).toBe('nightly/0/sim-swap');
    expect(first!.start.input).toMatchObject({
      msisdn: '+447700900000',
      operation: 'sim-swap',
      api: 'camara',
      maxAge: 24,
      subject: 'abc',
      batchId: 'nightly',
      maxAuthorizations: 3,
      fast: true,
    });
    expect(first!.start.searchAttributes.map((a) => `${a.key.name}=${a.value}`)).toEqual([
      'NetcheckOperation=sim-swap',
      'NetcheckApi=camara',
      'NetcheckBatchId=nightly',
      'NetcheckSubject=abc',
    ]);
    expect(second!.start.staticSummary).toBe(
      'device-roaming · identity-insights · +44*******001 · batch nightly #1',
    );
    expect(second!.start.staticDetails).toMatch(/\*\*API:\*\* identity-insights/);
    expect(JSON.stringify(second!.start.searchAttributes)).not.toContain('+4477');

    batch.finished(first!.check, { result: okResult('sim-swap') });
    batch.settled();
    batch.finished(second!.check, { error: { code: 'INTERNAL', message: 'terminated' } });
    batch.settled();
    expect(batch.pending.map((r) => [r.index, r.ref, r.outcome])).toEqual([
      [0, 'r0', 'ok'],
      [1, undefined, 'failed'],
    ]);
    expect(batch.snapshot()).toMatchObject({ inFlight: 0, done: 2, byErrorCode: { INTERNAL: 1 } });
  });

  it('stores result pages of resultPageSize, and the rest when asked for all', () => {
    const batch = new BatchState('b', { resultPageSize: 2 });
    for (let i = 0; i < 5; i++) batch.record({ index: i, operation: 'sim-swap', outcome: 'invalid' });
    expect(batch.hasWork()).toBe(true);
    const stored: number[] = [];
    for (let p = batch.nextResultPage(false); p; p = batch.nextResultPage(false)) {
      stored.push(p.length);
      batch.resultPageStored(p.length);
    }
    expect(stored).toEqual([2, 2]);
    expect(batch.nextResultPage(true)).toHaveLength(1);
    batch.resultPageStored(1);
    expect(batch.nextResultPage(true)).toBeUndefined();
    expect(batch.snapshot().resultPages).toBe(3);
  });

  it('cancelled: every queued check becomes a cancelled record', () => {
    const batch = new BatchState('b', { concurrency: 1 });
    batch.addPage(page(0, [item(0), item(1), item(2)], true));
    const { check } = batch.launch();
    batch.finished(check, { cancelled: true });
    batch.settled();
    batch.cancelQueued();
    expect(batch.pending.map((r) => [r.index, r.outcome, r.error?.code])).toEqual([
      [0, 'cancelled', 'CANCELLED'],
      [1, 'cancelled', 'CANCELLED'],
      [2, 'cancelled', 'CANCELLED'],
    ]);
    expect(batch.snapshot()).toMatchObject({ queued: 0, done: 3, byOutcome: { cancelled: 3 } });
  });
});

/**
 * Drives BatchState the way workflows/batch.ts does — wake when there is work, launch, store
 * full pages, continue as new when due — with checks that end at once, and returns what was
 * stored. A loop guard turns a batch that would never end into a test failure.
 */
function runBatch(
  items: BatchPageItem[],
  options: ConstructorParameters<typeof BatchState>[1],
  pageSize: number,
) {
  const pages: BatchPage[] = [];
  for (let i = 0; i < items.length || pages.length === 0; i += pageSize) {
    pages.push(page(pages.length, items.slice(i, i + pageSize), i + pageSize >= items.length));
  }
  const stored: StoredRecord[][] = [];
  let carried: ReturnType<BatchState['continueAsNew']> | undefined;
  let runs = 0;
  let nextPage = 0;
  const inFlight: Array<{ check: BatchState['queue'][number]; end: CheckEnd }> = [];
  for (;;) {
    runs++;
    const batch = new BatchState('sim', options, carried ? structuredClone(carried) : undefined);
    let continued = false;
    for (let step = 0; step < 100_000; step++) {
      // Input arrives whenever the batch takes it.
      if (nextPage < pages.length && !batch.pageRefusal(pages[nextPage]!)) batch.addPage(pages[nextPage++]!);
      // Children in flight end (one per step).
      const ended = inFlight.shift();
      if (ended) {
        batch.finished(ended.check, ended.end);
        batch.settled();
      }
      if (!batch.hasWork()) continue;
      while (batch.canLaunch()) {
        const { check } = batch.launch();
        inFlight.push({ check, end: { result: okResult(check.request.operation) } });
      }
      for (let p = batch.nextResultPage(false); p; p = batch.nextResultPage(false)) {
        stored.push(p);
        batch.resultPageStored(p.length);
      }
      if (batch.allDone()) {
        for (let p = batch.nextResultPage(true); p; p = batch.nextResultPage(true)) {
          stored.push(p);
          batch.resultPageStored(p.length);
        }
        return { stored, runs, progress: batch.snapshot() };
      }
      if (batch.readyToContinueAsNew()) {
        for (let p = batch.nextResultPage(true); p; p = batch.nextResultPage(true)) {
          stored.push(p);
          batch.resultPageStored(p.length);
        }
        carried = batch.continueAsNew();
        continued = true;
        break;
      }
    }
    if (!continued) throw new Error('the batch never finished');
    if (runs > 1_000) throw new Error('the batch continues as new forever');
  }
}

describe('a whole batch, driven like the workflow', () => {
  it('one record per (item, operation) across input pages, result pages and runs', () => {
    const items = Array.from({ length: 57 }, (_, i) =>
      item(i, {
        operations: i % 3 === 0 ? ['sim-swap', 'device-roaming'] : ['sim-swap'],
        ...(i % 10 === 9 ? { duplicateOf: { 'sim-swap': i - 1 } } : {}),
        ...(i === 20 ? { msisdn: 'nope' } : {}),
      }),
    );
    const { stored, runs, progress } = runBatch(
      items,
      { concurrency: 4, continueAsNewAfter: 10, resultPageSize: 7 },
      8,
    );
    const records = stored.flat();
    const expected = items.reduce((n, i) => n + i.operations.length, 0);
    expect(records).toHaveLength(expected);
    expect(new Set(records.map((r) => `${r.index}/${r.operation}`)).size).toBe(expected);
    // Full pages while a run goes on; a run stores the rest before it continues as new.
    expect(stored.every((p) => p.length >= 1 && p.length <= 7)).toBe(true);
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(progress).toMatchObject({
      total: expected,
      done: expected,
      inFlight: 0,
      queued: 0,
      runs,
      duplicates: 5,
    });
    expect(progress.byOutcome.invalid).toBe(1);
  });

  it('the smallest allowed options still finish', () => {
    const items = Array.from({ length: 5 }, (_, i) => item(i));
    const { stored, runs } = runBatch(items, { concurrency: 1, continueAsNewAfter: 1, resultPageSize: 1 }, 1);
    expect(stored.map((p) => p.length)).toEqual([1, 1, 1, 1, 1]);
    expect(runs).toBe(5);
  });
});
