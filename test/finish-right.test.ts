/**
 * Every started check finishes right (issue #10): the edges of time and of error handling, end
 * to end on the real dev server and the simulator over real HTTP.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { checkNumber, startCheck } from '../client/index.js';
import { numberWith as numberOn, requestCount, simulatorStats, useTestWorker } from './support/harness.js';

const ctx = useTestWorker('finish-right');
const subjectKey = 'finish-right-subject-key';

type Entry = Parameters<typeof numberOn>[1];
const numberWith = (entry: Entry) => numberOn(ctx.env.simulatorUrl, entry);

const historyEvents = async (handle: { fetchHistory(): Promise<{ events?: unknown[] | null }> }) =>
  ((await handle.fetchHistory()).events ?? []) as Array<{
    timerStartedEventAttributes?: unknown;
    activityTaskScheduledEventAttributes?: { scheduleToCloseTimeout?: { seconds?: unknown } | null } | null;
  }>;

const options = (extra: Parameters<typeof checkNumber>[2] = {}) => ({
  taskQueue: ctx.taskQueue,
  subjectKey,
  ...extra,
});

describe('expiry', () => {
  it('a token poll still running when expires_in passes authorizes again instead of failing the run', async () => {
    // interval 2, expires_in 3, and the first token answer takes 4 s.
    const msisdn = await numberWith({
      interval: 2,
      expiresIn: 3,
      lastSimChangeHoursAgo: 5,
      faults: [{ endpoint: 'token', delayMs: 4_000 }],
    });
    const result = await checkNumber(
      ctx.env.client,
      { msisdn, operation: 'sim-swap', maxAge: 24 },
      options(),
    );
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('ok');
    expect(result.authorizations).toBe(2);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(requestCount(stats, 'bc-authorize')).toBe(2);
    expect(stats.violations['poll-too-early']).toBe(0);
  }, 120_000);

  it('… and ends EXPIRED when the budget is used up', async () => {
    const msisdn = await numberWith({
      interval: 2,
      expiresIn: 3,
      faults: [{ endpoint: 'token', delayMs: 4_000 }],
    });
    const result = await checkNumber(
      ctx.env.client,
      { msisdn, operation: 'sim-swap' },
      options({ maxAuthorizations: 1 }),
    );
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('AUTHORIZATION_EXPIRED');
    expect(result.authorizations).toBe(1);
  }, 120_000);

  it('the authorization budget counts every bc-authorize of the run, also after a 401', async () => {
    const msisdn = await numberWith({ interval: 0.2, faults: [{ endpoint: 'camara', status: 401 }] });
    const result = await checkNumber(
      ctx.env.client,
      { msisdn, operation: 'device-connectivity' },
      options({ maxAuthorizations: 1 }),
    );
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('UNAUTHENTICATED');
    expect(result.authorizations).toBe(1);
    expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, msisdn), 'bc-authorize')).toBe(1);

    const again = await numberWith({ interval: 0.2, faults: [{ endpoint: 'camara', status: 401 }] });
    const ok = await checkNumber(
      ctx.env.client,
      { msisdn: again, operation: 'device-connectivity' },
      options({ maxAuthorizations: 2 }),
    );
    expect(ok.status).toBe('ok');
    expect(ok.authorizations).toBe(2);
  }, 120_000);

  it('retries of bc-authorize do not eat the expires_in window: it counts from the answer', async () => {
    // bc-authorize fails twice (1 s + 2 s of backoff), then the 3-s window starts at its answer.
    const msisdn = await numberWith({
      interval: 2,
      expiresIn: 3,
      faults: [
        { endpoint: 'bc-authorize', status: 503 },
        { endpoint: 'bc-authorize', status: 503 },
      ],
    });
    const result = await checkNumber(ctx.env.client, { msisdn, operation: 'device-roaming' }, options());
    expect(result.status).toBe('ok');
    expect(result.authorizations).toBe(1);
    expect(result.polls).toBe(1);
  }, 120_000);
});

describe('fast mode honours any interval the provider gives', () => {
  it('an interval too long to wait inside a local activity is waited with a durable timer', async () => {
    const msisdn = await numberWith({ interval: 35, expiresIn: 120 });
    const handle = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'device-roaming' },
      options({ fast: true }),
    );
    const result = await handle.result();
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('ok');
    const events = await historyEvents(handle);
    expect(events.filter((e) => e.timerStartedEventAttributes).length).toBe(1);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(stats.violations['poll-too-early']).toBe(0);
  }, 120_000);
});

describe('every activity has an end', () => {
  it('each scheduled activity carries a schedule-to-close timeout', async () => {
    const msisdn = await numberWith({ interval: 0.2 });
    const handle = await startCheck(ctx.env.client, { msisdn, operation: 'sim-swap-date' }, options());
    await handle.result();
    const scheduled = (await historyEvents(handle)).filter((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled.length).toBe(3);
    for (const event of scheduled) {
      const timeout = event.activityTaskScheduledEventAttributes!.scheduleToCloseTimeout;
      expect(Number(timeout?.seconds ?? 0)).toBeGreaterThan(0);
    }
  }, 120_000);
});

describe('errors by meaning, end to end', () => {
  it('a 404 that is not a documented unknown-number code fails the run as CONFIGURATION naming the path', async () => {
    const msisdn = await numberWith({
      interval: 0.2,
      faults: [{ endpoint: 'camara', status: 404, code: 'ROUTE_NOT_FOUND', message: 'no route' }],
    });
    const err = await checkNumber(ctx.env.client, { msisdn, operation: 'sim-swap' }, options()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const text =
      JSON.stringify((err as WorkflowFailedError).cause?.cause ?? {}) + String((err as Error).cause);
    expect(text).toMatch(/CONFIGURATION/);
    expect(text).toContain('/camara/sim-swap/v040/check');
  }, 120_000);

  it('an unknown number is still UNKNOWN_NUMBER', async () => {
    const msisdn = await numberWith({ interval: 0.2, unknown: true });
    const result = await checkNumber(ctx.env.client, { msisdn, operation: 'sim-swap' }, options());
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('UNKNOWN_NUMBER');
  }, 120_000);

  it('a 403 allowlist block at bc-authorize is NOT_ALLOWED for that number, not a run failure', async () => {
    const msisdn = await numberWith({
      faults: [
        {
          endpoint: 'bc-authorize',
          status: 403,
          code: 'FORBIDDEN',
          message:
            'The Network API application can only be used with verified phone numbers. Blocked by allowlist.',
        },
      ],
    });
    const result = await checkNumber(ctx.env.client, { msisdn, operation: 'sim-swap' }, options());
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('NOT_ALLOWED');
    expect(result.error?.message).not.toContain(msisdn.slice(1));
  }, 120_000);

  it('501 is final: one request, no retries', async () => {
    const msisdn = await numberWith({
      interval: 0.2,
      faults: [{ endpoint: 'camara', status: 501, code: 'NOT_IMPLEMENTED', message: 'not here' }],
    });
    const result = await checkNumber(ctx.env.client, { msisdn, operation: 'device-connectivity' }, options());
    expect(result.error?.code).toBe('NOT_SUPPORTED');
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(requestCount(stats, 'device-connectivity')).toBe(1);
  }, 120_000);
});
