/**
 * Issue #10 item 7, as a fraud pipeline runs it: a 305-number sim-swap batch (300 valid, 5
 * invalid), worker and provider both limited to 20 req/s, 10 % of requests answered 503 and 5 %
 * 429, CIBA interval 1 s, expires_in 20 s. Started flows' polls go before new authorizations, so
 * no authorization expires in the queue: every valid number comes back ok, the limit holds.
 */
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBatch } from '../client/batch.js';
import type { BatchItem, BatchRecord } from '../domain/batch.js';
import { startSimulator } from '../simulator/index.js';
import { connectTestEnv, createTestWorker, uniqueTaskQueue, type TestEnv } from './support/harness.js';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

it('305-number batch under a 20 req/s limit with 503s and 429s: all 300 valid numbers ok, limit held', async () => {
  const rate = 20;
  const sim = await startSimulator({
    applicationId: env.vonage.applicationId,
    publicKey: createPublicKey(env.vonage.privateKey),
    port: 0,
    interval: 1,
    expiresIn: 20,
    rateLimit: rate,
    faults: { seed: 7, unavailable: 0.1, tooManyRequests: 0.05, retryAfterSeconds: 1 },
  });
  const taskQueue = uniqueTaskQueue('rate-expiry');
  // The simulator shares this process's event loop with the worker: when the machine is busy
  // (the whole suite runs four files at once), a stalled loop bunches the simulator's receipt
  // times beyond the limiter's 50-ms margin (a full run saw 21 at R = 20; alone it sees 20).
  // The worker runs one request per second under the provider's limit, which still fails on any
  // burst; the exact limit at a provider in its own process is held by the chaos run and the bench.
  const worker = await createTestWorker(env, taskQueue, {
    vonage: { baseUrl: sim.url, rateLimit: rate - 1 },
  });
  try {
    // Virtual Operator numbers: the last SIM change was 500 h ago, so maxAge 600 → swapped.
    const valid: BatchItem[] = Array.from({ length: 300 }, (_, i) => ({
      msisdn: `+9907${(100_000 + 2 * i).toString()}`, // even: never the VO error numbers (…99)
      operations: ['sim-swap'],
      maxAge: i % 2 === 0 ? 600 : 100,
    }));
    const invalid: BatchItem[] = ['+1', '+0123456789', '447700900000', '+44 not', '+'].map((msisdn) => ({
      msisdn,
      operations: ['sim-swap'],
    }));
    const items = [...valid, ...invalid];
    const records = await worker.runUntil(async () => {
      const handle = await startBatch(env.client, items, {
        batchId: `rate-expiry-${Date.now()}`,
        taskQueue,
        subjectKey: 'rate-expiry',
      });
      const out: BatchRecord[] = [];
      for await (const r of handle.results({ pollIntervalMs: 500 })) out.push(r);
      return out;
    });
    expect(records).toHaveLength(305);
    const failed = records.filter((r) => r.index < 300 && r.outcome !== 'ok');
    expect(failed.map((r) => `${r.index}: ${r.result?.error?.code ?? r.error?.code}`)).toEqual([]);
    for (const r of records.filter((r) => r.index < 300)) {
      expect(r.result?.data).toEqual({ swapped: valid[r.index]!.maxAge === 600 });
    }
    expect(records.filter((r) => r.index >= 300).every((r) => r.outcome === 'invalid')).toBe(true);

    const stats = sim.stats();
    const reauthorizations = records.reduce(
      (n, r) => n + Math.max(0, (r.result?.authorizations ?? 1) - 1),
      0,
    );
    console.log('rate-limit/expiry batch', JSON.stringify({ stats, reauthorizations }));
    expect(stats.maxRequestsInAnyWindow1s).toBeLessThanOrEqual(rate);
    expect(stats.violations['poll-after-expiry']).toBe(0);
    expect(stats.violations['poll-too-early']).toBe(0);
    // The faults really happened.
    const count = (status: string) =>
      Object.values(stats.requests).reduce((n, byStatus) => n + (byStatus[status] ?? 0), 0);
    expect(count('503')).toBeGreaterThan(30);
    expect(count('429')).toBeGreaterThan(15);
  } finally {
    await sim.close();
  }
}, 300_000);
