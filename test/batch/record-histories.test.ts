/**
 * Records batchCheck histories for the replay test (test/history.test.ts replays every file in
 * test/fixtures/histories): a batch that crosses input pages, result pages and continue-as-new
 * with invalid items and a duplicate (every run of it), a cancelled batch with checks still
 * queued, and (netcheck 0.2) a batch with a ref over the length limit (the batch-field-limits
 * patch) and an explicit api per item. Histories are recorded once, from the code of their time, and kept: they are what
 * running batches look like to the workflow code that replays them.
 *
 *   NETCHECK_RECORD_HISTORIES=1 npx vitest run test/batch/record-histories.test.ts
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { startBatch } from '../../client/batch.js';
import type { BatchItem, BatchRecord } from '../../domain/batch.js';
import { addScenarios, uniqueNumber, useTestWorker } from '../support/harness.js';

const fixturesDir = path.join(import.meta.dirname, '..', 'fixtures', 'histories');
const recording = process.env.NETCHECK_RECORD_HISTORIES === '1';
const { History } = temporal.api.history.v1;
const historyToJSON = (history: temporal.api.history.v1.IHistory) =>
  JSON.stringify(
    History.toObject(History.fromObject(history), { bytes: String, longs: String, enums: String }),
  );

const ctx = useTestWorker('batch-histories');
const missing = (name: string) => !existsSync(path.join(fixturesDir, `${name}.json`));

async function drain(records: AsyncIterable<BatchRecord>): Promise<number> {
  let n = 0;
  for await (const _ of records) n++;
  return n;
}

/** Every run of a workflow id, oldest first (continue-as-new makes several). */
async function runsOf(workflowId: string): Promise<string[]> {
  const runs: Array<{ runId: string; start: number }> = [];
  for await (const info of ctx.env.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    runs.push({ runId: info.runId, start: info.startTime.getTime() });
  }
  return runs.sort((a, b) => a.start - b.start).map((r) => r.runId);
}

describe.runIf(recording)('batch history fixtures', () => {
  it('records a paged batch with continue-as-new, invalid items and a duplicate', async () => {
    if (!missing('batch-paged-run1')) return;
    const swapped = uniqueNumber();
    const other = uniqueNumber();
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: {
        [swapped]: { interval: 0.2, lastSimChangeHoursAgo: 2, connectivity: 'CONNECTED_SMS' },
        [other]: { interval: 0.2, denied: true },
      },
    });
    const items: BatchItem[] = [
      { msisdn: '+99012345601', operations: ['device-roaming', 'sim-swap'], ref: 'a' },
      { msisdn: '+99012345602', operations: ['device-roaming'], ref: 'b' },
      { msisdn: swapped, operations: ['sim-swap', 'device-connectivity'], maxAge: 24, ref: 'c' },
      { msisdn: other, operations: ['sim-swap'], ref: 'd' },
      { msisdn: '12345', operations: ['sim-swap'], ref: 'bad-number' },
      { msisdn: swapped, operations: ['teleport' as never], ref: 'bad-op' },
      { msisdn: swapped, operations: ['sim-swap'], maxAge: 24, ref: 'dup' },
      { msisdn: '+99012345603', operations: ['sim-swap-date'], ref: 'e' },
    ];
    const batchId = `fixture-paged-${Date.now()}`;
    const handle = await startBatch(ctx.env.client, items, {
      batchId,
      taskQueue: ctx.taskQueue,
      subjectKey: 'history-test',
      concurrency: 2,
      pageSize: 3,
      continueAsNewAfter: 3,
      resultPageSize: 2,
    });
    expect(await drain(handle.results({ pollIntervalMs: 200 }))).toBe(10);
    const runs = await runsOf(batchId);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    mkdirSync(fixturesDir, { recursive: true });
    // The first run (pages arriving, continue-as-new) and the last (completion).
    for (const [name, runId] of [
      ['batch-paged-run1', runs[0]!],
      ['batch-paged-last', runs.at(-1)!],
    ] as const) {
      const history = await ctx.env.client.workflow.getHandle(batchId, runId).fetchHistory();
      writeFileSync(path.join(fixturesDir, `${name}.json`), historyToJSON(history));
    }
  });

  it('records a batch cancelled with checks in flight and queued', async () => {
    if (!missing('batch-cancelled')) return;
    const numbers = Array.from({ length: 5 }, () => uniqueNumber());
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: Object.fromEntries(
        numbers.map((n) => [n, { interval: 1, pendingPolls: 1000, expiresIn: 300 }]),
      ),
    });
    const handle = await startBatch(
      ctx.env.client,
      numbers.map((msisdn) => ({ msisdn, operations: ['sim-swap' as const] })),
      {
        batchId: `fixture-cancel-${Date.now()}`,
        taskQueue: ctx.taskQueue,
        subjectKey: 'history-test',
        concurrency: 2,
      },
    );
    for (let i = 0; i < 100 && (await handle.progress()).inFlight < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await handle.cancel();
    expect((await handle.result()).state).toBe('cancelled');
    const history = await ctx.env.client.workflow.getHandle(handle.batchId).fetchHistory();
    writeFileSync(path.join(fixturesDir, 'batch-cancelled.json'), historyToJSON(history));
  });

  it('records a batch with a ref over the limit and an api per item', async () => {
    if (!missing('batch-field-limits')) return;
    const msisdn = uniqueNumber();
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: { [msisdn]: { interval: 0.2, connectivity: 'CONNECTED_DATA' } },
    });
    const handle = await startBatch(
      ctx.env.client,
      [
        { msisdn, operations: ['device-connectivity'], api: 'camara', ref: 'ok' },
        { msisdn, operations: ['device-connectivity'], ref: 'r'.repeat(300) },
        { msisdn, operations: ['carrier'], api: 'camara', ref: 'wrong-api' },
      ],
      { batchId: `fixture-limits-${Date.now()}`, taskQueue: ctx.taskQueue, subjectKey: 'history-test' },
    );
    const summary = await handle.result();
    expect(summary.byOutcome).toMatchObject({ ok: 1, invalid: 2 });
    const history = await ctx.env.client.workflow.getHandle(handle.batchId).fetchHistory();
    // The patch marker says this run took the new rule (its id is in a payload, base64 in JSON).
    const json = historyToJSON(history);
    const markers = [...json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) =>
      Buffer.from(m[1]!, 'base64').toString('utf8'),
    );
    expect(json).toContain('EVENT_TYPE_MARKER_RECORDED');
    expect(markers.some((text) => text.includes('batch-field-limits'))).toBe(true);
    writeFileSync(path.join(fixturesDir, 'batch-field-limits.json'), json);
  });
});
