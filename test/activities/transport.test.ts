import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CancelledFailure, type LogLevel, type LogMetadata, type Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities, createVonageClient, type NetcheckActivities } from '../../activities/index.js';
import { createHttpClient, mayHaveReachedProvider, transportFailure } from '../../activities/http.js';
import { netcheckFailure } from '../../domain/errors.js';
import { scopeFor, type PollTokenInput } from '../../domain/index.js';
import {
  failureOf,
  makeKeys,
  serializeFailure,
  startScriptedServer,
  type ScriptedServer,
} from './helpers.js';
import { makeEcKey } from '../support/keys.js';

const keys = makeKeys();
const applicationId = randomUUID();
const MSISDN = '+447700900004';
const input = { msisdn: MSISDN, scope: scopeFor('device-connectivity'), correlationId: 'corr-transport' };
const OK = { body: { auth_req_id: 'r', expires_in: 120, interval: 1 } };
let server: ScriptedServer;
let acts: NetcheckActivities;

beforeAll(async () => {
  server = await startScriptedServer();
  acts = createActivities({
    applicationId,
    privateKey: keys.privateKey,
    baseUrl: server.url,
    http: { headersTimeoutMs: 150, bodyTimeoutMs: 150, connections: 2 },
  });
});
afterAll(async () => {
  await acts.close();
  await server.close();
});
beforeEach(() => server.reset());

async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('transport failures are retryable', () => {
  // undici checks headers/body timeouts with 1 s-resolution timers: the server stalls well beyond.
  it('headers not sent in time → TIMEOUT', async () => {
    server.reply({ ...OK, delayMs: 3_000 });
    const failure = await failureOf(acts.authorize(input));
    expect(failure.type).toBe('TIMEOUT');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('UND_ERR_HEADERS_TIMEOUT');
  });

  it('body stalls → TIMEOUT', async () => {
    server.reply({ ...OK, stallBodyMs: 3_000 });
    const failure = await failureOf(acts.authorize(input));
    expect(failure.type).toBe('TIMEOUT');
    expect(failure.message).toContain('UND_ERR_BODY_TIMEOUT');
  });

  it('socket destroyed by the server → NETWORK_ERROR', async () => {
    server.reply({ destroy: true });
    const failure = await failureOf(acts.authorize(input));
    expect(failure.type).toBe('NETWORK_ERROR');
    expect(failure.nonRetryable).toBe(false);
  });

  it('connection refused → NETWORK_ERROR', async () => {
    const refused = createActivities({
      applicationId,
      privateKey: keys.privateKey,
      baseUrl: await closedPortUrl(),
    });
    const failure = await failureOf(refused.authorize(input));
    await refused.close();
    expect(failure.type).toBe('NETWORK_ERROR');
    expect(failure.message).toContain('ECONNREFUSED');
  });

  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'TIMEOUT'],
    ['UND_ERR_HEADERS_TIMEOUT', 'TIMEOUT'],
    ['UND_ERR_BODY_TIMEOUT', 'TIMEOUT'],
    ['ETIMEDOUT', 'TIMEOUT'],
    ['ECONNRESET', 'NETWORK_ERROR'],
    ['UND_ERR_SOCKET', 'NETWORK_ERROR'],
    ['ENOTFOUND', 'NETWORK_ERROR'],
  ])('%s → %s', (code, expected) => {
    const failure = transportFailure(Object.assign(new Error('boom'), { code }), '/oauth2/token');
    expect(failure.type).toBe(expected);
    expect(failure.nonRetryable).toBe(false);
  });

  // What the CIBA policy reads after a failed token poll: could the provider have handled it
  // (and its answer, maybe slow_down, been lost)? Only when something was sent.
  it.each([
    ['UND_ERR_HEADERS_TIMEOUT', true],
    ['UND_ERR_BODY_TIMEOUT', true],
    ['ETIMEDOUT', true],
    ['ECONNRESET', true],
    ['UND_ERR_SOCKET', true],
    ['UND_ERR_CONNECT_TIMEOUT', false],
    ['ECONNREFUSED', false],
    ['ENOTFOUND', false],
    ['EAI_AGAIN', false],
  ])('%s: may have reached the provider = %s', (code, expected) => {
    const failure = transportFailure(Object.assign(new Error('boom'), { code }), '/oauth2/token');
    expect(mayHaveReachedProvider(failure)).toBe(expected);
  });

  it('an HTTP answer, a closed client or another error never counts as a lost answer', () => {
    expect(mayHaveReachedProvider(netcheckFailure('UPSTREAM_UNAVAILABLE', 'HTTP 503'))).toBe(false);
    expect(
      mayHaveReachedProvider(netcheckFailure('NETWORK_ERROR', 'not sent', { details: { endpoint: '/x' } })),
    ).toBe(false);
    expect(mayHaveReachedProvider(new Error('ECONNRESET'))).toBe(false);
  });

  it('finds the code of an AggregateError (happy eyeballs) or a cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1'), { code: 'ECONNREFUSED' });
    expect(transportFailure(new AggregateError([refused]), '/x').message).toContain('ECONNREFUSED');
    expect(transportFailure(new Error('x', { cause: { code: 'UND_ERR_CONNECT_TIMEOUT' } }), '/x').type).toBe(
      'TIMEOUT',
    );
  });

  it('a body over 1 MiB → PROTOCOL_ERROR', async () => {
    server.reply({ body: 'x'.repeat(1024 * 1024 + 10) });
    expect((await failureOf(acts.authorize(input))).type).toBe('PROTOCOL_ERROR');
  });

  it('after close(), requests fail with NETWORK_ERROR (another worker retries them)', async () => {
    const closing = createActivities({ applicationId, privateKey: keys.privateKey, baseUrl: server.url });
    await closing.close();
    expect((await failureOf(closing.authorize(input))).type).toBe('NETWORK_ERROR');
    expect(server.requests).toHaveLength(0);
  });
});

describe('connection pool', () => {
  it('reuses keep-alive connections (bounded by `connections`)', async () => {
    const before = server.connections();
    for (let i = 0; i < 6; i++) server.reply(OK);
    await Promise.all([acts.authorize(input), acts.authorize(input)]);
    for (let i = 0; i < 4; i++) await acts.authorize(input);
    expect(server.requests).toHaveLength(6);
    expect(server.connections() - before).toBeLessThanOrEqual(2);
  });

  it('requests hanging on the provider do not make later ones leave in a burst at the rate limit', async () => {
    // Two connections, 5 req/s, and the first two requests hang until the client gives up. The
    // others must wait for a connection before their rate-limit turn: turns granted while both
    // connections hang would otherwise all leave together when the hung ones time out.
    const hanging = await startScriptedServer();
    const arrivals: number[] = [];
    let seen = 0;
    hanging.handle(() => {
      arrivals.push(Date.now());
      return ++seen <= 2 ? { delayMs: 3_000, body: {} } : { body: {} };
    });
    const http = createHttpClient({ connections: 2, maxRequestsPerSecond: 5, headersTimeoutMs: 1_500 });
    try {
      const url = new URL('/x', hanging.url);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, () => http.postJson(url, {}, { headers: {} })),
      );
      expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(2); // the two that hung
      expect(arrivals).toHaveLength(12);
      const most = Math.max(...arrivals.map((t) => arrivals.filter((u) => u >= t && u < t + 1000).length));
      expect(most).toBeLessThanOrEqual(5);
    } finally {
      await http.close();
      await hanging.close();
    }
  });
});

describe('cancellation', () => {
  it('inside an activity, Temporal cancellation aborts the request with CancelledFailure', async () => {
    server.reply({ ...OK, delayMs: 5_000 });
    const slow = createActivities({ applicationId, privateKey: keys.privateKey, baseUrl: server.url });
    const env = new MockActivityEnvironment();
    const started = Date.now();
    const promise = env.run(slow.authorize, input);
    setTimeout(() => env.cancel('CANCELLED'), 50);
    await expect(promise).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(2_000);
    await slow.close();
  });

  it('outside Temporal, an aborted signal becomes CANCELLED', async () => {
    const http = createHttpClient();
    const controller = new AbortController();
    controller.abort();
    const failure = await failureOf(
      http.postForm(new URL(`${server.url}/x`), {}, { headers: {}, signal: controller.signal }),
    );
    expect(failure.type).toBe('CANCELLED');
    await http.close();
  });
});

describe('logging', () => {
  it('logs the outcome with a masked number, never the number, JWT or token', async () => {
    const lines: { level: LogLevel; message: string; meta?: LogMetadata }[] = [];
    const record = (level: LogLevel, message: string, meta?: LogMetadata): void => {
      lines.push({ level, message, meta });
    };
    const logger: Logger = {
      log: record,
      trace: (message, meta) => record('TRACE', message, meta),
      debug: (message, meta) => record('DEBUG', message, meta),
      info: (message, meta) => record('INFO', message, meta),
      warn: (message, meta) => record('WARN', message, meta),
      error: (message, meta) => record('ERROR', message, meta),
    };
    const env = new MockActivityEnvironment(undefined, { logger });
    server.reply(OK, { body: { access_token: 'tok-logged-never-0001', token_type: 'Bearer' } });
    await env.run(acts.authorize, input);
    const pollInput: PollTokenInput = {
      authReqId: 'r',
      correlationId: 'corr-transport',
      operation: 'device-connectivity',
      msisdn: MSISDN,
    };
    await env.run(acts.pollToken, pollInput);
    const text = JSON.stringify(lines);
    const jwt = (server.requests[0]!.headers.authorization ?? '').slice(7);
    expect(lines.filter((l) => l.message === 'Vonage answered')).toHaveLength(2);
    expect(text).toContain('+44*******004');
    expect(text).not.toContain(MSISDN);
    expect(text).not.toContain(jwt);
    expect(text).not.toContain('tok-logged-never-0001');
  });
});

describe('configuration', () => {
  it.each([
    ['empty application id', { applicationId: '' }],
    ['a public key', { privateKey: keys.publicKey }],
    ['a missing key', { privateKey: undefined }],
    ['an EC key', { privateKey: makeEcKey() }],
    ['a bad base URL', { baseUrl: 'api-eu.vonage.com' }],
    ['a non-http base URL', { baseUrl: 'ftp://api-eu.vonage.com' }],
    ['a base URL with credentials', { baseUrl: 'https://user:pw@api-eu.vonage.com' }],
    ['a bad http option', { http: { connections: 0 } }],
  ])('rejects %s with CONFIGURATION', (_name, change) => {
    const deps = { applicationId, privateKey: keys.privateKey, baseUrl: server.url, ...change };
    let caught: unknown;
    try {
      createVonageClient(deps as Parameters<typeof createVonageClient>[0]);
    } catch (err) {
      caught = err;
    }
    expect((caught as { type?: string }).type).toBe('CONFIGURATION');
    expect(serializeFailure(caught)).not.toContain('pw@');
  });
});
