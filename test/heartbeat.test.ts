/**
 * Remote activities heartbeat while they run: a worker killed while its bc-authorize waits on a
 * slow provider is noticed at the heartbeat timeout, and a replacement worker retries the step
 * long before the step's 120-s start-to-close timeout would have let it.
 */
import { once } from 'node:events';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCheck } from '../client/index.js';
import {
  connectTestEnv,
  createTestWorker,
  numberWith,
  simulatorStats,
  startWorkerProcess,
  uniqueTaskQueue,
  type TestEnv,
} from './support/harness.js';

const { EventType } = temporal.api.enums.v1;
const { TimeoutType } = temporal.api.enums.v1;

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) =>
  Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

it('a worker killed during a slow bc-authorize: a replacement retries it after the heartbeat timeout', async () => {
  const taskQueue = uniqueTaskQueue('heartbeat');
  // The first bc-authorize of this number hangs for two minutes (then answers); later ones answer at once.
  const msisdn = await numberWith(env.simulatorUrl, {
    interval: 1,
    connectivity: 'CONNECTED_DATA',
    faults: [{ endpoint: 'bc-authorize', delayMs: 120_000 }],
  });

  const first = await startWorkerProcess(taskQueue);
  const handle = await startCheck(
    env.client,
    { msisdn, operation: 'device-connectivity' },
    { taskQueue, subjectKey: 'heartbeat-test' },
  );
  // Kill the worker once its bc-authorize has been running long enough to have heartbeated.
  let heartbeated = false;
  for (let i = 0; i < 150 && !heartbeated; i++) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    heartbeated = pending.some((a) => a.activityType?.name === 'netcheck.authorize' && a.lastHeartbeatTime);
    if (!heartbeated) await new Promise((r) => setTimeout(r, 100));
  }
  expect(heartbeated, 'the running bc-authorize should heartbeat').toBe(true);
  first.kill('SIGKILL');
  await once(first, 'exit');

  const second = await createTestWorker(env, taskQueue);
  const result = await second.runUntil(handle.result());
  expect(result.status).toBe('ok');
  expect(result.authorizations).toBe(1);
  const stats = await simulatorStats(env.simulatorUrl, msisdn);
  expect(Object.values(stats.violations).every((n) => n === 0)).toBe(true);

  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.find(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
      e.activityTaskScheduledEventAttributes?.activityType?.name === 'netcheck.authorize',
  )!;
  const started = events.find(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED &&
      Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === Number(scheduled.eventId),
  )!;
  const attrs = started.activityTaskStartedEventAttributes!;
  // The step ran twice: the first attempt ended by its heartbeat timeout, not its start-to-close one.
  expect(attrs.attempt).toBe(2);
  expect(attrs.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
  // Attempt 1 started as it was scheduled (a worker was polling): attempt 2 came well before
  // the 120-s start-to-close timeout (a generous bound; the chaos run measures the speed).
  expect(ms(started.eventTime) - ms(scheduled.eventTime)).toBeLessThan(30_000);
  // Heartbeats carry no phone number (nor anything else, for a bc-authorize).
  const details = attrs.lastFailure?.timeoutFailureInfo?.lastHeartbeatDetails?.payloads ?? [];
  const text = details.map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('');
  expect(text).not.toContain(msisdn.slice(1));
}, 90_000);
