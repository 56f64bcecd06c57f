/**
 * The rate limit holds across workers: three workers of one task queue (each its own plugin,
 * HTTP client and pacing, as three processes would have), one limit R, in standard mode
 * (activities) and fast mode (local activities). The simulator limits at R too and counts every
 * 1-s window: none may hold more than R and its limiter refuses nothing.
 */
import { createPublicKey } from 'node:crypto';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startBatch } from '../client/batch.js';
import type { BatchItem } from '../domain/batch.js';
import { startSimulator } from '../simulator/index.js';
import { rateLimiterId, rateLimiterTaskQueue } from '../workflows/rate-limiter.js';
import { connectTestEnv, createTestWorker, uniqueTaskQueue, type TestEnv } from './support/harness.js';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

const RATE = 10;

it.each([
  ['standard', false],
  ['fast', true],
])(
  '%s mode, 3 workers, R = 10 req/s: no 1-s window above R, no request refused',
  async (_mode, fast) => {
    const sim = await startSimulator({
      applicationId: env.vonage.applicationId,
      publicKey: createPublicKey(env.vonage.privateKey),
      port: 0,
      interval: 0,
      rateLimit: RATE,
    });
    const taskQueue = uniqueTaskQueue('rate-shared');
    // One connection each: like three worker processes (the SDK allows one worker per queue per connection).
    const connections = await Promise.all(
      [1, 2, 3].map(() => NativeConnection.connect({ address: inject('temporalAddress') })),
    );
    const workers = await Promise.all(
      connections.map((connection) =>
        createTestWorker(env, taskQueue, { connection, vonage: { baseUrl: sim.url, rateLimit: RATE } }),
      ),
    );
    try {
      const items: BatchItem[] = Array.from({ length: 30 }, (_, i) => ({
        msisdn: `+9908${(200_000 + 2 * i).toString()}`,
        operations: ['sim-swap'],
        maxAge: 600,
      }));
      const run = async () => {
        const handle = await startBatch(env.client, items, {
          batchId: `rate-shared-${Date.now()}`,
          taskQueue,
          subjectKey: 'rate-shared',
          fast,
          concurrency: 30,
        });
        return handle.result();
      };
      const [w1, w2, w3] = workers;
      const summary = await w1!.runUntil(w2!.runUntil(w3!.runUntil(run())));
      expect(summary.byOutcome.ok).toBe(30);
      const stats = sim.stats();
      expect(stats.total).toBeGreaterThanOrEqual(90);
      expect(stats.violations['rate-limit-exceeded']).toBe(0);
      expect(stats.maxRequestsInAnyWindow1s).toBeLessThanOrEqual(RATE);
      // The slots came from the queue's limiter workflow.
      const limiter = await env.client.workflow.getHandle(rateLimiterId(taskQueue)).describe();
      expect(limiter.type).toBe('rateLimiter');
      await env.client.workflow.getHandle(rateLimiterId(taskQueue)).terminate('test over');
    } finally {
      await sim.close();
      await Promise.all(connections.map((c) => c.close()));
    }
  },
  60_000,
);

it('fast mode, more checks in flight than workflow task slots: the limiter is still served', async () => {
  // A fast check's workflow task stays open while its local activities wait for send slots. If
  // the limiter's own workflow tasks had to wait for one of those slots, leases would come only
  // when open tasks time out (every ~8 s) and the batch would crawl. It runs on a task queue of
  // its own, with slots of its own.
  const sim = await startSimulator({
    applicationId: env.vonage.applicationId,
    publicKey: createPublicKey(env.vonage.privateKey),
    port: 0,
    interval: 0,
    rateLimit: RATE * 2,
  });
  const taskQueue = uniqueTaskQueue('rate-fast-slots');
  const worker = await createTestWorker(env, taskQueue, {
    maxConcurrentWorkflowTaskExecutions: 4,
    vonage: { baseUrl: sim.url, rateLimit: RATE * 2 },
  });
  try {
    const items: BatchItem[] = Array.from({ length: 40 }, (_, i) => ({
      msisdn: `+9908${(300_000 + 2 * i).toString()}`,
      operations: ['sim-swap'],
      maxAge: 600,
    }));
    // 120 requests at 20/s take ~6 s. With the limiter on the checks' queue this batch had not
    // finished after 180 s: the test's timeout is what fails then.
    const summary = await worker.runUntil(async () => {
      const handle = await startBatch(env.client, items, {
        batchId: `rate-fast-slots-${Date.now()}`,
        taskQueue,
        subjectKey: 'rate-fast-slots',
        fast: true,
        concurrency: 40,
      });
      return handle.result();
    });
    expect(summary.byOutcome.ok).toBe(40);
    const stats = sim.stats();
    expect(stats.violations['rate-limit-exceeded']).toBe(0);
    expect(stats.maxRequestsInAnyWindow1s).toBeLessThanOrEqual(RATE * 2);
    const limiter = await env.client.workflow.getHandle(rateLimiterId(taskQueue)).describe();
    expect(limiter.taskQueue).toBe(rateLimiterTaskQueue(taskQueue));
    await env.client.workflow.getHandle(rateLimiterId(taskQueue)).terminate('test over');
  } finally {
    await sim.close();
  }
}, 120_000);
