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
