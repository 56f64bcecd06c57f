/** pollToken's `waitMs` (fast mode waits the CIBA interval inside the local activity). */
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PollTokenInput } from '../../domain/index.js';
import { failureOf, makeKeys, useScriptedActivities } from './helpers.js';

const keys = makeKeys();
const input: PollTokenInput = {
  authReqId: 'auth-req-wait',
  correlationId: 'corr-wait-1',
  operation: 'device-connectivity',
  msisdn: '+447700900009',
};

const scripted = useScriptedActivities({ privateKey: keys.privateKey, resetEach: false });
beforeEach(() => {
  scripted.server.reset();
  scripted.server.reply({ status: 400, body: { error: 'authorization_pending' } });
});

describe('pollToken waitMs', () => {
  it('waits before the first attempt polls', async () => {
    const started = Date.now();
    await expect(
      new MockActivityEnvironment({ attempt: 1 }).run(scripted.acts.pollToken, { ...input, waitMs: 300 }),
    ).resolves.toEqual({
      outcome: 'pending',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(scripted.server.requests).toHaveLength(1);
  });

  it('does not wait again on a retry (the retry policy already backs off by the interval)', async () => {
    const started = Date.now();
    await new MockActivityEnvironment({ attempt: 2 }).run(scripted.acts.pollToken, {
      ...input,
      waitMs: 5_000,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('ends the wait when the activity is cancelled, without polling', async () => {
    const env = new MockActivityEnvironment({ attempt: 1 });
    const polling = env.run(scripted.acts.pollToken, { ...input, waitMs: 5_000 });
    setTimeout(() => env.cancel(), 50);
    await expect(polling).rejects.toBeInstanceOf(CancelledFailure);
    expect(scripted.server.requests).toHaveLength(0);
  });

  it('a polling loop from an older workflow (waitMs, no notBefore) waits on its first attempt', async () => {
    scripted.server.reset();
    scripted.server.reply({ status: 400, body: { error: 'expired_token' } });
    const started = Date.now();
    const outcome = await new MockActivityEnvironment({ attempt: 1 }).run(scripted.acts.pollToken, {
      ...input,
      waitMs: 300,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1 },
    });
    expect(outcome).toMatchObject({ outcome: 'expired', polls: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('… and its retry, which cannot count from the wait, polls nothing and assumes slow_down', async () => {
    const outcome = await new MockActivityEnvironment({ attempt: 2 }).run(scripted.acts.pollToken, {
      ...input,
      waitMs: 5_000,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1 },
    });
    expect(outcome).toMatchObject({ outcome: 'pending', polls: 0, intervalSeconds: 6, answerLost: true });
    expect(scripted.server.requests).toHaveLength(0);
  });

  it('refuses a wait that is not 0–120 000 ms', async () => {
    for (const waitMs of [-1, Number.NaN, 120_001]) {
      const failure = await failureOf(scripted.acts.pollToken({ ...input, waitMs }));
      expect(failure).toMatchObject({ type: 'INVALID_INPUT', nonRetryable: true });
    }
    expect(scripted.server.requests).toHaveLength(0);
  });
});
