/**
 * Batches under load and failure, each against its own simulator:
 * - 400 items (NETCHECK_LOAD_ITEMS for more; `npm run chaos` runs 10,000) with 10% 503, 5% 429
 *   and a global rate limit: every record exactly once and right for its number; no 1-s window
 *   over the limit; no protocol violation; at least three workflow runs (continue-as-new).
 * - the worker process killed mid-batch and restarted: the batch completes, nothing missing,
 *   nothing checked twice beyond what retries explain.
 */
import { createPublicKey } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBatch } from '../client/batch.js';
import type { BatchItem, BatchRecord } from '../domain/batch.js';
import { startSimulator, type Simulator } from '../simulator/index.js';
import {
  connectTestEnv,
  createTestWorker,
  startWorkerProcess,
  uniqueTaskQueue,
  type TestEnv,
} from './support/harness.js';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

async function ownSimulator(options: Partial<Parameters<typeof startSimulator>[0]> = {}): Promise<Simulator> {
  return startSimulator({
    applicationId: env.vonage.applicationId,
    publicKey: createPublicKey(env.vonage.privateKey),
    port: 0,
    interval: 0,
    expiresIn: 60,
    ...options,
  });
}

/** Virtual Operator numbers: SIM swapped 500 h ago; roaming in GB when the last digit is even. */
function voItems(count: number, prefix: string): BatchItem[] {
  return Array.from({ length: count }, (_, i) => {
    const msisdn = `+990${prefix}${(100_000 + i).toString()}`;
    const operations = i % 2 === 0 ? (['sim-swap'] as const) : (['device-roaming'] as const);
    return { msisdn, operations: [...operations], maxAge: i % 4 === 0 ? 600 : 100, ref: `r${i}` };
  });
}

function expectedData(item: BatchItem): unknown {
  if (item.operations[0] === 'sim-swap') return { swapped: item.maxAge! > 500 };
  const last2 = item.msisdn.slice(-2);
  if (last2 === '11') return { roaming: true, countryCode: 901, countryName: [] };
  if (last2 === '22') return { roaming: true, countryCode: 262, countryName: ['DE'] };
  return Number(last2) % 2 === 0
    ? { roaming: true, countryCode: 234, countryName: ['GB'] }
    : { roaming: false };
}

async function collect(records: AsyncIterable<BatchRecord>): Promise<BatchRecord[]> {
  const out: BatchRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

function expectOneCorrectRecordEach(items: BatchItem[], records: BatchRecord[]) {
  expect(records).toHaveLength(items.length);
  expect(new Set(records.map((r) => r.index)).size).toBe(items.length);
  for (const r of records) {
    expect(r.outcome, `item ${r.index}: ${JSON.stringify(r.result?.error ?? r.error)}`).toBe('ok');
    expect(r.ref).toBe(items[r.index]!.ref);
    expect(r.result?.data).toEqual(expectedData(items[r.index]!));
  }
}

const LOAD_ITEMS = Number(process.env.NETCHECK_LOAD_ITEMS) || 400;

it(`${LOAD_ITEMS} items with 503s, 429s and a rate limit: all records once, no window over the limit`, async () => {
  const rate = 150;
  const sim = await ownSimulator({
    faults: { seed: 42, unavailable: 0.1, tooManyRequests: 0.05, retryAfterSeconds: 1 },
    rateLimit: rate,
  });
  const taskQueue = uniqueTaskQueue('load');
  const worker = await createTestWorker(env, taskQueue, { vonage: { baseUrl: sim.url, rateLimit: rate } });
  try {
    const items = voItems(LOAD_ITEMS, '1');
    const records = await worker.runUntil(async () => {
      const handle = await startBatch(env.client, items, {
        batchId: `load-${Date.now()}`,
        taskQueue,
        subjectKey: 'load',
        concurrency: 100,
        continueAsNewAfter: Math.ceil(LOAD_ITEMS / 3),
      });
      const all = await collect(handle.results({ pollIntervalMs: 500 }));
      const summary = await handle.result();
      expect(summary.runs).toBeGreaterThanOrEqual(3);
      return all;
    });
    expectOneCorrectRecordEach(items, records);
    const stats = sim.stats();
    console.log('load test simulator stats', JSON.stringify(stats));
    expect(stats.maxRequestsInAnyWindow1s).toBeLessThanOrEqual(rate);
    expect(Object.values(stats.violations).reduce((a, b) => a + b, 0)).toBe(0);
    // The faults really happened (the test is not vacuous).
    const statuses = Object.values(stats.requests).flatMap((byStatus) => Object.entries(byStatus));
    expect(statuses.filter(([s]) => s === '503').reduce((a, [, n]) => a + n, 0)).toBeGreaterThan(
      LOAD_ITEMS / 10,
    );
    expect(statuses.filter(([s]) => s === '429').reduce((a, [, n]) => a + n, 0)).toBeGreaterThan(
      LOAD_ITEMS / 20,
    );
  } finally {
    await sim.close();
  }
}, 240_000);

it('the worker killed mid-batch and restarted: the batch completes, none missing, none checked twice', async () => {
  const sim = await ownSimulator({ faults: { latencyMs: 50 } });
  const taskQueue = uniqueTaskQueue('kill');
  const concurrency = 20;
  try {
    const items = voItems(200, '2');
    const first = await startWorkerProcess(taskQueue, sim.url);
    const handle = await startBatch(env.client, items, {
      batchId: `kill-${Date.now()}`,
      taskQueue,
      subjectKey: 'kill',
      concurrency,
    });
    for (let i = 0; i < 300 && (await handle.progress()).done < 40; i++)
      await new Promise((r) => setTimeout(r, 100));
    const before = await handle.progress();
    expect(before.done).toBeGreaterThanOrEqual(40);
    expect(before.done).toBeLessThan(200);
    first.kill('SIGKILL');
    await once(first, 'exit');

    const second = await createTestWorker(env, taskQueue, { vonage: { baseUrl: sim.url } });
    const records = await second.runUntil(collect(handle.results({ pollIntervalMs: 500 })));
    expectOneCorrectRecordEach(items, records);
    // Each check calls its CAMARA API once; only calls cut off by the kill may repeat (at most one per check in flight).
    const stats = sim.stats();
    const camaraCalls = ['sim-swap', 'device-roaming']
      .map((endpoint) => Object.values(stats.requests[endpoint] ?? {}).reduce((a, b) => a + b, 0))
      .reduce((a, b) => a + b, 0);
    expect(camaraCalls).toBeGreaterThanOrEqual(200);
    expect(camaraCalls).toBeLessThanOrEqual(200 + concurrency);
  } finally {
    await sim.close();
  }
}, 180_000);
