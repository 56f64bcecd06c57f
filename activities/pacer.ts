/**
 * Request pacing, apart from the transport that sends (activities/http.ts): the sliding-window
 * pacer of `maxRequestsPerSecond`, the connection permits taken right after a request's turn,
 * and the priorities both serve waiting requests by. The leased pacer (rate-lease.ts) shares
 * the priorities; a bulk chunk's own share of the rate is a `RequestPacer` too.
 */
import { ConfigurationError } from '../domain/errors.js';

/**
 * Paced requests keep this much more than 1 s between a request and the one `limit` places
 * later: the provider times arrivals, which jitter by a few ms, and a request that arrives early
 * by even 1 ms would make a window of limit + 1.
 */
export const PACING_MARGIN_MS = 25;

/**
 * Which requests go first when the rate limit makes them wait: the polls and API calls of flows
 * already started (`high`: their authorization is running out), then requests that start and
 * finish in one call (`normal`), then bc-authorize, which opens a new flow (`low`). New flows
 * so only take the capacity that started ones leave: a started flow is never starved of its
 * polls by new authorizations.
 */
export type RequestPriority = 'high' | 'normal' | 'low';
/** Waiting requests are served in this order. */
export const PRIORITY_ORDER: readonly RequestPriority[] = ['high', 'normal', 'low'];

/** A pacer of requests on top of the worker's own (bulk mode: a chunk's share of the batch's rate). */
export interface RequestPacer {
  /** Resolves when the request may go; to a release function when the pacer wants to hear of its answer. */
  take(signal?: AbortSignal, priority?: RequestPriority): Promise<(() => void) | undefined>;
}

/**
 * A sliding-window pacer: a request starts no sooner than 1 s (+ margin) after the request n
 * places before it actually started (n = the limit rounded down, at least 1; under 1 req/s the
 * window widens to 1/limit s), so no window holds more than n starts even when a timer fires
 * late. Starts are also spread evenly (at least window / n apart): a burst of n requests would
 * reach the provider queued behind each other, and that queueing jitter is what can squeeze two
 * windows into one. Waiting requests are served by priority, then in call order; an abort gives
 * the turn up.
 */
export function createPacer(
  perSecond: number,
  now: () => number = Date.now,
  options: {
    /**
     * Count each request as sent when its answer arrives (take() then resolves to a release
     * function the caller calls on the answer or the error; until then the request counts as
     * sent in the future). The provider sees a request at or before its answer, so windows hold
     * at receipt however late a granted request left (a new connection, a busy event loop).
     */
    untilAnswered?: boolean;
  } = {},
) {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) {
    throw new ConfigurationError([`maxRequestsPerSecond must be a positive number (got ${perSecond})`]);
  }
  const n = Math.max(1, Math.floor(perSecond));
  const windowMs = Math.max(1000, 1000 / perSecond) + PACING_MARGIN_MS;
  const gapMs = windowMs / n;
  /** Actual start times of the last n requests, oldest first (Infinity: granted, not answered yet). */
  const recent: number[] = [];
  let lastStart = -Infinity;
  /** The entries behind `recent` (so a release can update its own). */
  const entries: Array<{ at: number }> = [];
  interface Waiter {
    grant(release: (() => void) | undefined): void;
  }
  const queues: Record<RequestPriority, Waiter[]> = { high: [], normal: [], low: [] };
  let timer: ReturnType<typeof setTimeout> | undefined;

  const nextAllowed = () =>
    Math.max(lastStart + gapMs, recent.length >= n ? recent[recent.length - n]! + windowMs : -Infinity);

  function pump(): void {
    timer = undefined;
    for (;;) {
      const priority = PRIORITY_ORDER.find((p) => queues[p].length > 0);
      if (!priority) return;
      const wait = nextAllowed() - now();
      if (wait === Infinity) return; // waits for an answer: its release pumps again
      if (wait > 0) {
        timer = setTimeout(pump, wait);
        return;
      }
      const started = now();
      lastStart = started;
      const entry = { at: options.untilAnswered ? Infinity : started };
      entries.push(entry);
      recent.push(entry.at);
      if (recent.length > n) {
        recent.shift();
        entries.shift();
      }
      const release = options.untilAnswered
        ? () => {
            if (entry.at !== Infinity) return;
            entry.at = now();
            const at = entries.indexOf(entry);
            if (at >= 0) recent[at] = entry.at;
            if (timer === undefined) pump();
            else {
              clearTimeout(timer);
              pump();
            }
          }
        : undefined;
      queues[priority].shift()!.grant(release);
    }
  }

  return {
    /** Resolves when the caller may send; rejects with the signal's reason when aborted first. */
    take(signal?: AbortSignal, priority: RequestPriority = 'normal'): Promise<(() => void) | undefined> {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      return new Promise<(() => void) | undefined>((resolve, reject) => {
        const onAbort = () => {
          const queue = queues[priority];
          const at = queue.indexOf(waiter);
          if (at >= 0) queue.splice(at, 1);
          reject(signal!.reason as Error);
        };
        const waiter: Waiter = {
          grant(release) {
            signal?.removeEventListener('abort', onAbort);
            resolve(release);
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queues[priority].push(waiter);
        if (timer === undefined) pump();
      });
    },
    /** Requests waiting for their turn, by priority (for metrics and tests). */
    waiting(): Record<RequestPriority, number> {
      return { high: queues.high.length, normal: queues.normal.length, low: queues.low.length };
    },
  };
}

/**
 * At most `size` requests at a time, each holding one of the pool's connections; waiting
 * requests are served by priority, then in call order. The HTTP client takes a permit right
 * after the request's rate-limit turn, and sends only on a permit it had at that moment.
 */
export function createPermits(size: number) {
  let free = size;
  const queues: Record<RequestPriority, Array<() => void>> = { high: [], normal: [], low: [] };
  function release(): void {
    const priority = PRIORITY_ORDER.find((p) => queues[p].length > 0);
    if (priority) queues[priority].shift()!();
    else free++;
  }
  return {
    /** Resolves to the permit's release once one is free; rejects with the signal's reason when aborted first. */
    take(signal?: AbortSignal, priority: RequestPriority = 'normal'): Promise<() => void> {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      if (free > 0) {
        free--;
        return Promise.resolve(once(release));
      }
      return new Promise<() => void>((resolve, reject) => {
        const onAbort = () => {
          const queue = queues[priority];
          const at = queue.indexOf(grant);
          if (at >= 0) queue.splice(at, 1);
          reject(signal!.reason as Error);
        };
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(once(release));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queues[priority].push(grant);
      });
    },
    /** The permit's release if one is free now, else undefined (nothing is queued). */
    tryTake(): (() => void) | undefined {
      if (free <= 0) return undefined;
      free--;
      return once(release);
    },
  };
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
