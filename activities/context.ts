/**
 * The activity Context, when there is one. The activity functions are also called directly
 * (benchmarks, tests) with no Temporal worker around them, so nothing here requires a Context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Context } from '@temporalio/activity';
import type { RequestPacer } from './pacer.js';

export type { RequestPacer };

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Which attempt of the activity this is (1 outside Temporal). */
export function activityAttempt(): number {
  return currentContext()?.info.attempt ?? 1;
}

/** The activity's cancellation signal inside Temporal; undefined outside. */
export function activitySignal(): AbortSignal | undefined {
  return currentContext()?.cancellationSignal;
}

/**
 * A remote activity heartbeats this often while it runs (wherever it waits: the rate-limit
 * pacer, the HTTP request, a CIBA interval), well inside the short heartbeat timeout the
 * workflow gives it, so a worker that dies is noticed within that timeout. The SDK throttles
 * what reaches the server (to 80 % of the heartbeat timeout).
 */
export const HEARTBEAT_EVERY_MS = 1_000;

/** What each running activity last recorded with activityHeartbeat (the ticker repeats it). */
const recorded = new WeakMap<Context, { details: unknown }>();

/**
 * Records progress with the server (remote activities only: a local activity has no heartbeat).
 * A retry reads the last details back. Never pass a credential or a phone number: details are
 * kept by the server and shown by the Temporal UI.
 */
export function activityHeartbeat(details: unknown): void {
  const context = currentContext();
  if (!context || context.info.isLocal) return;
  recorded.set(context, { details });
  context.heartbeat(details);
}

/**
 * Wraps an activity so that, run as a remote activity, it heartbeats every HEARTBEAT_EVERY_MS
 * until it ends. The ticks repeat the details the activity last recorded (or the previous
 * attempt's, until it records its own), so they never erase progress a retry needs; an
 * activity that records nothing heartbeats without details. Local activities and direct calls
 * (no Temporal around them) run unchanged.
 */
export function withHeartbeat<A extends unknown[], R>(
  activity: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    const context = currentContext();
    if (!context || context.info.isLocal) return activity(...args);
    const ticker = setInterval(() => {
      const last = recorded.get(context);
      context.heartbeat(last ? last.details : context.info.heartbeatDetails);
    }, HEARTBEAT_EVERY_MS);
    try {
      return await activity(...args);
    } finally {
      clearInterval(ticker);
    }
  };
}

/** The last heartbeat details of an earlier attempt (undefined on a first attempt or outside Temporal). */
export function activityHeartbeatDetails(): unknown {
  return currentContext()?.info.heartbeatDetails as unknown;
}

type LogAttributes = Record<string, string | number | boolean | undefined>;

/** Logs through the activity logger inside Temporal; silent outside. Never pass credentials. */
export const activityLog = {
  info(message: string, attributes: LogAttributes): void {
    currentContext()?.log.info(message, attributes);
  },
  warn(message: string, attributes: LogAttributes): void {
    currentContext()?.log.warn(message, attributes);
  },
};

/** True when the activity was cancelled because its workflow asked for it (not a timeout or a shutdown). */
export function activityCancelRequested(): boolean {
  return currentContext()?.cancellationDetails?.cancelRequested === true;
}

const pacing = new AsyncLocalStorage<RequestPacer>();

/** Runs `fn` with every Vonage request it makes paced by `pacer` too (at send time, in the HTTP client). */
export function withRequestPacer<T>(pacer: RequestPacer, fn: () => Promise<T>): Promise<T> {
  return pacing.run(pacer, fn);
}

/** The pacer set by withRequestPacer around the current call, if any. */
export function requestPacer(): RequestPacer | undefined {
  return pacing.getStore();
}
