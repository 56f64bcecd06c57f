/**
 * The activity Context, when there is one. The activity functions are also called directly
 * (benchmarks, tests) with no Temporal worker around them, so nothing here requires a Context.
 */
import { Context } from '@temporalio/activity';

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
 * Records progress with the server (remote activities only: a local activity has no heartbeat).
 * The SDK throttles what reaches the server; a retry reads the last details back.
 */
export function activityHeartbeat(details: unknown): void {
  const context = currentContext();
  if (context && !context.info.isLocal) context.heartbeat(details);
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
