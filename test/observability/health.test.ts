/**
 * The worker's health endpoint against a real worker on the dev server: not ready before it
 * polls, ready while it polls, not ready as soon as it drains (worker.shutdown() with an
 * activity still in flight) while staying live, and not ready once stopped.
 */
import type { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCheck } from '../../client/index.js';
import { startHealthServer, type HealthServer } from '../../worker/health.js';
import {
  addScenarios,
  connectTestEnv,
  createTestWorker,
  simulatorStats,
  requestCount,
  uniqueNumber,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';

interface Answer {
  status: number;
  body: { status: string; state?: string; reason?: string };
}

async function get(url: string): Promise<Answer> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('/healthz and /readyz', () => {
  it('follow the worker from created to running to draining to stopped', async () => {
    const taskQueue = uniqueTaskQueue('health');
    const worker: Worker = await createTestWorker(env, taskQueue, { shutdownGraceTime: '30 seconds' });
    const health: HealthServer = await startHealthServer(worker, { port: 0, host: '127.0.0.1' });
    try {
      // Created, not yet polling.
      expect(await get(`${health.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(await get(`${health.url}/readyz`)).toMatchObject({
        status: 503,
        body: { status: 'unavailable', state: 'INITIALIZED' },
      });

      // run() first checks the namespace's search attributes (the plugin), then polls.
      const running = worker.run();
      await expect
        .poll(() => get(`${health.url}/readyz`), { timeout: 10_000, interval: 50 })
        .toEqual({ status: 200, body: { status: 'ok', state: 'RUNNING' } });

      // A check whose bc-authorize the simulator holds for a while: the activity is in flight.
      const msisdn = uniqueNumber();
      await addScenarios(env.simulatorUrl, {
        numbers: { [msisdn]: { interval: 0.2, faults: [{ endpoint: 'bc-authorize', delayMs: 3_000 }] } },
      });
      const handle = await startCheck(
        env.client,
        { msisdn, operation: 'sim-swap' },
        { taskQueue, subjectKey: 'h' },
      );
      await expect
        .poll(() => worker.getStatus().numInFlightActivities, { timeout: 20_000, interval: 50 })
        .toBe(1);

      worker.shutdown();
      const draining = await get(`${health.url}/readyz`);
      expect(draining.status).toBe(503);
      expect(['STOPPING', 'DRAINING']).toContain(draining.body.state);
      expect(draining.body.reason).toMatch(/shutting down/);
      // Still live: the process is finishing its work, not stuck.
      expect((await get(`${health.url}/healthz`)).status).toBe(200);
      // The activity in flight still finishes before the worker stops.
      expect(worker.getStatus().numInFlightActivities).toBe(1);

      await running;
      expect(worker.getState()).toBe('STOPPED');
      expect(await get(`${health.url}/readyz`)).toMatchObject({ status: 503, body: { state: 'STOPPED' } });
      const attempts = await simulatorStats(env.simulatorUrl, msisdn);
      expect(requestCount(attempts, 'bc-authorize', 200)).toBe(1);
      await handle.terminate('health test done');
    } finally {
      await health.close();
    }
  });

  it('is not ready when the Temporal frontend does not answer, and answers 404 elsewhere', async () => {
    const unreachable = {
      withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
      workflowService: {
        getSystemInfo: () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')),
      },
    } as unknown as NativeConnection;
    const health = await startHealthServer(
      { getState: () => 'RUNNING', connection: unreachable },
      { port: 0, host: '127.0.0.1' },
    );
    try {
      const answer = await get(`${health.url}/readyz`);
      expect(answer.status).toBe(503);
      expect(answer.body.reason).toMatch(/did not answer: 14 UNAVAILABLE/);
      expect((await get(`${health.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${health.url}/metrics`)).status).toBe(404);
    } finally {
      await health.close();
    }
  });

  it('reports a failed worker as not live', async () => {
    const health = await startHealthServer({ getState: () => 'FAILED' }, { port: 0, host: '127.0.0.1' });
    try {
      expect(await get(`${health.url}/healthz`)).toMatchObject({ status: 503, body: { state: 'FAILED' } });
      expect((await get(`${health.url}/readyz`)).status).toBe(503);
    } finally {
      await health.close();
    }
  });
});
