/**
 * rateLimiter: one per task queue, the owner of the Vonage rate limit across every worker.
 *
 *   worker A ─lease(n)─┐                      slots: start, start + gap, … (gap = (1 s + 25 ms) / R)
 *   worker B ─lease(n)─┼─► rateLimiter ──────► each worker sends a request only at one of its own
 *   worker C ─lease(n)─┘   (next free slot)    slots, and gives up a slot it missed by more than the
 *                                              send tolerance (activities/rate-lease.ts)
 *
 * Slots are handed out once, on one timeline, so no 1-s window holds more than R requests
 * however many workers there are and whether the calls run as activities or local activities.
 * The state is one number (the next free slot); the run continues as new when its history grows
 * and ends after an idle stretch (the next lease starts it again: update-with-start).
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { netcheckFailure } from '../domain/errors.js';

export interface LeaseRequest {
  /** Slots wanted (at most one second's worth is granted at once). */
  count: number;
  /** The limit R, requests per second. */
  perSecond: number;
}

/** `count` slots at `start`, `start + gapMs`, … (ms since the epoch). */
export interface RateLease {
  start: number;
  gapMs: number;
  count: number;
}

export interface RateLimiterInput {
  /** The first free slot (carried by continue-as-new). */
  nextFree?: number;
}

export const leaseUpdate = defineUpdate<RateLease, [LeaseRequest]>('lease');

/**
 * Slots are (1 s + this) / R apart: a request may go up to the send tolerance after its slot
 * and still no 1-s window at the provider holds more than R (activities/rate-lease.ts).
 */
export const RATE_MARGIN_MS = 25;
/** A lease's first slot is at least this far ahead, so it reaches the worker before it is due. */
const LEAD_MS = 40;
/** Continue as new past this many events. */
const HISTORY_LIMIT = 2_000;
/** With no lease for this long, the run ends. */
const IDLE_MS = 10 * 60_000;

export function rateLimiterId(taskQueue: string): string {
  return `netcheck-rate-limiter/${taskQueue}`;
}

function leaseProblem(request: LeaseRequest): string | undefined {
  const { count, perSecond } = request ?? {};
  if (!(typeof perSecond === 'number' && Number.isFinite(perSecond) && perSecond > 0))
    return 'perSecond must be a number above 0';
  if (!(typeof count === 'number' && Number.isInteger(count) && count >= 1))
    return 'count must be a whole number ≥ 1';
  return undefined;
}

export async function rateLimiter(input: RateLimiterInput = {}): Promise<void> {
  let nextFree = input.nextFree ?? 0;
  let lastLease = Date.now();
  setHandler(
    leaseUpdate,
    ({ count, perSecond }): RateLease => {
      const now = Date.now();
      const gapMs = (1000 + RATE_MARGIN_MS) / perSecond;
      const granted = Math.min(count, Math.max(1, Math.ceil(perSecond)));
      const start = Math.max(nextFree, now + LEAD_MS);
      nextFree = start + granted * gapMs;
      lastLease = now;
      return { start, gapMs, count: granted };
    },
    {
      validator: (request: LeaseRequest) => {
        const problem = leaseProblem(request);
        if (problem) throw netcheckFailure('INVALID_INPUT', `rate lease: ${problem}`);
      },
    },
  );
  const long = () => workflowInfo().historyLength > HISTORY_LIMIT || workflowInfo().continueAsNewSuggested;
  const grew = await condition(long, IDLE_MS);
  await condition(allHandlersFinished);
  if (!grew && Date.now() - lastLease >= IDLE_MS) return; // idle: the next lease starts a new run
  await continueAsNew<typeof rateLimiter>({ nextFree });
}
