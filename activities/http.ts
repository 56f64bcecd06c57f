/**
 * The HTTP transport for every call to Vonage: one keep-alive undici `Pool` per origin, two
 * helpers (`postForm`, `postJson`) that always consume the response body and hand back
 * `{status, headers, body}` (JSON parsed when it is JSON, text otherwise), and the mapping of
 * transport failures to `NETWORK_ERROR` / `TIMEOUT`. Cancellation follows the AbortSignal the
 * caller passes (the activity's cancellation signal inside Temporal). Which request goes when
 * is the pacers' job (pacer.ts, rate-lease.ts); the transport only takes their turns.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Pool } from 'undici';
import { causeChain, netcheckFailure } from '../domain/index.js';
import type { HttpAnswer } from './errors.js';
import { createPacer, createPermits, type RequestPacer, type RequestPriority } from './pacer.js';
import { createLeasedPacer, type LeaseSlots } from './rate-lease.js';

// The pacer lives in pacer.ts; these names stay importable from here.
export {
  createPacer,
  createPermits,
  PACING_MARGIN_MS,
  type RequestPacer,
  type RequestPriority,
} from './pacer.js';

export interface HttpOptions {
  /** TCP/TLS connect timeout (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** Time to wait for the response headers (default 20 000 ms). */
  headersTimeoutMs?: number;
  /** Maximum gap between two body chunks (default 20 000 ms). */
  bodyTimeoutMs?: number;
  /**
   * Connections per origin (default 64). A request is sent only on a connection that was free at
   * its rate-limit turn (else it waits for one and takes a fresh turn): requests hanging on a slow
   * provider never make the next ones queue in the pool and leave together in a burst.
   */
  connections?: number;
  /** How long an idle connection is kept (default 4 000 ms; a server's Keep-Alive hint may lower it). */
  keepAliveTimeoutMs?: number;
  /**
   * Most requests this client sends in any 1-s window (default: no limit). Requests over the
   * limit wait (cancellably) for their turn, so a worker never bursts past the provider's rate.
   */
  maxRequestsPerSecond?: number;
  /**
   * Slots leased from a limiter shared by every worker (the plugin's `rateLimit` sets this to the
   * task queue's rateLimiter workflow): requests go only at leased slots. Takes precedence over
   * `maxRequestsPerSecond`, which paces this client alone.
   */
  leaseSlots?: LeaseSlots;
  /** Told of each request's outcome and pacing wait, e.g. for metrics (worker/metrics.ts). Must not throw. */
  observer?: HttpObserver;
}

export interface HttpObserver {
  /** A request ended: its path, HTTP status (`'error'`: no answer) and milliseconds from send to body read. */
  onResponse?(endpoint: string, status: number | 'error', ms: number): void;
  /** A request waited this many milliseconds for its turn under `maxRequestsPerSecond`. */
  onRateLimitWait?(ms: number): void;
}

export const HTTP_DEFAULTS = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 20_000,
  bodyTimeoutMs: 20_000,
  connections: 64,
  keepAliveTimeoutMs: 4_000,
} as const satisfies Required<Omit<HttpOptions, 'maxRequestsPerSecond' | 'observer' | 'leaseSlots'>>;

/** Bodies above this size are refused: no Vonage answer comes close. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export type HttpResponse = HttpAnswer;

export interface RequestOptions {
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** Turn order under the rate limit (default `normal`). */
  priority?: RequestPriority;
  /** A pacer of this request's own, taken after the client's (bulk mode: the chunk's share of the rate). */
  pacer?: RequestPacer;
}

export interface HttpClient {
  postForm(url: URL, form: Record<string, string>, options: RequestOptions): Promise<HttpResponse>;
  postJson(url: URL, json: unknown, options: RequestOptions): Promise<HttpResponse>;
  /** Closes every pool; requests made afterwards fail with NETWORK_ERROR. */
  close(): Promise<void>;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function errorCode(err: unknown): string | undefined {
  for (const link of causeChain(err, 4)) {
    const code = typeof link === 'object' ? (link as { code?: unknown } | null)?.code : undefined;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function shortMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * The failure to throw when the request was aborted. Temporal's own cancellation
 * (`CancelledFailure` as the signal's reason) is rethrown as is, so the worker reports the
 * activity as cancelled (or paused/reset); any other abort becomes `CANCELLED`.
 */
export function cancellationFailure(signal: AbortSignal, path: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof CancelledFailure) return reason;
  return netcheckFailure('CANCELLED', `POST ${path} was cancelled before Vonage answered`, {
    details: { endpoint: path },
  });
}

/** Maps an error thrown by undici (no HTTP answer) to NETWORK_ERROR, TIMEOUT or PROTOCOL_ERROR. */
export function transportFailure(err: unknown, path: string): ApplicationFailure {
  const code = errorCode(err) ?? 'UNKNOWN';
  const details = { endpoint: path, errorCode: code };
  if (TIMEOUT_CODES.has(code)) {
    return netcheckFailure(
      'TIMEOUT',
      `POST ${path} timed out (${code}: ${shortMessage(err)}); this is retryable`,
      { details },
    );
  }
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return netcheckFailure(
      'PROTOCOL_ERROR',
      `POST ${path} answered with a body larger than ${MAX_RESPONSE_BYTES} bytes; check the API base URL`,
      { details },
    );
  }
  return netcheckFailure(
    'NETWORK_ERROR',
    `POST ${path} failed without an HTTP answer (${code}: ${shortMessage(err)}); this is retryable`,
    { details },
  );
}

/** Transport errors that come before the request is written: nothing reached the provider. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

/**
 * Whether a failed request may have reached the provider with its answer lost: a failure without
 * an HTTP answer (TIMEOUT, NETWORK_ERROR from transportFailure) other than one that comes before
 * anything is sent (a refused or timed-out connect, a name that did not resolve, a closed client).
 * An HTTP answer, however bad, was heard: false.
 */
export function mayHaveReachedProvider(err: unknown): boolean {
  if (!(err instanceof ApplicationFailure) || (err.type !== 'TIMEOUT' && err.type !== 'NETWORK_ERROR'))
    return false;
  const details = err.details?.[0] as { errorCode?: unknown } | undefined;
  const code = details?.errorCode;
  return typeof code === 'string' && !NOT_SENT_CODES.has(code);
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return '';
  const looksJson = /json/i.test(contentType ?? '') || /^\s*[[{]/.test(text);
  if (!looksJson) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function createHttpClient(options: HttpOptions = {}): HttpClient {
  const settings = { ...HTTP_DEFAULTS, ...stripUndefined(options) };
  const leased = options.leaseSlots
    ? createLeasedPacer(options.leaseSlots, {
        onLeaseError: (err) =>
          console.error(`netcheck: rate-limit lease failed (retrying in 1 s): ${String(err).slice(0, 300)}`),
      })
    : undefined;
  const pacer =
    leased ??
    (options.maxRequestsPerSecond === undefined ? undefined : createPacer(options.maxRequestsPerSecond));
  const pools = new Map<string, { pool: Pool; permits: ReturnType<typeof createPermits> }>();
  const observer = options.observer;
  let closed = false;

  function poolFor(origin: string): { pool: Pool; permits: ReturnType<typeof createPermits> } {
    let entry = pools.get(origin);
    if (!entry) {
      const pool = new Pool(origin, {
        connections: settings.connections,
        keepAliveTimeout: settings.keepAliveTimeoutMs,
        headersTimeout: settings.headersTimeoutMs,
        bodyTimeout: settings.bodyTimeoutMs,
        connect: { timeout: settings.connectTimeoutMs },
        maxResponseSize: MAX_RESPONSE_BYTES,
      });
      entry = { pool, permits: createPermits(settings.connections) };
      pools.set(origin, entry);
    }
    return entry;
  }

  async function post(
    url: URL,
    body: string,
    contentType: string,
    options: RequestOptions,
  ): Promise<HttpResponse> {
    const path = url.pathname;
    const { signal } = options;
    if (closed) {
      throw netcheckFailure(
        'NETWORK_ERROR',
        `POST ${path} was not sent: the worker's HTTP client is closed`,
        {
          details: { endpoint: path },
        },
      );
    }
    if (signal?.aborted) throw cancellationFailure(signal, path);
    const { pool, permits } = poolFor(url.origin);
    const releases: Array<() => void> = [];
    const turn = async (gate: RequestPacer | undefined): Promise<void> => {
      if (!gate) return;
      const queuedAt = performance.now();
      const release = await gate.take(signal, options.priority);
      if (release) releases.push(release);
      observer?.onRateLimitWait?.(performance.now() - queuedAt);
    };
    try {
      // The request's own pacer (a bulk chunk's share) first, then the worker's, in priority order.
      await turn(options.pacer);
      await turn(pacer);
      // A connection at that moment. When every connection is busy (requests hanging on a slow
      // provider), the turn is spent: the request waits for a connection, then for a fresh turn,
      // so it never goes out late together with others queued behind the same connections.
      const connection = permits.tryTake();
      if (connection) releases.push(connection);
      else {
        releases.push(await permits.take(signal, options.priority));
        await turn(pacer);
      }
    } catch (err) {
      for (const release of releases) release();
      if (signal?.aborted) throw cancellationFailure(signal, path);
      throw err;
    }
    const sentAt = performance.now();
    try {
      const res = await pool.request({
        method: 'POST',
        path: url.pathname + url.search,
        headers: {
          ...options.headers,
          'content-type': contentType,
          accept: 'application/json',
        },
        body,
        signal,
      });
      // Always consume the body, so the connection goes back to the pool.
      const text = await res.body.text();
      const headers = res.headers as Record<string, string | string[] | undefined>;
      observer?.onResponse?.(path, res.statusCode, performance.now() - sentAt);
      return { status: res.statusCode, headers, body: parseBody(text, firstHeader(headers['content-type'])) };
    } catch (err) {
      if (signal?.aborted) throw cancellationFailure(signal, path);
      observer?.onResponse?.(path, 'error', performance.now() - sentAt);
      throw transportFailure(err, path);
    } finally {
      for (const release of releases) release();
    }
  }

  return {
    postForm(url, form, options) {
      return post(url, new URLSearchParams(form).toString(), 'application/x-www-form-urlencoded', options);
    },
    postJson(url, json, options) {
      return post(url, JSON.stringify(json), 'application/json', options);
    },
    async close() {
      closed = true;
      leased?.close();
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map(({ pool }) => pool.close()));
    },
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
