import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenSealer } from '../../activities/index.js';
import { NetcheckPlugin } from '../../worker/plugin.js';
import {
  CAMARA_OPERATION_NAMES,
  CAMARA_OPERATIONS,
  type CheckCallInput,
  type ErrorCode,
  type CamaraOperation as Operation,
} from '../../domain/index.js';
import {
  detailsOf,
  failureOf,
  makeKeys,
  serializeFailure,
  useScriptedActivities,
  type Reply,
} from './helpers.js';

const keys = makeKeys();
const sealer = createTokenSealer(keys.privateKey);
const ACCESS_TOKEN = 'camara-token-' + randomUUID();
const MSISDN = '+447700900003';
const CORRELATION = 'corr-check-1';

function callInput(operation: Operation, extra: Partial<CheckCallInput> = {}): CheckCallInput {
  return {
    operation,
    msisdn: MSISDN,
    correlationId: CORRELATION,
    sealedToken: sealer.sealToken(ACCESS_TOKEN, { operation, msisdn: MSISDN, correlationId: CORRELATION }),
    ...(operation === 'sim-swap' ? { maxAge: 240 } : {}),
    ...extra,
  };
}

function run(operation: Operation, input: CheckCallInput = callInput(operation)): Promise<unknown> {
  return scripted.acts[CAMARA_OPERATIONS[operation].activity](input);
}

const scripted = useScriptedActivities({ privateKey: keys.privateKey });

describe('check activities: names and wire format', () => {
  it('exposes one activity per CAMARA_OPERATIONS[op].activity, plus authorize, pollToken, bulkChunk and assessInsights', () => {
    expect(Object.keys(scripted.acts).sort()).toEqual(
      [
        'assessInsights',
        'authorize',
        'bulkChunk',
        'identityInsights',
        'pollToken',
        ...CAMARA_OPERATION_NAMES.map((op) => CAMARA_OPERATIONS[op].activity),
      ].sort(),
    );
    expect(typeof scripted.acts.close).toBe('function');
  });

  it('a worker registers each as netcheck.<name>, and the bare name only while legacyActivityNames holds', () => {
    const names = Object.keys(scripted.acts);
    const registered = (legacyActivityNames?: boolean) =>
      Object.keys(
        new NetcheckPlugin({
          applicationId: randomUUID(),
          privateKey: keys.privateKey,
          baseUrl: scripted.server.url,
          ...(legacyActivityNames !== undefined ? { legacyActivityNames } : {}),
        }).configureWorker({ taskQueue: 'names' }).activities ?? {},
      ).sort();
    const namespaced = names.map((name) => `netcheck.${name}`);
    expect(registered()).toEqual([...namespaced, ...names].sort());
    expect(registered(true)).toEqual([...namespaced, ...names].sort());
    expect(registered(false)).toEqual([...namespaced].sort());
  });

  const cases: [Operation, unknown, unknown][] = [
    ['sim-swap', { phoneNumber: MSISDN, maxAge: 240 }, { swapped: true }],
    ['sim-swap-date', { phoneNumber: MSISDN }, { latestSimChange: '2019-08-24T14:15:22Z' }],
    ['device-connectivity', { device: { phoneNumber: MSISDN } }, { connectivityStatus: 'CONNECTED_DATA' }],
    [
      'device-roaming',
      { device: { phoneNumber: MSISDN } },
      { roaming: true, countryCode: 262, countryName: ['DE'] },
    ],
  ];
  it.each(cases)(
    '%s POSTs %j with the access token and returns the body as received',
    async (op, sent, received) => {
      scripted.server.reply({ body: received });
      await expect(run(op)).resolves.toEqual(received);
      const req = scripted.server.requests[0]!;
      expect(req.method).toBe('POST');
      expect(req.path).toBe(CAMARA_OPERATIONS[op].path);
      expect(req.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['x-correlator']).toBe(CORRELATION);
      expect(req.body).toBe(JSON.stringify(sent));
    },
  );

  it('sends maxAge as given, and 240 when the input has none', async () => {
    scripted.server.reply({ body: { swapped: false } }, { body: { swapped: false } });
    await run('sim-swap', callInput('sim-swap', { maxAge: 600 }));
    await run('sim-swap', callInput('sim-swap', { maxAge: undefined }));
    expect(JSON.parse(scripted.server.requests[0]!.body)).toEqual({ phoneNumber: MSISDN, maxAge: 600 });
    expect(JSON.parse(scripted.server.requests[1]!.body)).toEqual({ phoneNumber: MSISDN, maxAge: 240 });
  });

  it('rejects an out-of-range maxAge, a wrong operation or number with INVALID_INPUT, before any request', async () => {
    for (const input of [
      callInput('sim-swap', { maxAge: 0 }),
      callInput('sim-swap', { maxAge: 2401 }),
      callInput('sim-swap', { maxAge: 1.5 }),
      { ...callInput('sim-swap'), operation: 'device-roaming' as const },
      { ...callInput('sim-swap'), msisdn: 'not-a-number' },
    ]) {
      expect((await failureOf(scripted.acts.checkSimSwap(input))).type).toBe('INVALID_INPUT');
    }
    expect(scripted.server.requests).toHaveLength(0);
  });
});

describe('check activities: 200 bodies', () => {
  it.each([
    ['sim-swap-date', { latestSimChange: null }],
    // latestSimChange is optional in CAMARA v0.4.0: no known change may come back as {}.
    ['sim-swap-date', {}],
    ['device-connectivity', { connectivityStatus: 'NOT_CONNECTED' }],
    ['device-roaming', { roaming: false }],
    ['device-roaming', { roaming: true, countryCode: 901, countryName: [] }],
  ] as [Operation, unknown][])('%s accepts %j', async (op, body) => {
    scripted.server.reply({ body });
    await expect(run(op)).resolves.toEqual(body);
  });

  it('keeps only the CAMARA-defined fields of a check body', async () => {
    scripted.server.reply({
      body: { connectivityStatus: 'CONNECTED_SMS', note: 'anything else', token: 'x' },
    });
    await expect(run('device-connectivity')).resolves.toStrictEqual({ connectivityStatus: 'CONNECTED_SMS' });
  });

  it.each([
    ['sim-swap', { swapped: 'yes' }, 'swapped'],
    ['sim-swap', {}, 'swapped'],
    ['sim-swap-date', { latestSimChange: 5 }, 'latestSimChange'],
    ['device-connectivity', { connectivityStatus: 'ROAMING' }, 'connectivityStatus'],
    ['device-roaming', { roaming: 'true' }, 'roaming'],
    ['device-roaming', 'roaming', 'body'],
  ] as [Operation, unknown, string][])('%s rejects %j with PROTOCOL_ERROR', async (op, body, field) => {
    scripted.server.reply({ body });
    const failure = await failureOf(run(op));
    expect(failure.type).toBe('PROTOCOL_ERROR');
    expect(failure.message).toContain(field);
    expect(failure.message).toContain(CAMARA_OPERATIONS[op].path);
  });
});

interface Case {
  name: string;
  reply: Reply;
  code: ErrorCode;
  retryAfterMs?: number;
}

const camara = (status: number, code: string) => ({ status, code, message: `${code} happened` });

describe('check activities: CAMARA error classification', () => {
  const cases: Case[] = [
    {
      name: '400 INVALID_ARGUMENT',
      reply: { status: 400, body: camara(400, 'INVALID_ARGUMENT') },
      code: 'INVALID_ARGUMENT',
    },
    {
      name: '400 OUT_OF_RANGE',
      reply: { status: 400, body: camara(400, 'OUT_OF_RANGE') },
      code: 'INVALID_ARGUMENT',
    },
    {
      name: '401 UNAUTHENTICATED',
      reply: { status: 401, body: camara(401, 'UNAUTHENTICATED') },
      code: 'UNAUTHENTICATED',
    },
    {
      name: '403 PERMISSION_DENIED',
      reply: { status: 403, body: camara(403, 'PERMISSION_DENIED') },
      code: 'PERMISSION_DENIED',
    },
    {
      name: '404 SIM_SWAP.UNKNOWN_PHONE_NUMBER',
      reply: { status: 404, body: camara(404, 'SIM_SWAP.UNKNOWN_PHONE_NUMBER') },
      code: 'UNKNOWN_NUMBER',
    },
    // SIM Swap v0.4.0 documents SIM_SWAP.UNKNOWN_PHONE_NUMBER for an unknown number: CAMARA's
    // generic NOT_FOUND there says the route is not served (Vonage retired it), not the number.
    { name: '404 NOT_FOUND', reply: { status: 404, body: camara(404, 'NOT_FOUND') }, code: 'CONFIGURATION' },
    { name: '409 CONFLICT', reply: { status: 409, body: camara(409, 'CONFLICT') }, code: 'CONFLICT' },
    {
      name: '429 QUOTA_EXCEEDED',
      reply: { status: 429, body: camara(429, 'QUOTA_EXCEEDED'), headers: { 'retry-after': '5' } },
      code: 'QUOTA_EXCEEDED',
    },
    {
      name: '429 TOO_MANY_REQUESTS + Retry-After: 7',
      reply: { status: 429, body: camara(429, 'TOO_MANY_REQUESTS'), headers: { 'retry-after': '7' } },
      code: 'RATE_LIMITED',
      retryAfterMs: 7000,
    },
    {
      name: '429 TOO_MANY_REQUESTS, no Retry-After',
      reply: { status: 429, body: camara(429, 'TOO_MANY_REQUESTS') },
      code: 'RATE_LIMITED',
    },
    {
      name: '429 + unparseable Retry-After',
      reply: { status: 429, headers: { 'retry-after': 'soon' } },
      code: 'RATE_LIMITED',
    },
    {
      name: '500 INTERNAL',
      reply: { status: 500, body: camara(500, 'INTERNAL') },
      code: 'UPSTREAM_UNAVAILABLE',
    },
    {
      name: '502 HTML',
      reply: { status: 502, body: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } },
      code: 'UPSTREAM_UNAVAILABLE',
    },
    {
      name: '503 UNAVAILABLE + Retry-After: 1',
      reply: { status: 503, body: camara(503, 'UNAVAILABLE'), headers: { 'retry-after': '1' } },
      code: 'UPSTREAM_UNAVAILABLE',
      retryAfterMs: 1000,
    },
    {
      name: '504 TIMEOUT',
      reply: { status: 504, body: camara(504, 'TIMEOUT') },
      code: 'UPSTREAM_UNAVAILABLE',
    },
    { name: '405', reply: { status: 405, body: 'Method Not Allowed' }, code: 'PROTOCOL_ERROR' },
    { name: '204', reply: { status: 204 }, code: 'PROTOCOL_ERROR' },
  ];

  it.each(cases)('$name → $code', async ({ reply, code, retryAfterMs }) => {
    scripted.server.reply(reply);
    const failure = await failureOf(run('sim-swap'));
    expect(failure.type).toBe(code);
    expect(failure.nonRetryable).toBe(!['RATE_LIMITED', 'UPSTREAM_UNAVAILABLE', 'CONFLICT'].includes(code));
    expect(failure.nextRetryDelay).toBe(retryAfterMs);
    const body = reply.body as { code?: string } | undefined;
    expect(detailsOf(failure)).toMatchObject({
      httpStatus: reply.status,
      endpoint: CAMARA_OPERATIONS['sim-swap'].path,
      providerCode: body?.code,
    });
    if (body?.code) expect(failure.message).toContain(`${body.code} happened`);
  });
});

describe('check activities: sealed tokens', () => {
  it.each([
    ['another operation', { operation: 'sim-swap-date' as Operation }],
    ['another number', { msisdn: '+447700900999' }],
    ['another correlation id', { correlationId: 'corr-other' }],
  ])(
    'a token sealed for %s does not open: UNAUTHENTICATED (the workflow authorizes again), nothing sent',
    async (_name, change) => {
      const ctx = {
        operation: 'sim-swap' as Operation,
        msisdn: MSISDN,
        correlationId: CORRELATION,
        ...change,
      };
      const sealedToken = sealer.sealToken(ACCESS_TOKEN, ctx);
      const failure = await failureOf(scripted.acts.checkSimSwap(callInput('sim-swap', { sealedToken })));
      expect(failure.type).toBe('UNAUTHENTICATED');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(/sealed access token cannot be used here \(issued to another check/);
      expect(scripted.server.requests).toHaveLength(0);
    },
  );

  it('a token sealed by a worker with another key (a rotated key) does not open: UNAUTHENTICATED', async () => {
    const other = createTokenSealer(makeKeys().privateKey);
    const sealedToken = other.sealToken(ACCESS_TOKEN, {
      operation: 'sim-swap',
      msisdn: MSISDN,
      correlationId: CORRELATION,
    });
    const failure = await failureOf(scripted.acts.checkSimSwap(callInput('sim-swap', { sealedToken })));
    expect(failure.type).toBe('UNAUTHENTICATED');
    expect(failure.message).toMatch(/a rotated key/);
    expect(scripted.server.requests).toHaveLength(0);
  });

  it('never puts the access token in a failure, even when the provider echoes it', async () => {
    scripted.server.handle((req) => ({
      status: 401,
      body: { status: 401, code: 'UNAUTHENTICATED', message: `token ${req.headers.authorization} expired` },
    }));
    const failure = await failureOf(run('device-connectivity'));
    expect(failure.type).toBe('UNAUTHENTICATED');
    expect(failure.message).toContain('token Bearer [redacted] expired');
    expect(serializeFailure(failure)).not.toContain(ACCESS_TOKEN);
  });
});
