import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { scopeFor, type ErrorCode } from '../../domain/index.js';
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
const MSISDN = '+447700900001';
const SCOPE = scopeFor('sim-swap');

const input = (correlationId = 'corr-authorize-1') => ({ msisdn: MSISDN, scope: SCOPE, correlationId });

const scripted = useScriptedActivities({ privateKey: keys.privateKey, applicationId });

describe('authorize: request on the wire', () => {
  it('POSTs the form to /oauth2/bc-authorize with the application JWT and x-correlator', async () => {
    scripted.server.reply({ body: { auth_req_id: 'req-1', expires_in: 120, interval: 2 } });
    const before = Math.floor(Date.now() / 1000);
    await scripted.acts.authorize(input('corr-wire'));
    const req = scripted.server.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/oauth2/bc-authorize');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers['x-correlator']).toBe('corr-wire');
    // `+` percent-encoded; a raw `+` would decode to a space.
    expect(req.body).toContain('login_hint=tel%3A%2B447700900001');
    const form = new URLSearchParams(req.body);
    expect([...form.keys()].sort()).toEqual(['login_hint', 'scope']);
    expect(form.get('login_hint')).toBe('tel:+447700900001');
    expect(form.get('scope')).toBe('openid dpv:FraudPreventionAndDetection#check-sim-swap');

    const jwt = bearerOf(req);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', typ: 'JWT' });
    const { payload } = await jwtVerify(jwt, keys.publicKey, { algorithms: ['RS256'] });
    expect(payload.application_id).toBe(applicationId);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(payload.exp).toBe(payload.iat! + 900);
    expect(payload.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Object.keys(payload).sort()).toEqual(['application_id', 'exp', 'iat', 'jti']);
  });

  it('mints a fresh JWT (new jti) for every request', async () => {
    scripted.server.reply(
      { body: { auth_req_id: 'a', expires_in: 120 } },
      { body: { auth_req_id: 'b', expires_in: 120 } },
    );
    await scripted.acts.authorize(input());
    await scripted.acts.authorize(input());
    const jtis = await Promise.all(
      scripted.server.requests.map(async (r) => (await jwtVerify(bearerOf(r), keys.publicKey)).payload.jti),
    );
    expect(jtis[0]).not.toBe(jtis[1]);
  });

  it('keeps a path prefix of the base URL', async () => {
    const prefixed = createActivities({
      applicationId,
      privateKey: keys.privateKey,
      baseUrl: `${scripted.server.url}/vonage/`,
    });
    scripted.server.reply({ body: { auth_req_id: 'a', expires_in: 120 } });
    await prefixed.authorize(input());
    await prefixed.close();
    expect(scripted.server.requests[0]!.path).toBe('/vonage/oauth2/bc-authorize');
  });

  it('rejects a bad input before any request with INVALID_INPUT', async () => {
    for (const bad of [
      { ...input(), msisdn: '447700900001' },
      { ...input(), scope: '' },
      { ...input(), correlationId: 'has space' },
      { ...input(), correlationId: '' },
    ]) {
      const failure = await failureOf(scripted.acts.authorize(bad));
      expect(failure.type).toBe('INVALID_INPUT');
      expect(failure.nonRetryable).toBe(true);
    }
    expect(scripted.server.requests).toHaveLength(0);
  });
});

describe('authorize: response parsing', () => {
  it.each([
    [
      { auth_req_id: 'r', expires_in: 120, interval: 2 },
      { authReqId: 'r', expiresIn: 120, interval: 2 },
    ],
    [
      { auth_req_id: 'r', expires_in: '120', interval: '2' },
      { authReqId: 'r', expiresIn: 120, interval: 2 },
    ],
    [
      { auth_req_id: 'r', expires_in: '120', interval: '0' },
      { authReqId: 'r', expiresIn: 120, interval: 0 },
    ],
    [
      { auth_req_id: 'r', expires_in: 120, interval: 0 },
      { authReqId: 'r', expiresIn: 120, interval: 0 },
    ],
    [
      { auth_req_id: 'r', expires_in: 300 },
      { authReqId: 'r', expiresIn: 300, interval: 5 },
    ],
    [
      { auth_req_id: 'r', expires_in: 300, interval: null },
      { authReqId: 'r', expiresIn: 300, interval: 5 },
    ],
    [
      { auth_req_id: 'r', expires_in: ' 60 ', extra: true },
      { authReqId: 'r', expiresIn: 60, interval: 5 },
    ],
  ])('accepts %j', async (body, expected) => {
    scripted.server.reply({ body });
    // answeredAt: when the answer arrived; expires_in counts from there.
    await expect(scripted.acts.authorize(input())).resolves.toEqual({
      ...expected,
      answeredAt: expect.any(Number) as unknown,
      // The worker's operator profile and the API version it will call (docs/profiles.md).
      profile: 'vonage',
      apiVersion: expect.stringMatching(/^0\.[45]\.0$/) as unknown,
    });
  });

  it.each([
    ['missing expires_in', { auth_req_id: 'r' }, 'expires_in: is missing'],
    ['non-numeric expires_in', { auth_req_id: 'r', expires_in: 'abc' }, 'expires_in'],
    ['negative expires_in', { auth_req_id: 'r', expires_in: -5 }, 'expires_in'],
    ['negative string expires_in', { auth_req_id: 'r', expires_in: '-5' }, 'expires_in'],
    ['zero expires_in', { auth_req_id: 'r', expires_in: 0 }, 'expires_in'],
    ['boolean interval', { auth_req_id: 'r', expires_in: 120, interval: true }, 'interval'],
    ['non-numeric interval', { auth_req_id: 'r', expires_in: 120, interval: 'abc' }, 'interval'],
    ['negative interval', { auth_req_id: 'r', expires_in: 120, interval: -1 }, 'interval'],
    ['missing auth_req_id', { expires_in: 120 }, 'auth_req_id'],
    ['empty auth_req_id', { auth_req_id: '', expires_in: 120 }, 'auth_req_id'],
    ['numeric auth_req_id', { auth_req_id: 7, expires_in: 120 }, 'auth_req_id'],
    ['a JSON array', [1, 2], 'body'],
    ['a text body', 'ok', 'body'],
  ])('rejects %s with PROTOCOL_ERROR', async (_name, body, field) => {
    scripted.server.reply({ body });
    const failure = await failureOf(scripted.acts.authorize(input()));
    expect(failure.type).toBe('PROTOCOL_ERROR');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(field);
    expect(failure.message).toContain('/oauth2/bc-authorize');
  });

  it('rejects a non-finite expires_in (1e999 parses to Infinity) with PROTOCOL_ERROR', async () => {
    scripted.server.reply({
      body: '{"auth_req_id":"r","expires_in":1e999}',
      headers: { 'content-type': 'application/json' },
    });
    expect((await failureOf(scripted.acts.authorize(input()))).type).toBe('PROTOCOL_ERROR');
  });
});

interface Case {
  name: string;
  reply: Reply;
  code: ErrorCode;
  retryAfterMs?: number;
}

const problem = (status: number, fragment: string) => ({
  type: `https://developer.vonage.com/api-errors#${fragment}`,
  title: 'Bad Request',
  detail: `problem ${fragment}`,
  instance: randomUUID(),
});

describe('authorize: error classification', () => {
  const cases: Case[] = [
    {
      name: '400 invalid_request',
      reply: { status: 400, body: { error: 'invalid_request' } },
      code: 'INVALID_ARGUMENT',
    },
    {
      name: '400 RFC 7807 invalid-param',
      reply: { status: 400, body: problem(400, 'invalid-param') },
      code: 'INVALID_ARGUMENT',
    },
    {
      name: '400 invalid_scope',
      reply: { status: 400, body: { error: 'invalid_scope', error_description: 'no' } },
      code: 'CONFIGURATION',
    },
    {
      name: '400 unauthorized_client',
      reply: { status: 400, body: { error: 'unauthorized_client' } },
      code: 'CONFIGURATION',
    },
    {
      name: '401 invalid_client',
      reply: { status: 401, body: { error: 'invalid_client' } },
      code: 'CONFIGURATION',
    },
    {
      name: '401 RFC 7807',
      reply: { status: 401, body: problem(401, 'unauthorized') },
      code: 'CONFIGURATION',
    },
    { name: '401 without body', reply: { status: 401 }, code: 'CONFIGURATION' },
    // A 403 refuses this number (e.g. the Playground allowlist): final for it, not a worker misconfiguration.
    { name: '403', reply: { status: 403, body: { error: 'forbidden' } }, code: 'NOT_ALLOWED' },
    {
      name: '400 unknown_user_id',
      reply: { status: 400, body: { error: 'unknown_user_id' } },
      code: 'UNKNOWN_NUMBER',
    },
    // Never an answer about the number at bc-authorize (Vonage's SDK: a misconfigured network application).
    { name: '404 RFC 7807', reply: { status: 404, body: problem(404, 'not-found') }, code: 'CONFIGURATION' },
    {
      name: '403 access_denied',
      reply: { status: 403, body: { error: 'access_denied' } },
      code: 'ACCESS_DENIED',
    },
    {
      name: '400 access_denied',
      reply: { status: 400, body: { error: 'access_denied' } },
      code: 'ACCESS_DENIED',
    },
    {
      name: '429 without Retry-After',
      reply: { status: 429, body: { status: 429, code: 'TOO_MANY_REQUESTS', message: 'slow' } },
      code: 'RATE_LIMITED',
    },
    {
      name: '429 with Retry-After: 3',
      reply: { status: 429, headers: { 'retry-after': '3' } },
      code: 'RATE_LIMITED',
      retryAfterMs: 3000,
    },
    {
      name: '429 QUOTA_EXCEEDED',
      reply: { status: 429, body: { status: 429, code: 'QUOTA_EXCEEDED', message: 'quota' } },
      code: 'QUOTA_EXCEEDED',
    },
    {
      name: '500 text body',
      reply: { status: 500, body: 'Internal Server Error' },
      code: 'UPSTREAM_UNAVAILABLE',
    },
    {
      name: '503 with Retry-After: 2',
      reply: { status: 503, headers: { 'retry-after': '2' } },
      code: 'UPSTREAM_UNAVAILABLE',
      retryAfterMs: 2000,
    },
    { name: '418', reply: { status: 418, body: 'teapot' }, code: 'PROTOCOL_ERROR' },
    {
      name: '201',
      reply: { status: 201, body: { auth_req_id: 'r', expires_in: 120 } },
      code: 'PROTOCOL_ERROR',
    },
    {
      name: '302',
      reply: { status: 302, headers: { location: 'https://example.com/' } },
      code: 'PROTOCOL_ERROR',
    },
  ];

  it.each(cases)('$name → $code', async ({ reply, code, retryAfterMs }) => {
    scripted.server.reply(reply);
    const failure = await failureOf(scripted.acts.authorize(input()));
    expect(failure.type).toBe(code);
    const retryable = code === 'RATE_LIMITED' || code === 'UPSTREAM_UNAVAILABLE';
    expect(failure.nonRetryable).toBe(!retryable);
    expect(failure.nextRetryDelay).toBe(retryAfterMs);
    expect(failure.message).toContain(`HTTP ${reply.status}`);
    const details = detailsOf(failure);
    expect(details.httpStatus).toBe(reply.status);
    expect(details.endpoint).toBe('/oauth2/bc-authorize');
    const body = reply.body as { error?: string; code?: string } | undefined;
    const providerCode = body?.error ?? body?.code;
    if (providerCode) {
      expect(details.providerCode).toBe(providerCode);
      expect(failure.message).toContain(providerCode);
    }
  });

  it('keeps the provider description, and never the JWT even if the provider echoes it', async () => {
    scripted.server.handle((req) => ({
      status: 401,
      body: { error: 'invalid_client', error_description: `bad token ${req.headers.authorization}` },
    }));
    const failure = await failureOf(scripted.acts.authorize(input()));
    const jwt = bearerOf(scripted.server.requests[0]!);
    expect(failure.type).toBe('CONFIGURATION');
    expect(failure.message).toContain('bad token Bearer [redacted]');
    expect(serializeFailure(failure)).not.toContain(jwt);
    expect(serializeFailure(failure)).not.toContain(jwt.split('.')[2]);
  });
});
