/**
 * The queue-wide rate limit's wire between workers and the task queue's rateLimiter workflow
 * (workflows/rate-limiter.ts): names and shapes only, so a worker can lease slots without
 * loading workflow code (a production image carries the workflows only inside its bundle).
 */

/** The limiter workflow's update that hands out send slots. */
export const LEASE_UPDATE = 'lease';

export interface LeaseRequest {
  /** Slots wanted (at most one second's worth is granted at once). */
  count: number;
  /** The limit R, requests per second. */
  perSecond: number;
  /**
   * How far ahead the first slot should be (ms): the worker's recent lease round trip, so slots
   * do not arrive already past on a loaded machine (the limiter keeps it within bounds).
   */
  leadMs?: number;
}

/** `count` slots at `start`, `start + gapMs`, … (ms since the epoch). */
export interface RateLease {
  start: number;
  gapMs: number;
  count: number;
}

/**
 * Slots are (1 s + this) / R apart: a request may go up to the send tolerance after its slot
 * and still no 1-s window at the provider holds more than R (activities/rate-lease.ts).
 */
export const RATE_MARGIN_MS = 50;

export function rateLimiterId(taskQueue: string): string {
  return `netcheck-rate-limiter/${taskQueue}`;
}

/**
 * The limiter's own task queue (named like its workflow): served by a small worker beside each
 * netcheck worker, so its workflow tasks never wait behind the checks' (a fast check's task
 * stays open while its local activities wait for slots from this very limiter).
 */
export function rateLimiterTaskQueue(taskQueue: string): string {
  return rateLimiterId(taskQueue); // the same name as the workflow it serves
}

/**
 * Every rate netcheck accepts (the plugin's rateLimit and http.maxRequestsPerSecond,
 * NETCHECK_RATE_LIMIT and `--rate`, a bulk batch's rateLimit) is requests per second within
 * these bounds. Below 0.1 a check waits minutes for each request; above 10,000 the limit is no
 * limit (and the slot arithmetic loses its meaning).
 */
export const RATE_LIMITS = { min: 0.1, max: 10_000 } as const;

/** The bounds as messages say them. */
export const RATE_BOUNDS_TEXT = 'from 0.1 to 10,000';

/** Whether `value` is a rate netcheck accepts: a finite number of requests per second within RATE_LIMITS. */
export function isAcceptedRate(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= RATE_LIMITS.min &&
    value <= RATE_LIMITS.max
  );
}
