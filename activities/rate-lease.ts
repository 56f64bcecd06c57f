/**
 * A pacer whose turns are slots leased from the task queue's rateLimiter workflow
 * (workflows/rate-limiter.ts), so the limit holds across every worker of the queue.
 *
 * Waiting requests are served by priority (as in createPacer), each at one of this worker's
 * slots. A slot missed by more than SEND_TOLERANCE_MS (the event loop was busy) is given up,
 * never used late: slots are (1 s + margin) / R apart, so sends within the tolerance of their
 * slot keep every 1-s window at R or below, with the rest of the margin left for the network.
 * The worker leases only what its waiting requests need, up to about a second ahead.
 */
import type { RateLease } from '../domain/rate-limit.js';
import { PRIORITY_ORDER, type RequestPriority } from './pacer.js';

export type { RateLease };

/**
 * Asks the limiter for `count` slots (at most a second's worth is granted), the first at least
 * `leadMs` ahead (this worker's recent lease round trip).
 */
export type LeaseSlots = (count: number, leadMs: number) => Promise<RateLease>;

/** Sends go at most this long after their slot (the limiter's margin is 50 ms). */
export const SEND_TOLERANCE_MS = 10;
/** A worker holds slots at most this far ahead. */
const HORIZON_MS = 1_000;
/** After a failed lease, wait this long before asking again. */
const RETRY_MS = 1_000;

export interface LeasedPacerOptions {
  /** Told when a lease fails (it is retried). Must not throw. */
  onLeaseError?: (err: unknown) => void;
  now?: () => number;
}

export function createLeasedPacer(lease: LeaseSlots, options: LeasedPacerOptions = {}) {
  const now = options.now ?? Date.now;
  const queues: Record<RequestPriority, Array<{ grant(): void }>> = { high: [], normal: [], low: [] };
  /** This worker's slots, ascending. */
  const slots: number[] = [];
  let leasing = false;
  /** Recent lease round trip (ms), smoothed. */
  let roundTripMs = 0;
  let retryAfter = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stats = { leases: 0, slots: 0, missed: 0, unused: 0 };

  const waiting = () => queues.high.length + queues.normal.length + queues.low.length;

  function dropMissed(t: number): void {
    while (slots.length > 0 && slots[0]! + SEND_TOLERANCE_MS < t) {
      slots.shift();
      stats.missed++;
    }
  }

  function maybeLease(t: number): void {
    const need = waiting() - slots.length;
    if (leasing || need <= 0 || t < retryAfter) return;
    if (slots.length > 0 && slots[slots.length - 1]! > t + HORIZON_MS) return;
    leasing = true;
    const asked = now();
    // Slots are asked for 1.5 round trips ahead, so they reach this worker before they are due.
    lease(need, Math.ceil(roundTripMs * 1.5))
      .then(
        (granted) => {
          roundTripMs = roundTripMs * 0.7 + (now() - asked) * 0.3;
          stats.leases++;
          stats.slots += granted.count;
          for (let i = 0; i < granted.count; i++) slots.push(granted.start + i * granted.gapMs);
        },
        (err: unknown) => {
          retryAfter = now() + RETRY_MS;
          options.onLeaseError?.(err);
        },
      )
      .finally(() => {
        leasing = false;
        schedule();
      });
  }

  function schedule(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const t = now();
    dropMissed(t);
    while (slots.length > 0 && slots[0]! <= t && waiting() > 0) {
      slots.shift();
      const priority = PRIORITY_ORDER.find((p) => queues[p].length > 0)!;
      queues[priority].shift()!.grant();
    }
    maybeLease(t);
    if (waiting() === 0) return;
    const next = slots.length > 0 ? slots[0]! : leasing ? undefined : Math.max(retryAfter, t + 1);
    if (next !== undefined) timer = setTimeout(schedule, Math.max(0, next - t));
  }

  return {
    /** Resolves at one of this worker's slots; rejects with the signal's reason when aborted first. */
    take(signal?: AbortSignal, priority: RequestPriority = 'normal'): Promise<undefined> {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      return new Promise<undefined>((resolve, reject) => {
        const onAbort = () => {
          const queue = queues[priority];
          const at = queue.indexOf(waiter);
          if (at >= 0) queue.splice(at, 1);
          reject(signal!.reason as Error);
        };
        const waiter = {
          grant() {
            signal?.removeEventListener('abort', onAbort);
            resolve(undefined);
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queues[priority].push(waiter);
        schedule();
      });
    },
    waiting(): Record<RequestPriority, number> {
      return { high: queues.high.length, normal: queues.normal.length, low: queues.low.length };
    },
    /** Leases made, slots granted, slots missed (given up) so far. */
    stats: () => ({ ...stats }),
    close(): void {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
