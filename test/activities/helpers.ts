/**
 * Test support for the activity tests: a tiny scripted `node:http` server (records every
 * request, answers with whatever the test queued), RSA keys, and failure inspection helpers.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { createActivities, type NetcheckActivities } from '../../activities/index.js';
import { makeKeys, type TestKeys } from '../support/keys.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  /** An object/array is sent as JSON; a string is sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait before sending the headers. */
  delayMs?: number;
  /** Send headers and the first chunk, then wait this long before ending the body. */
  stallBodyMs?: number;
  /** Destroy the socket instead of answering. */
  destroy?: boolean;
}

export type Handler = (req: RecordedRequest) => Reply;

export interface ScriptedServer {
  url: string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Answers the next requests with these replies, in order. */
  reply(...replies: Reply[]): void;
  /** Answers every request without a queued reply with this handler. */
  handle(handler: Handler): void;
  /** Forgets recorded requests, queued replies and the handler. */
  reset(): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, reply: Reply): void {
  const status = reply.status ?? 200;
  const isText = typeof reply.body === 'string';
  const payload =
    reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
  const headers: Record<string, string> = {
    ...(reply.body !== undefined && !isText ? { 'content-type': 'application/json' } : {}),
    ...reply.headers,
  };
  if (reply.stallBodyMs !== undefined) {
    res.writeHead(status, headers);
    res.write(payload.slice(0, 1));
    setTimeout(() => res.end(payload.slice(1)), reply.stallBodyMs).unref();
    return;
  }
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(payload)) });
  res.end(payload);
}

export async function startScriptedServer(): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const queue: Reply[] = [];
  const sockets = new Set<Socket>();
  let connectionCount = 0;
  let handler: Handler | undefined;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const reply = queue.shift() ??
        handler?.(recorded) ?? { status: 599, body: { error: 'no_reply_scripted' } };
      if (reply.destroy) {
        req.socket.destroy();
        return;
      }
      if (reply.delayMs !== undefined) setTimeout(() => send(res, reply), reply.delayMs).unref();
      else send(res, reply);
    });
  });
  server.on('connection', (socket: Socket) => {
    connectionCount++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connectionCount,
    reply: (...replies) => void queue.push(...replies),
    handle: (h) => void (handler = h),
    reset() {
      requests.length = 0;
      queue.length = 0;
      handler = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export { makeKeys, type TestKeys };

/** Awaits a promise that must reject with an ApplicationFailure, and returns that failure. */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected the call to fail').toBeInstanceOf(ApplicationFailure);
  return caught as ApplicationFailure;
}

/** Everything a failure could carry anywhere (message, details, cause chain, stack) as one string. */
export function serializeFailure(err: unknown): string {
  const seen = new Set<unknown>();
  const walk = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    if (value instanceof Error) {
      const out: Record<string, unknown> = { name: value.name, message: value.message, stack: value.stack };
      for (const key of Object.getOwnPropertyNames(value))
        out[key] = walk((value as unknown as Record<string, unknown>)[key]);
      out.cause = walk(value.cause);
      return out;
    }
    if (Array.isArray(value)) return value.map(walk);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
  };
  return JSON.stringify(walk(err));
}

/** The one details object netcheckFailure attaches. */
export function detailsOf(failure: ApplicationFailure): Record<string, unknown> {
  return (failure.details?.[0] ?? {}) as Record<string, unknown>;
}

/** Asserts that none of the secrets (nor their base64 bodies) appear in the text. */
export function expectNoSecrets(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(text.includes(secret), 'a secret leaked').toBe(false);
  }
}

/** The distinctive middle of a PEM private key (its base64 lines). */
export function pemBodyLines(pem: string): string[] {
  return pem
    .split('\n')
    .filter((line) => line && !line.startsWith('-----'))
    .slice(1, 4);
}

export function bearerOf(req: RecordedRequest): string {
  const value = req.headers.authorization ?? '';
  expect(value).toMatch(/^Bearer \S+$/);
  return value.slice('Bearer '.length);
}

/**
 * The set-up every scripted-server activity test shares: one scripted Vonage server for the file,
 * the activities pointed at it (closed after the file), and the script cleared before each test
 * (unless `resetEach: false`). Read `server` and `acts` inside tests and hooks.
 */
export function useScriptedActivities(options: {
  privateKey: TestKeys['privateKey'];
  applicationId?: string;
  resetEach?: boolean;
}): { readonly server: ScriptedServer; readonly acts: NetcheckActivities } {
  let server: ScriptedServer | undefined;
  let acts: NetcheckActivities | undefined;
  beforeAll(async () => {
    server = await startScriptedServer();
    acts = createActivities({
      applicationId: options.applicationId ?? randomUUID(),
      privateKey: options.privateKey,
      baseUrl: server.url,
    });
  });
  afterAll(async () => {
    await acts?.close();
    await server?.close();
  });
  if (options.resetEach !== false) beforeEach(() => server?.reset());
  return {
    get server() {
      if (!server) throw new Error('the scripted server starts in beforeAll');
      return server;
    },
    get acts() {
      if (!acts) throw new Error('the activities are made in beforeAll');
      return acts;
    },
  };
}
