/**
 * Request and violation counters, globally and per number. Every update is O(1)
 * (amortized for the sliding window), so stats never slow a load test down.
 */
import { VIOLATION_KINDS, type SimulatorStats, type ViolationKind } from './types.js';

const WINDOW_MS = 1000;

/**
 * Arrival times of the last second in a queue: the maximum queue length ever seen is the
 * most requests received within any 1-s span. Each timestamp is pushed and popped once.
 * Times are receipt times (request headers), recorded once the body is read: concurrent
 * requests may be recorded a few ms out of order, so each is inserted in place.
 */
export class SlidingWindowMax {
  private times: number[] = [];
  private head = 0;
  max = 0;

  add(at: number): void {
    insertSorted(this.times, this.head, at);
    const newest = this.times[this.times.length - 1] ?? at;
    while (this.head < this.times.length && (this.times[this.head] ?? newest) <= newest - WINDOW_MS)
      this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    this.max = Math.max(this.max, this.times.length - this.head);
  }
}

/** Inserts `t` into `times` (sorted from `head` on), scanning from the tail: O(1) when in order. */
export function insertSorted(times: number[], head: number, t: number): void {
  let i = times.length;
  while (i > head && (times[i - 1] ?? t) > t) i--;
  if (i === times.length) times.push(t);
  else times.splice(i, 0, t);
}

class Counters {
  requests: Record<string, Record<string, number>> = {};
  violations = Object.fromEntries(VIOLATION_KINDS.map((k) => [k, 0])) as Record<ViolationKind, number>;
  window = new SlidingWindowMax();
  total = 0;

  snapshot(): SimulatorStats {
    return {
      requests: Object.fromEntries(
        Object.entries(this.requests).map(([endpoint, byStatus]) => [endpoint, { ...byStatus }]),
      ),
      violations: { ...this.violations },
      maxRequestsInAnyWindow1s: this.window.max,
      total: this.total,
    };
  }
}

export class StatsRecorder {
  private global = new Counters();
  private perNumber = new Map<string, Counters>();

  private forNumber(msisdn: string): Counters {
    let counters = this.perNumber.get(msisdn);
    if (!counters) {
      counters = new Counters();
      this.perNumber.set(msisdn, counters);
    }
    return counters;
  }

  private each(msisdn: string | undefined, fn: (c: Counters) => void): void {
    fn(this.global);
    if (msisdn) fn(this.forNumber(msisdn));
  }

  /** A Vonage request was received at `at` (ms). */
  arrival(at: number, msisdn?: string): void {
    this.each(msisdn, (c) => {
      c.total++;
      c.window.add(at);
    });
  }

  /** A Vonage request ended with this status (or "drop" / "timeout"). */
  outcome(endpoint: string, status: number | string, msisdn?: string): void {
    const key = String(status);
    this.each(msisdn, (c) => {
      const byStatus = (c.requests[endpoint] ??= {});
      byStatus[key] = (byStatus[key] ?? 0) + 1;
    });
  }

  violation(kind: ViolationKind, msisdn?: string): void {
    this.each(msisdn, (c) => {
      c.violations[kind]++;
    });
  }

  snapshot(msisdn?: string): SimulatorStats {
    if (msisdn === undefined) return this.global.snapshot();
    return (this.perNumber.get(msisdn) ?? new Counters()).snapshot();
  }

  reset(): void {
    this.global = new Counters();
    this.perNumber.clear();
  }
}
