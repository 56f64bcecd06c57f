/**
 * Global requests-per-second limit as a sliding-window log: a request is accepted when fewer
 * than `limit` requests were accepted in the preceding 1000 ms, so no 1-s span ever holds
 * more than `limit` accepted requests (unlike fixed windows, which allow 2× at a boundary).
 * Refused requests are not logged, so a client that backs off as told gets through.
 * `Retry-After` is the whole seconds until the oldest accepted request leaves the window
 * (at least 1). Memory is O(limit); each request is O(1) amortized.
 */
import { insertSorted } from './stats.js';

const WINDOW_MS = 1000;

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export class RateLimiter {
  private accepted: number[] = [];
  private head = 0;

  constructor(private readonly limit: number) {
    if (!(limit > 0)) throw new RangeError(`rateLimit must be > 0 (got ${limit})`);
  }

  /**
   * A request received at `now` (its receipt time: requests whose bodies arrive at once may be
   * decided a few ms out of order, so an accepted time is inserted in place).
   */
  take(now: number): RateDecision {
    while (this.head < this.accepted.length && (this.accepted[this.head] ?? now) <= now - WINDOW_MS)
      this.head++;
    if (this.head > 1024 && this.head * 2 > this.accepted.length) {
      this.accepted = this.accepted.slice(this.head);
      this.head = 0;
    }
    if (this.accepted.length - this.head < this.limit) {
      insertSorted(this.accepted, this.head, now);
      return { ok: true };
    }
    const oldest = this.accepted[this.head] ?? now;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000)) };
  }
}
