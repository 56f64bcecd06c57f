/**
 * rateLimiter: one per task queue, the owner of the Vonage rate limit across every worker.
 *
 *   worker A ─lease(n)─┐                      slots: start, start + gap, … (gap = (1 s + 50 ms) / R)
 *   worker B ─lease(n)─┼─► rateLimiter ──────► each worker sends a request only at one of its own
 *   worker C ─lease(n)─┘   (next free slot)    slots, and gives up a slot it missed by more than the
 *                                              send tolerance (activities/rate-lease.ts)
 *
 * Slots are handed out once, on one timeline, so no 1-s window holds more than R requests
 * however many workers there are and whether the calls run as activities or local activities.
 * The state is one number (the next free slot); the run continues as new when its history grows
 * and ends after an idle stretch (the next lease starts it again: update-with-start). It runs on
 * a task queue of its own (rateLimiterTaskQueue), served by a small worker beside each netcheck
 * worker (worker/rate-limit.ts), so its tasks never wait behind the checks'.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineUpdate,
  makeContinueAsNewFunc,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { netcheckFailure } from '../domain/errors.js';
import { RATE_LIMITER_OWN_TASK_QUEUE } from './patches.js';
import {
  LEASE_UPDATE,
  RATE_MARGIN_MS,
  rateLimiterId,
  rateLimiterTaskQueue,
  type LeaseRequest,
  type RateLease,
} from '../domain/rate-limit.js';

export { RATE_MARGIN_MS, rateLimiterId, rateLimiterTaskQueue, type LeaseRequest, type RateLease };

export const leaseUpdate = defineUpdate<RateLease, [LeaseRequest]>(LEASE_UPDATE);

/** A lease's first slot is at least this far ahead, so it reaches the worker before it is due… */
const LEAD_MS = 40;
/** …or as far ahead as the worker's lease round trip asks, up to this. */
const MAX_LEAD_MS = 2_000;
/** Continue as new past this many events. */
const HISTORY_LIMIT = 2_000;
/** With no lease for this long, the run ends. */
const IDLE_MS = 10 * 60_000;

export interface RateLimiterInput {
  /** The first free slot (carried by continue-as-new). */
  nextFree?: number;
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
    ({ count, perSecond, leadMs }): RateLease => {
      const now = Date.now();
      const gapMs = (1000 + RATE_MARGIN_MS) / perSecond;
      const granted = Math.min(count, Math.max(1, Math.ceil(perSecond)));
      const lead = Math.min(Math.max(LEAD_MS, Number.isFinite(leadMs) ? Number(leadMs) : 0), MAX_LEAD_MS);
      const start = Math.max(nextFree, now + lead);
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
  // A run started on the checks' own task queue (by workers before the limiter had one) moves
  // to the limiter's queue here: the id already names it (rateLimiterTaskQueue).
  const { taskQueue, workflowId } = workflowInfo();
  if (taskQueue !== workflowId && patched(RATE_LIMITER_OWN_TASK_QUEUE)) {
    await makeContinueAsNewFunc<typeof rateLimiter>({ taskQueue: workflowId })({ nextFree });
  }
  await continueAsNew<typeof rateLimiter>({ nextFree });
}
