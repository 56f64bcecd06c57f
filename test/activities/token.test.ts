import { randomUUID } from 'node:crypto';
import { jwtVerify } from 'jose';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createTokenSealer } from '../../activities/index.js';
import type { ErrorCode, PollOutcome, PollTokenInput } from '../../domain/index.js';
import {
  bearerOf,
  detailsOf,
  failureOf,
  makeKeys,
  serializeFailure,
  useScriptedActivities,
  type Reply,
} from './helpers.js';

const keys = makeKeys();
const applicationId = randomUUID();
const ACCESS_TOKEN = 'at-' + randomUUID() + '-very-secret';

const input: PollTokenInput = {
  authReqId: 'auth-req-+/= 1',
  correlationId: 'corr-token-1',
  operation: 'device-roaming',
  msisdn: '+447700900002',
};

const scripted = useScriptedActivities({ privateKey: keys.privateKey, applicationId });

describe('pollToken: request on the wire', () => {
  it('POSTs the CIBA grant to /oauth2/token with the application JWT and x-correlator', async () => {
    scripted.server.reply({ status: 400, body: { error: 'authorization_pending' } });
    await scripted.acts.pollToken(input);
    const req = scripted.server.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/oauth2/token');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers['x-correlator']).toBe('corr-token-1');
    expect(req.body).toBe(
      'grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id=auth-req-%2B%2F%3D+1',
    );
    const form = new URLSearchParams(req.body);
    expect(form.get('grant_type')).toBe('urn:openid:params:grant-type:ciba');
    expect(form.get('auth_req_id')).toBe('auth-req-+/= 1');
    const { payload } = await jwtVerify(bearerOf(req), keys.publicKey, { algorithms: ['RS256'] });
    expect(payload.application_id).toBe(applicationId);
    expect(payload.exp).toBe(payload.iat! + 900);
  });
});

describe('pollToken: token', () => {
  it.each([
    [{ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600 }, 3600],
    [{ access_token: ACCESS_TOKEN, token_type: 'bearer', expires_in: '3600' }, 3600],
    [{ access_token: ACCESS_TOKEN, token_type: 'BEARER', refresh_token: 'rt-ignored' }, undefined],
  ])('returns the sealed token for %j', async (body, expiresIn) => {
    scripted.server.reply({ body });
    const outcome = await scripted.acts.pollToken(input);
    expect(outcome.outcome).toBe('token');
    if (outcome.outcome !== 'token') return;
    expect(outcome.expiresIn).toBe(expiresIn);
    expect(Object.keys(outcome).sort()).toEqual(
      expiresIn === undefined ? ['outcome', 'sealedToken'] : ['expiresIn', 'outcome', 'sealedToken'],
    );
    expect(outcome.sealedToken).toMatch(/^v2\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    const serialized = JSON.stringify(outcome);
    expect(serialized).not.toContain(ACCESS_TOKEN);
    expect(serialized).not.toContain('rt-ignored');
    // Any worker with the same key opens it, for this check only.
    const sealer = createTokenSealer(keys.privateKey);
    expect(sealer.openToken(outcome.sealedToken, input)).toBe(ACCESS_TOKEN);
  });

  it.each([
    ['missing access_token', { token_type: 'Bearer' }, 'access_token'],
    ['empty access_token', { access_token: '', token_type: 'Bearer' }, 'access_token'],
    ['missing token_type', { access_token: ACCESS_TOKEN }, 'token_type'],
    ['token_type mac', { access_token: ACCESS_TOKEN, token_type: 'mac' }, 'token_type'],
    [
      'bad expires_in',
      { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 'soon' },
      'expires_in',
    ],
    ['text body', 'token', 'body'],
  ])('rejects %s with PROTOCOL_ERROR, without the token in the failure', async (_name, body, field) => {
    scripted.server.reply({ body });
    const failure = await failureOf(scripted.acts.pollToken(input));
    expect(failure.type).toBe('PROTOCOL_ERROR');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(field);
    expect(serializeFailure(failure)).not.toContain(ACCESS_TOKEN);
  });
});

describe('pollToken: CIBA waiting states are values', () => {
  it.each([
    ['authorization_pending', 'pending'],
    ['slow_down', 'slow_down'],
    ['expired_token', 'expired'],
  ])('400 %s → {outcome: %s}', async (error, outcome) => {
    scripted.server.reply({ status: 400, body: { error, error_description: 'x' } });
    await expect(scripted.acts.pollToken(input)).resolves.toEqual({ outcome });
  });
});

interface Case {
  name: string;
  reply: Reply;
  code: ErrorCode;
  retryAfterMs?: number;
}

describe('pollToken: error classification', () => {
  const httpDate = new Date(Date.now() + 60_000).toUTCString();
  const cases: Case[] = [
    {
      name: '400 access_denied',
      reply: { status: 400, body: { error: 'access_denied' } },
      code: 'ACCESS_DENIED',
    },
    {
      name: '400 invalid_grant',
      reply: { status: 400, body: { error: 'invalid_grant' } },
      code: 'INVALID_GRANT',
    },
    {
      name: '401 invalid_client',
      reply: { status: 401, body: { error: 'invalid_client' } },
      code: 'CONFIGURATION',
    },
    {
      name: '400 unauthorized_client',
      reply: { status: 400, body: { error: 'unauthorized_client' } },
      code: 'CONFIGURATION',
    },
    { name: '401 without body', reply: { status: 401 }, code: 'CONFIGURATION' },
    {
      name: '400 invalid_request',
      reply: { status: 400, body: { error: 'invalid_request' } },
      code: 'INVALID_ARGUMENT',
    },
    {
      name: '429 Retry-After HTTP-date',
      reply: { status: 429, headers: { 'retry-after': httpDate } },
      code: 'RATE_LIMITED',
      retryAfterMs: 60_000,
    },
    {
      name: '502 text',
      reply: { status: 502, body: '<html>Bad Gateway</html>' },
      code: 'UPSTREAM_UNAVAILABLE',
    },
    // Nothing answers at the token path: the base URL is wrong.
    { name: '404', reply: { status: 404, body: 'Not Found' }, code: 'CONFIGURATION' },
  ];

  it.each(cases)('$name → $code', async ({ reply, code, retryAfterMs }) => {
    scripted.server.reply(reply);
    const failure = await failureOf(scripted.acts.pollToken(input));
    expect(failure.type).toBe(code);
    expect(failure.nonRetryable).toBe(!(code === 'RATE_LIMITED' || code === 'UPSTREAM_UNAVAILABLE'));
    if (retryAfterMs === undefined) expect(failure.nextRetryDelay).toBeUndefined();
    else {
      // HTTP-dates have 1 s resolution, and the date was written when the cases were collected
      // (on a loaded machine, seconds before this test runs): a date 60 s ahead, not a default.
      expect(failure.nextRetryDelay).toBeGreaterThan(retryAfterMs - 30_000);
      expect(failure.nextRetryDelay).toBeLessThanOrEqual(retryAfterMs);
    }
    expect(detailsOf(failure)).toMatchObject({ httpStatus: reply.status, endpoint: '/oauth2/token' });
  });

  it('rejects a bad input before any request with INVALID_INPUT', async () => {
    for (const bad of [
      { ...input, authReqId: '' },
      { ...input, operation: 'sim-swap-x' },
      { ...input, msisdn: '+0' },
    ]) {
      const failure = await failureOf(scripted.acts.pollToken(bad as PollTokenInput));
      expect(failure.type).toBe('INVALID_INPUT');
    }
    expect(scripted.server.requests).toHaveLength(0);
  });
});

describe('pollToken: a retry that finds its auth_req_id redeemed', () => {
  it('asks for a new authorization instead of failing (the lost first attempt took the token)', async () => {
    scripted.server.reply({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'already redeemed' },
    });
    const retry = new MockActivityEnvironment({ attempt: 2 });
    await expect(retry.run(scripted.acts.pollToken, input)).resolves.toEqual({ outcome: 'redeemed' });
  });

  it('is still final INVALID_GRANT on a first attempt', async () => {
    scripted.server.reply({ status: 400, body: { error: 'invalid_grant' } });
    const first = new MockActivityEnvironment({ attempt: 1 });
    const failure = await failureOf(first.run(scripted.acts.pollToken, input));
    expect(failure).toMatchObject({ type: 'INVALID_GRANT', nonRetryable: true });
  });
});

describe('pollToken with keepPolling: one activity for every poll of an authorization', () => {
  const token = { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600 };
  const pending = { status: 400, body: { error: 'authorization_pending' } };

  it('polls again after authorization_pending, at least the interval (≥ 1 s) apart, until the token', async () => {
    scripted.server.reply(pending, pending, { body: token });
    const started = Date.now();
    const outcome = await scripted.acts.pollToken({
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 0 },
    });
    expect(outcome).toMatchObject({ outcome: 'token', polls: 3, intervalSeconds: 0 });
    expect(outcome.nextPollAt).toBeUndefined();
    expect(scripted.server.requests).toHaveLength(3);
    // Two waits of the 1-s floor between three polls.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });

  it('waits until notBefore before the first poll', async () => {
    scripted.server.reply({ body: token });
    const notBefore = Date.now() + 1_200;
    const outcome = await scripted.acts.pollToken({
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1, notBefore },
    });
    expect(outcome).toMatchObject({ outcome: 'token', polls: 1 });
    expect(Date.now()).toBeGreaterThanOrEqual(notBefore);
  });

  it('hands back pending, with the next poll’s time, when that poll would come at or after the deadline', async () => {
    scripted.server.reply(pending);
    const deadlineMs = Date.now() + 500;
    const outcome = await scripted.acts.pollToken({
      ...input,
      keepPolling: { deadlineMs, intervalSeconds: 1 },
    });
    expect(outcome).toMatchObject({ outcome: 'pending', polls: 1, intervalSeconds: 1 });
    expect(outcome.nextPollAt).toBeGreaterThanOrEqual(deadlineMs);
    expect(scripted.server.requests).toHaveLength(1);
  });

  it('hands back a wait longer than maxWaitMs (the workflow waits it with a durable timer)', async () => {
    scripted.server.reply(pending);
    const outcome = await scripted.acts.pollToken({
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 3, maxWaitMs: 2_000 },
    });
    expect(outcome).toMatchObject({ outcome: 'pending', polls: 1, intervalSeconds: 3 });
    expect(outcome.nextPollAt! - Date.now()).toBeGreaterThan(2_000);
    expect(scripted.server.requests).toHaveLength(1);
  });

  it('slow_down ends the loop: the new pace goes back to the workflow before the next poll', async () => {
    scripted.server.reply(pending, { status: 400, body: { error: 'slow_down' } }, { body: token });
    const before = Date.now();
    const outcome = await scripted.acts.pollToken({
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1 },
    });
    expect(outcome).toMatchObject({ outcome: 'slow_down', polls: 2, intervalSeconds: 6 });
    // The next poll is due one new interval after the slow_down's answer.
    expect(outcome.nextPollAt! - before).toBeGreaterThanOrEqual(1_000 + 6_000);
    expect(scripted.server.requests).toHaveLength(2);
  });

  it('a retried attempt that starts before the next poll was due goes on at the exact pace', async () => {
    scripted.server.reply({ body: token });
    // The attempt before recorded 2 polls at interval 1 s, the next due in 1.5 s, and died: it
    // never sent that poll (it was dead by then), so nothing is unknown.
    const nextPollAt = Date.now() + 1_500;
    const retry = new MockActivityEnvironment({
      attempt: 2,
      heartbeatDetails: { polls: 2, intervalSeconds: 1, nextPollAt },
    });
    const outcome = await retry.run(scripted.acts.pollToken, {
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1, notBefore: Date.now() - 2_000 },
    });
    expect(outcome).toMatchObject({ outcome: 'token', polls: 3, intervalSeconds: 1 });
    expect(Date.now()).toBeGreaterThanOrEqual(nextPollAt);
    expect(scripted.server.requests).toHaveLength(1);
  });

  it('… and with no heartbeat recorded, goes on from the notBefore the workflow gave', async () => {
    scripted.server.reply({ body: token });
    const notBefore = Date.now() + 1_000;
    const retry = new MockActivityEnvironment({ attempt: 2 });
    const outcome = await retry.run(scripted.acts.pollToken, {
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 6, notBefore },
    });
    expect(outcome).toMatchObject({ outcome: 'token', polls: 1, intervalSeconds: 6 });
    expect(Date.now()).toBeGreaterThanOrEqual(notBefore);
  });

  it('a retried attempt that starts after the next poll was due polls nothing: it hands back a plan assuming slow_down', async () => {
    // The attempt before may have sent the poll due 500 ms ago and been told slow_down: nobody
    // heard the answer. Assume it (+5 s from now, after any poll it sent) and let the workflow
    // record that before anyone polls.
    const retry = new MockActivityEnvironment({
      attempt: 2,
      heartbeatDetails: { polls: 2, intervalSeconds: 1, nextPollAt: Date.now() - 500 },
    });
    const started = Date.now();
    const outcome: PollOutcome = await retry.run(scripted.acts.pollToken, {
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1 },
    });
    expect(outcome).toMatchObject({ outcome: 'pending', polls: 2, intervalSeconds: 6, answerLost: true });
    expect(outcome.nextPollAt! - started).toBeGreaterThanOrEqual(6_000);
    expect(scripted.server.requests).toHaveLength(0);
  });

  it('details from an older attempt (no next poll time) say nothing of the pace: it hands back too', async () => {
    const retry = new MockActivityEnvironment({
      attempt: 2,
      heartbeatDetails: { polls: 1, intervalSeconds: 6, lastPollAt: Date.now() - 1_000 },
    });
    const outcome = await retry.run(scripted.acts.pollToken, {
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1 },
    });
    expect(outcome).toMatchObject({ outcome: 'pending', polls: 1, intervalSeconds: 11, answerLost: true });
    expect(scripted.server.requests).toHaveLength(0);
  });

  it('a local run that starts after freshUntil may follow one lost with its workflow task', async () => {
    // No heartbeat, attempt 1: only the start time tells. The next poll was due: hand back.
    const outcome = await new MockActivityEnvironment({ attempt: 1, isLocal: true }).run(
      scripted.acts.pollToken,
      {
        ...input,
        keepPolling: {
          deadlineMs: Date.now() + 60_000,
          intervalSeconds: 2,
          notBefore: Date.now() - 100,
          freshUntil: Date.now() - 1,
        },
      },
    );
    expect(outcome).toMatchObject({ outcome: 'pending', polls: 0, intervalSeconds: 7, answerLost: true });
    expect(scripted.server.requests).toHaveLength(0);
  });

  it('after a lost answer, invalid_grant on the first poll means redeemed (a new authorization follows)', async () => {
    scripted.server.reply({ status: 400, body: { error: 'invalid_grant' } });
    const outcome = await scripted.acts.pollToken({
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1, answerLost: true },
    });
    expect(outcome).toMatchObject({ outcome: 'redeemed', polls: 1 });
  });

  it('retries a transient fault itself, keeping the pace: 503, then pending, then the token', async () => {
    scripted.server.reply({ status: 503, body: { error: 'unavailable' } }, pending, { body: token });
    const started = Date.now();
    const outcome = await scripted.acts.pollToken({
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1 },
    });
    // One attempt: the failed request is not a poll answered.
    expect(outcome).toMatchObject({ outcome: 'token', polls: 2, intervalSeconds: 1 });
    expect(scripted.server.requests).toHaveLength(3);
    // 1 s after the 503 (the interval), 1 s after the pending.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  }, 15_000);

  it("waits out a 429's Retry-After before polling again", async () => {
    scripted.server.reply({ status: 429, headers: { 'retry-after': '2' } }, { body: token });
    const started = Date.now();
    const outcome = await scripted.acts.pollToken({
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1 },
    });
    expect(outcome).toMatchObject({ outcome: 'token', polls: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });

  it('after a fault whose answer may be lost, invalid_grant means redeemed (a new authorization follows)', async () => {
    scripted.server.reply(
      { status: 502, body: 'bad gateway' },
      { status: 400, body: { error: 'invalid_grant' } },
    );
    const outcome = await scripted.acts.pollToken({
      ...input,
      keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1 },
    });
    expect(outcome).toMatchObject({ outcome: 'redeemed' });
  });

  it("hands back pending when a fault's retry would come after the deadline", async () => {
    scripted.server.reply({ status: 503, body: { error: 'unavailable' } });
    const deadlineMs = Date.now() + 500;
    const outcome = await scripted.acts.pollToken({
      ...input,
      keepPolling: { deadlineMs, intervalSeconds: 1 },
    });
    expect(outcome).toMatchObject({ outcome: 'pending', polls: 0, intervalSeconds: 1 });
    expect(outcome.nextPollAt).toBeGreaterThanOrEqual(deadlineMs);
    expect(scripted.server.requests).toHaveLength(1);
  });

  it('a final error still fails the attempt at once', async () => {
    scripted.server.reply({ status: 400, body: { error: 'access_denied' } });
    const failure = await failureOf(
      scripted.acts.pollToken({
        ...input,
        keepPolling: { deadlineMs: Date.now() + 60_000, intervalSeconds: 1 },
      }),
    );
    expect(failure).toMatchObject({ type: 'ACCESS_DENIED', nonRetryable: true });
  });

  it('refuses a malformed keepPolling', async () => {
    for (const keepPolling of [
      { deadlineMs: -1, intervalSeconds: 1 },
      { deadlineMs: Date.now(), intervalSeconds: 1, notBefore: Number.NaN },
      { deadlineMs: Date.now(), intervalSeconds: 1, answerLost: 'yes' },
    ]) {
      const failure = await failureOf(
        scripted.acts.pollToken({ ...input, keepPolling: keepPolling as PollTokenInput['keepPolling'] }),
      );
      expect(failure).toMatchObject({ type: 'INVALID_INPUT', nonRetryable: true });
    }
    expect(scripted.server.requests).toHaveLength(0);
  });
});
