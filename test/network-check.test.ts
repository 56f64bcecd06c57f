/**
 * networkCheck end to end: real Temporal dev server, real worker with the netcheck plugin,
 * real HTTP to the simulator. Each test has its own numbers and task queue.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { checkNumber, startCheck, checkStatus } from '../client/index.js';
import type { CheckResult } from '../domain/types.js';
import type { networkCheck } from '../workflows/network-check.js';
import {
  addScenarios,
  createTestWorker,
  requestCount,
  simulatorStats,
  uniqueNumber,
  uniqueTaskQueue,
  useTestWorker,
} from './support/harness.js';

const ctx = useTestWorker('network-check');
const subjectKey = 'test-subject-key';

type Entry = NonNullable<Parameters<typeof addScenarios>[1]['numbers']>[string];

async function numberWith(entry: Entry): Promise<string> {
  const msisdn = uniqueNumber();
  await addScenarios(ctx.env.simulatorUrl, { numbers: { [msisdn]: { interval: 0.2, ...entry } } });
  return msisdn;
}

const run = (request: Parameters<typeof checkNumber>[1], options: Parameters<typeof checkNumber>[2] = {}) =>
  checkNumber(ctx.env.client, request, { taskQueue: ctx.taskQueue, subjectKey, ...options });

function expectOk(result: CheckResult) {
  expect(result.error).toBeUndefined();
  expect(result.status).toBe('ok');
}

describe('happy path per operation', () => {
  it('sim-swap: swapped when the last change is inside maxAge, with every phase timestamped', async () => {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 10 });
    const result = await run({ msisdn, operation: 'sim-swap', maxAge: 24 });
    expectOk(result);
    expect(result.data).toEqual({ swapped: true });
    expect(result.operation).toBe('sim-swap');
    expect(result.authorizations).toBe(1);
    expect(result.polls).toBe(1);
    expect(result.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const { started, authorized, tokenIssued, checked, finished } = result.timestamps;
    expect([started, authorized, tokenIssued, checked, finished].every((t) => typeof t === 'string')).toBe(
      true,
    );
    expect(Date.parse(started)).toBeLessThanOrEqual(Date.parse(finished));
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(stats.violations['poll-too-early'] ?? 0).toBe(0);
  });

  it('sim-swap: not swapped when the change is older than maxAge; maxAge defaults to 240', async () => {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 300 });
    expect((await run({ msisdn, operation: 'sim-swap', maxAge: 100 })).data).toEqual({ swapped: false });
    expect((await run({ msisdn, operation: 'sim-swap' })).data).toEqual({ swapped: false });
    expect((await run({ msisdn, operation: 'sim-swap', maxAge: 400 })).data).toEqual({ swapped: true });
  });

  it('sim-swap-date returns latestSimChange as received', async () => {
    const msisdn = await numberWith({ lastSimChange: '2026-01-02T03:04:05Z' });
    const result = await run({ msisdn, operation: 'sim-swap-date' });
    expectOk(result);
    expect(Date.parse((result.data as { latestSimChange: string }).latestSimChange)).toBe(
      Date.parse('2026-01-02T03:04:05Z'),
    );
  });

  it('device-connectivity', async () => {
    const msisdn = await numberWith({ connectivity: 'CONNECTED_SMS' });
    const result = await run({ msisdn, operation: 'device-connectivity' });
    expectOk(result);
    expect(result.data).toEqual({ connectivityStatus: 'CONNECTED_SMS' });
  });

  it('device-roaming', async () => {
    const msisdn = await numberWith({ roaming: { roaming: true, countryCode: 262, countryName: ['DE'] } });
    const result = await run({ msisdn, operation: 'device-roaming' });
    expectOk(result);
    expect(result.data).toEqual({ roaming: true, countryCode: 262, countryName: ['DE'] });
  });

  it('Virtual Operator numbers follow Vonage’s rules', async () => {
    const result = await run({ msisdn: '+99012345622', operation: 'device-roaming' });
    expect(result.data).toEqual({ roaming: true, countryCode: 262, countryName: ['DE'] });
  });
});

describe('CIBA polling', () => {
  it('waits interval before each poll through 3 × authorization_pending', async () => {
    const msisdn = await numberWith({ pendingPolls: 3, interval: 0.5, connectivity: 'CONNECTED_DATA' });
    const started = Date.now();
    const result = await run({ msisdn, operation: 'device-connectivity' });
    expectOk(result);
    expect(result.polls).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 500);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(stats.violations['poll-too-early'] ?? 0).toBe(0);
    expect(requestCount(stats, 'token', 400)).toBe(3);
    expect(requestCount(stats, 'token', 200)).toBe(1);
  });

  it('interval 0 polls at once but re-polls after pending no faster than once a second', async () => {
    const msisdn = await numberWith({ interval: 0, pendingPolls: 2, connectivity: 'CONNECTED_DATA' });
    const result = await run({ msisdn, operation: 'device-connectivity' });
    expectOk(result);
    expect(result.polls).toBe(3);
    const pollPhase = Date.parse(result.timestamps.tokenIssued!) - Date.parse(result.timestamps.authorized!);
    expect(pollPhase).toBeGreaterThanOrEqual(2_000);
  });

  it('slow_down adds 5 s to the interval for later polls', async () => {
    // skipFirstWait polls at once, before the interval: the server answers slow_down.
    const msisdn = await numberWith({ interval: 0.5, connectivity: 'CONNECTED_DATA' });
    const handle = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'device-connectivity' },
      { taskQueue: ctx.taskQueue, subjectKey, skipFirstWait: true },
    );
    const result = await handle.result();
    expectOk(result);
    expect(result.polls).toBe(2);
    const gap = Date.parse(result.timestamps.tokenIssued!) - Date.parse(result.timestamps.authorized!);
    expect(gap).toBeGreaterThanOrEqual(5_500);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(stats.violations['poll-too-early']).toBe(1); // only the deliberate first poll
    // The slow_down ended the first polling activity: the new pace is in history before the next poll.
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(scheduled).toEqual([
      'netcheck.authorize',
      'netcheck.pollToken',
      'netcheck.pollToken',
      'netcheck.getDeviceConnectivity',
    ]);
    expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(0);
  }, 120_000);

  it('a provider slow_down on an on-time poll: 5 s more, recorded before the next poll, never early', async () => {
    const msisdn = await numberWith({
      interval: 1,
      pendingPolls: 1,
      connectivity: 'CONNECTED_DATA',
      faults: [{ endpoint: 'token', status: 400, error: 'slow_down' }],
    });
    const result = await run({ msisdn, operation: 'device-connectivity' });
    expectOk(result);
    expect(result.polls).toBe(3);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(stats.violations['poll-too-early'] ?? 0).toBe(0);
    expect(requestCount(stats, 'token')).toBe(3);
  }, 120_000);

  it('expired_token starts a new bc-authorize', async () => {
    const msisdn = await numberWith({
      connectivity: 'NOT_CONNECTED',
      faults: [{ endpoint: 'token', status: 400, error: 'expired_token' }],
    });
    const result = await run({ msisdn, operation: 'device-connectivity' });
    expectOk(result);
    expect(result.authorizations).toBe(2);
    expect(result.polls).toBe(2);
  });

  it('gives up with AUTHORIZATION_EXPIRED when expires_in runs out every time, never polling late', async () => {
    // expires_in 2.8 s: the last poll allowed is due by 2.52 s (the deadline margin is 10 %), so
    // the second poll (~2.1 s) still has ~0.4 s of slack on a loaded machine (with 2.5 s it had
    // ~0.15 s, and a full suite run once sent only three polls), and the third (~3.1 s) none.
    const msisdn = await numberWith({ pendingPolls: 1000, interval: 1, expiresIn: 2.8 });
    const result = await run({ msisdn, operation: 'sim-swap' }, { maxAuthorizations: 2 });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('AUTHORIZATION_EXPIRED');
    expect(result.authorizations).toBe(2);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(requestCount(stats, 'bc-authorize')).toBe(2);
    // Polls at ~1 s and ~2 s of each 2.8-s authorization; the one due at ~3 s is never sent.
    expect(result.polls).toBe(4);
    expect(stats.violations['poll-too-early']).toBe(0);
    expect(stats.violations['poll-after-expiry']).toBe(0);
  });

  it('accepts expires_in and interval sent as numeric strings', async () => {
    // The shared simulator answers numbers; this case gets its own server answering strings.
    const { startSimulator } = await import('../simulator/index.js');
    const { createPublicKey } = await import('node:crypto');
    const sim = await startSimulator({
      applicationId: ctx.env.vonage.applicationId,
      publicKey: createPublicKey(ctx.env.vonage.privateKey),
      port: 0,
      numericStrings: true,
      interval: 0.3,
    });
    const queue = uniqueTaskQueue('strings');
    const w = await createTestWorker(ctx.env, queue, { vonage: { baseUrl: sim.url } });
    try {
      const result = await w.runUntil(
        checkNumber(
          ctx.env.client,
          { msisdn: '+99012345601', operation: 'device-roaming' },
          { taskQueue: queue, subjectKey },
        ),
      );
      expectOk(result);
      expect(result.data).toEqual({ roaming: false });
    } finally {
      await sim.close();
    }
  });
});

describe('errors', () => {
  it('access_denied is a failed result, not retried', async () => {
    const msisdn = await numberWith({ denied: true });
    const result = await run({ msisdn, operation: 'sim-swap' });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('ACCESS_DENIED');
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(requestCount(stats, 'token')).toBe(1);
    expect(requestCount(stats, 'bc-authorize')).toBe(1);
  });

  it('503 and 429 are retried, 429 no sooner than Retry-After', async () => {
    const msisdn = await numberWith({
      connectivity: 'CONNECTED_DATA',
      faults: [
        { endpoint: 'bc-authorize', status: 503 },
        { endpoint: 'camara', status: 429, code: 'TOO_MANY_REQUESTS', retryAfter: 2 },
      ],
    });
    const result = await run({ msisdn, operation: 'device-connectivity' });
    expectOk(result);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(requestCount(stats, 'bc-authorize', 503)).toBe(1);
    expect(requestCount(stats, 'bc-authorize', 200)).toBe(1);
    expect(requestCount(stats, 'connectivity', 429)).toBe(1);
    expect(requestCount(stats, 'connectivity', 200)).toBe(1);
    const checkPhase = Date.parse(result.timestamps.checked!) - Date.parse(result.timestamps.tokenIssued!);
    expect(checkPhase).toBeGreaterThanOrEqual(2_000);
  });

  it.each([
    [400, 'INVALID_ARGUMENT'],
    [403, 'PERMISSION_DENIED'],
    [404, 'UNKNOWN_NUMBER'],
  ] as const)('%i from the API is final (%s), not retried', async (status, code) => {
    const msisdn = await numberWith({
      connectivity: 'CONNECTED_DATA',
      faults: [{ endpoint: 'camara', status }],
    });
    const result = await run({ msisdn, operation: 'device-connectivity' });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(code);
    expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, msisdn), 'connectivity')).toBe(1);
  });

  it('429 QUOTA_EXCEEDED is final', async () => {
    const msisdn = await numberWith({
      faults: [{ endpoint: 'camara', status: 429, code: 'QUOTA_EXCEEDED' }],
    });
    const result = await run({ msisdn, operation: 'sim-swap' });
    expect(result.error?.code).toBe('QUOTA_EXCEEDED');
  });

  it('a 401 on the API re-runs the auth flow once', async () => {
    const msisdn = await numberWith({
      connectivity: 'CONNECTED_DATA',
      faults: [{ endpoint: 'camara', status: 401 }],
    });
    const result = await run({ msisdn, operation: 'device-connectivity' });
    expectOk(result);
    expect(result.authorizations).toBe(2);
  });

  it('bad input fails the run at once, before any HTTP call', async () => {
    const handle = await ctx.env.client.workflow.start<typeof networkCheck>('networkCheck', {
      taskQueue: ctx.taskQueue,
      workflowId: `bad-input-${Date.now()}`,
      args: [{ msisdn: '+44 7700', operation: 'sim-swap' }],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'INVALID_INPUT', nonRetryable: true });
    const history = await handle.fetchHistory();
    const scheduled = history.events?.filter((e) => e.activityTaskScheduledEventAttributes) ?? [];
    expect(scheduled).toHaveLength(0);
  });

  it('maxAge out of range and an unknown purpose are rejected by the client too', async () => {
    const msisdn = uniqueNumber();
    await expect(run({ msisdn, operation: 'sim-swap', maxAge: 2401 })).rejects.toThrow(/maxAge/);
    await expect(run({ msisdn, operation: 'device-roaming', purpose: 'Marketing' })).rejects.toThrow(
      /purpose/,
    );
  });
});

describe('fast mode', () => {
  it('runs the HTTP steps as local activities: same result, a short history', async () => {
    const msisdn = await numberWith({ interval: 0, lastSimChangeHoursAgo: 3 });
    const handle = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'sim-swap', maxAge: 10 },
      { taskQueue: ctx.taskQueue, subjectKey, fast: true },
    );
    const result = await handle.result();
    expectOk(result);
    expect(result.data).toEqual({ swapped: true });
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(0);
    // Three local activities, and one patch marker (netcheck-namespaced-activities).
    const markers = events.flatMap((e) => e.markerRecordedEventAttributes?.markerName ?? []);
    expect(markers.filter((name) => name !== 'core_patch')).toHaveLength(3);
    expect(events.length).toBeLessThanOrEqual(12);
  });

  it('waits the interval inside the poll, not with a timer: never early, still a short history', async () => {
    const msisdn = await numberWith({ interval: 1, pendingPolls: 1, connectivity: 'CONNECTED_DATA' });
    const handle = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'device-connectivity' },
      { taskQueue: ctx.taskQueue, subjectKey, fast: true },
    );
    const result = await handle.result();
    expectOk(result);
    expect(result.polls).toBe(2);
    // (The waits count from the provider's answers, which the simulator judges by arrival:
    // its early-poll counter below, not the workflow's timestamps, whose clock lags in fast mode.)
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(0);
    expect(events.length).toBeLessThanOrEqual(12);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(stats.violations['poll-too-early'] ?? 0).toBe(0);
    expect(requestCount(stats, 'token')).toBe(2);
  });
});

describe('fast mode and slow_down', () => {
  it('the wait after a slow_down is a durable timer: the new pace is in history before the next poll', async () => {
    const msisdn = await numberWith({
      interval: 1,
      connectivity: 'CONNECTED_DATA',
      faults: [{ endpoint: 'token', status: 400, error: 'slow_down' }],
    });
    const handle = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'device-connectivity' },
      { taskQueue: ctx.taskQueue, subjectKey, fast: true },
    );
    const result = await handle.result();
    expectOk(result);
    expect(result.polls).toBe(2);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(1);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(stats.violations['poll-too-early'] ?? 0).toBe(0);
    expect(requestCount(stats, 'token')).toBe(2);
  }, 120_000);
});

describe('progress and identity', () => {
  it('the status query shows the phase and next poll while waiting, and every poll once done', async () => {
    const msisdn = await numberWith({ pendingPolls: 2, interval: 1, connectivity: 'CONNECTED_DATA' });
    const handle = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'device-connectivity' },
      { taskQueue: ctx.taskQueue, subjectKey },
    );
    await new Promise((r) => setTimeout(r, 1_500));
    const progress = await checkStatus(handle);
    // The polls of one authorization are one activity: they are counted when it returns.
    expect(progress.phase).toBe('waiting');
    expect(progress.nextPollAt).toBeDefined();
    expect(progress.authorizations).toBe(1);
    await handle.result();
    const done = await checkStatus(handle);
    expect(done.phase).toBe('done');
    expect(done.result?.status).toBe('ok');
    expect(done.polls).toBe(3);
  });

  it('standard mode: the polls of an authorization are one activity, no timer, never early', async () => {
    const msisdn = await numberWith({ pendingPolls: 2, interval: 1, connectivity: 'CONNECTED_DATA' });
    const handle = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'device-connectivity' },
      { taskQueue: ctx.taskQueue, subjectKey },
    );
    const result = await handle.result();
    expectOk(result);
    expect(result.polls).toBe(3);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(0);
    const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(scheduled).toEqual(['netcheck.authorize', 'netcheck.pollToken', 'netcheck.getDeviceConnectivity']);
    expect(events.length).toBeLessThanOrEqual(30);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(stats.violations['poll-too-early'] ?? 0).toBe(0);
    expect(requestCount(stats, 'token')).toBe(3);
  });

  it('workflow ids and search attributes never hold the number; the same request id never checks twice', async () => {
    const msisdn = await numberWith({ connectivity: 'CONNECTED_DATA' });
    const digits = msisdn.slice(1);
    const a = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'device-connectivity' },
      { taskQueue: ctx.taskQueue, subjectKey, requestId: 'r1' },
    );
    await a.result();
    const b = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'device-connectivity' },
      { taskQueue: ctx.taskQueue, subjectKey, requestId: 'r1' },
    );
    expect(b.workflowId).toBe(a.workflowId);
    await b.result();
    expect(a.workflowId).not.toContain(digits);
    const description = await a.describe();
    const attributes =
      JSON.stringify(description.searchAttributes) + JSON.stringify(description.typedSearchAttributes);
    expect(attributes).not.toContain(digits);
    expect(attributes).toContain('device-connectivity');
    expect(await description.staticSummary()).toMatch(/\*+/);
    expect(await description.staticSummary()).not.toContain(digits);
    expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, msisdn), 'bc-authorize')).toBe(1);
  });
});
