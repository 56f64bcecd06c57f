/**
 * Bulk mode's durability promise: a worker process SIGKILLed in the middle of a chunk loses no
 * result, and the retry (on another worker) repeats only the checks that were in flight when it
 * died — never one whose outcome the server had recorded from a heartbeat. Proved from the
 * simulator's per-number request counts before and after the kill.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startBatch } from '../client/batch.js';
import type { BatchItem, BatchRecord } from '../domain/batch.js';
import type { BulkChunkProgress } from '../domain/bulk.js';
import {
  addScenarios,
  connectTestEnv,
  createTestWorker,
  requestCount,
  simulatorStats,
  startWorkerProcess,
  uniqueNumber,
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('a worker killed mid-chunk: every record once, and no recorded check sent again', async () => {
  const taskQueue = uniqueTaskQueue('bulk-restart');
  const numbers = Array.from({ length: 18 }, () => uniqueNumber());
  // Each flow takes about 2 s: bc-authorize, 1 s, pending, 1 s, token, the CAMARA call.
  await addScenarios(env.simulatorUrl, {
    numbers: Object.fromEntries(numbers.map((n) => [n, { interval: 1, pendingPolls: 1 }])),
  });
  const items: BatchItem[] = numbers.map((msisdn) => ({ msisdn, operations: ['device-connectivity'] }));

  const first = await startWorkerProcess(taskQueue, undefined, {
    NETCHECK_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
  });
  let recorded: BulkChunkProgress | undefined;
  const batchId = `bulk-restart-${taskQueue}`;
  try {
    const handle = await startBatch(env.client, items, {
      batchId,
      taskQueue,
      subjectKey: 'bulk-restart',
      bulk: true,
      chunkSize: 18, // one chunk: its positions are the items' indexes
      chunkConcurrency: 1,
      concurrency: 3,
    });
    const workflow = env.client.workflow.getHandle(batchId);
    const heartbeat = async () => {
      const pending = (await workflow.describe()).raw.pendingActivities?.[0];
      const payload = pending?.heartbeatDetails?.payloads?.[0];
      return payload?.data
        ? (JSON.parse(Buffer.from(payload.data).toString('utf8')) as BulkChunkProgress)
        : undefined;
    };
    // Wait until the server holds a heartbeat with some outcomes (and the chunk is not done).
    for (let i = 0; i < 120; i++) {
      const details = await heartbeat();
      if ((details?.outcomes.length ?? 0) >= 2) break;
      await sleep(250);
    }
    first.kill('SIGKILL');
    await once(first, 'exit');
    recorded = await heartbeat(); // what a retry starts from: the last heartbeat the server recorded
    expect(recorded?.outcomes.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(recorded!.outcomes.length).toBeLessThan(numbers.length);
    const atKill = await Promise.all(numbers.map((n) => simulatorStats(env.simulatorUrl, n)));

    // Another worker takes the chunk over once the dead one misses its heartbeat.
    const second = await createTestWorker(env, taskQueue);
    const records = await second.runUntil(async () => {
      const out: BatchRecord[] = [];
      for await (const record of handle.results({ pollIntervalMs: 250 })) out.push(record);
      return out;
    });
    const atEnd = await Promise.all(numbers.map((n) => simulatorStats(env.simulatorUrl, n)));

    // Exactly one record per check, all answered.
    expect(records).toHaveLength(numbers.length);
    expect(new Set(records.map((r) => r.index)).size).toBe(numbers.length);
    for (const r of records) expect(r.outcome, JSON.stringify(r.result?.error ?? r.error)).toBe('ok');

    const recordedAt = new Set(recorded!.outcomes.map((o) => o.at));
    const repeated: number[] = [];
    numbers.forEach((msisdn, index) => {
      const authorizations = requestCount(atEnd[index]!, 'bc-authorize');
      expect(atEnd[index]!.violations, msisdn).toMatchObject({ 'poll-too-early': 0, 'poll-after-expiry': 0 });
      if (recordedAt.has(index)) {
        // Recorded before the kill: not one request since, and its record is the recorded result.
        expect(atEnd[index]!.total, `recorded check ${index} was sent again`).toBe(atKill[index]!.total);
        const outcome = recorded!.outcomes.find((o) => o.at === index)!;
        expect('result' in outcome && records.find((r) => r.index === index)!.result).toEqual(
          'result' in outcome ? outcome.result : undefined,
        );
      } else if (atKill[index]!.total === 0) {
        expect(authorizations, `check ${index} started after the kill`).toBe(1); // run once, by the retry
      } else if (authorizations > 1) {
        repeated.push(index); // in flight (or not yet heartbeated) when the worker died: run again
      }
    });
    // Only checks the dead worker had started without a recorded outcome ran twice.
    for (const index of repeated) {
      expect(recordedAt.has(index)).toBe(false);
      expect(atKill[index]!.total).toBeGreaterThan(0);
    }
    const history = await workflow.fetchHistory();
    const attempts = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0)
      .filter((a) => a > 0);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2); // the chunk was retried, not restarted
  } finally {
    if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
  }
}, 90_000);
