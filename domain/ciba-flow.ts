/**
 * The CIBA flow's one policy: what follows a bc-authorize answer and each token-poll outcome —
 * wait until when, poll, authorize again, or give up with which code — and where each wait
 * happens. Pure and workflow-safe (no I/O, no clock: every function is given the time).
 *
 * Its carriers only do what it says: the check workflow (workflows/network-check.ts, standard
 * and fast), the polling activity (`pollToken` with `keepPolling`, activities/token.ts, whose
 * loop bulk chunks run too, activities/bulk.ts). The numbers — the deadline margin, the re-poll
 * floor, the slow_down step (domain/ciba.ts, CIBA §11), the retry policies and the heartbeat
 * timeouts — are data here, and nowhere else.
 *
 *   bc-authorize ─► plan: deadline = answer + expires_in − margin, first poll at answer + interval
 *        ▲            │
 *        │            ▼  (wait until the plan's `notBefore`; never poll at or after the deadline)
 *        │          poll ─┬─ pending:   next poll ≥ answer + max(interval, 1 s)
 *        │                ├─ slow_down: interval += 5 s, next poll ≥ answer + interval
 *        │                ├─ fault:     next poll ≥ max(pace, backoff, Retry-After); with no
 *        │                │             answer heard (a timeout, a reset), as slow_down too
 *        └── expired, redeemed, or the next poll due past the deadline (≤ maxAuthorizations
 *            bc-authorize requests in all; then AUTHORIZATION_EXPIRED) ─ token ─► the check
 *
 * ## Where the waits happen, and why a crash never leaves the pace unknown
 *
 * The polls of one authorization run in one activity that waits between them itself (a timer
 * per poll costs 5 history events and a workflow task; a standard check stays at 26 events). A
 * wait in an activity is not durable, so the policy keeps the schedule knowable instead:
 *
 * 1. The plan holds absolute times: the workflow hands each polling activity the earliest time
 *    it may poll (`notBefore`, from the provider's answer), and the activity records its plan as
 *    it goes (heartbeat details: the interval in force and when the next poll is due).
 * 2. Only `authorization_pending` answers are carried on inside an attempt (they do not change
 *    the pace). A `slow_down` ends the attempt: its outcome reaches history before the next poll
 *    is sent (standard mode: the activity's completion; fast mode, whose local activities are
 *    markers committed with the workflow task: a durable timer for that wait — `report`).
 * 3. An attempt that may follow a lost one (a retried remote attempt; a local activity run again
 *    after its workflow task died, detected by its start time, `freshUntil`) starts from the
 *    newest plan it can read. If it starts before that plan's next poll was due, the lost
 *    attempt never sent it (it was dead by then): the pace is exact and the attempt goes on.
 *    Otherwise the lost attempt may have sent one poll whose answer nobody heard; that answer
 *    may have been `slow_down`, so the attempt polls nothing and hands back a plan that assumes
 *    it was (interval + 5 s, counted from now, which is after any poll the lost attempt sent).
 *    The workflow makes that plan durable before anyone polls (a new activity; in fast mode a
 *    durable timer), so at most one answer is ever unknown and the assumption covers it.
 *    Slower than needed at worst, never early.
 * 4. The polling activity's heartbeat timeout is short (3 s), and its retry comes 1 s later, so
 *    a worker killed during a wait is usually replaced before the next poll was due: the common
 *    crash resumes at the exact pace, with no penalty (rule 3's first case). Other steps keep
 *    5 s: they run seconds, not whole CIBA windows.
 *
 * Limits: a worker whose event loop stalls past the heartbeat timeout is taken for dead while it
 * lives; it learns so at its next heartbeat (the activity is cancelled), but a poll it sends in
 * between comes on top of its successor's. A local activity's "lost" test assumes the default
 * workflow task timeout handling (a re-run starts at least one task timeout after scheduling).
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { SLOW_DOWN_SECONDS } from './ciba.js';
import type { ErrorCode } from './errors.js';

// ── The numbers ──────────────────────────────────────────────────────────────────────────────

/** bc-authorize requests in all, when earlier ones expire before the token is granted. */
export const DEFAULT_MAX_AUTHORIZATIONS = 2;
/** Shortest wait between two polls when the provider says interval 0 (Temporal timers' own floor). */
export const MIN_REPOLL_SECONDS = 1;
/**
 * The last poll goes at least this long before `expires_in` ends (never more than a tenth of
 * the window), so it reaches the provider while the auth_req_id is still valid.
 */
export const DEADLINE_MARGIN_MS = 1_000;
/**
 * The longest wait an activity makes before a poll; a longer one is a durable timer. Remote:
 * an activity slot held for two minutes at most. Local: a local activity holds its workflow
 * task, so its waits stay short.
 */
export const INLINE_WAIT_LIMIT_MS = { remote: 120_000, local: 30_000 } as const;
/**
 * Remote steps heartbeat every second (withHeartbeat, activities/context.ts): a worker that dies
 * is noticed this long after its last heartbeat and the step is retried elsewhere, instead of
 * after its start-to-close timeout. Activity options are not part of replay's determinism
 * check, so runs already going pick changes up for the steps they schedule from then on.
 */
export const HEARTBEAT_TIMEOUT_MS = 5_000;
/**
 * The polling activity's heartbeat timeout: shorter, so that a worker killed during a CIBA wait
 * is replaced before the next poll is due and its successor resumes at the exact pace (rule 4
 * above). The SDK sends heartbeats every 80 % of it (2.4 s): a worker is taken for dead after an
 * event-loop stall of about 3 s.
 */
export const POLL_HEARTBEAT_TIMEOUT_MS = 3_000;

/** A retry policy in milliseconds: what Temporal applies to an activity, and bulk mode in process. */
export interface RetryData {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
}

/** Every HTTP step: backoff for 5xx and network errors; a 429 waits its `Retry-After` instead. */
export const STEP_RETRY: RetryData = {
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 30_000,
  maximumAttempts: 8,
};
/** Timeouts of an HTTP step: one attempt, and all of them (Retry-After is capped at 5 min). */
export const STEP_TIMEOUTS = { startToCloseMs: 30_000, scheduleToCloseMs: 10 * 60_000 } as const;
/** Under a rate limit a bc-authorize waits behind started flows' polls: time, not attempts. */
export const AUTHORIZE_STEP = {
  startToCloseMs: 120_000,
  retry: { ...STEP_RETRY, maximumAttempts: Infinity },
} as const;
/** Fast mode's local activities: retried in the workflow task up to this long, then with a timer. */
export const LOCAL_RETRY_THRESHOLD_MS = 10_000;
/**
 * A poll's transient faults (503, 429, timeouts, resets): retried at this backoff, never sooner
 * than the pace, never before a `Retry-After`, until the window closes (no attempt limit).
 */
export const POLL_FAULT_RETRY: RetryData = {
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 5_000,
  maximumAttempts: Infinity,
};
/** A poll step's start-to-close: its wait (or what is left of the window) plus this. */
export const POLL_STEP_SLACK_MS = 30_000;

/** The code a check ends with when no authorization brought a token. */
export const GIVE_UP_CODE = 'AUTHORIZATION_EXPIRED' satisfies ErrorCode;

/**
 * Whether a step's failure is retried, as Temporal decides for an activity: by the taxonomy's
 * `retryable` (an ApplicationFailure's `nonRetryable`), unknown errors too, never a cancellation.
 * The polling loop and bulk chunks retry in process by this.
 */
export function isRetried(err: unknown): boolean {
  if (err instanceof CancelledFailure) return false;
  if (err instanceof ApplicationFailure) return !err.nonRetryable;
  return true;
}

/** The n-th retry's delay under a policy (n ≥ 1), as Temporal computes it. */
export function backoffMs(retry: RetryData, n: number): number {
  return Math.min(retry.initialIntervalMs * retry.backoffCoefficient ** (n - 1), retry.maximumIntervalMs);
}

// ── The plan ─────────────────────────────────────────────────────────────────────────────────

/** One authorization's polling schedule. Times are ms since the epoch. */
export interface PollPlan {
  /** No poll at or after this: expires_in counted from the provider's answer, less the margin. */
  deadlineMs: number;
  /** Seconds between polls: the provider's interval, plus 5 for each slow_down. */
  intervalSeconds: number;
  /** The earliest the next poll may go. */
  notBefore: number;
  /**
   * An earlier poll's answer was never heard (a lost attempt): it may have been the token, so
   * `invalid_grant` on the next poll means "redeemed" (authorize again), not a final error.
   */
  answerLost?: boolean;
}

/**
 * What follows. `poll` by the plan (`report`: the pace changed; make that durable before the
 * next poll, rule 2); `use-token`; or `authorize` again (with the plan whose next poll would
 * have come too late, when that was the reason).
 */
export type Next =
  | { action: 'poll'; plan: PollPlan; report?: boolean }
  | { action: 'use-token' }
  | { action: 'authorize'; plan?: PollPlan };

/** The token-poll answers the policy reads (PollOutcome's `outcome`). */
export type PollAnswer = 'pending' | 'slow_down' | 'expired' | 'redeemed' | 'token';

/** The wait between two polls at this interval (interval 0 re-polls after 1 s). */
export function paceMs(intervalSeconds: number): number {
  return Math.max(intervalSeconds, MIN_REPOLL_SECONDS) * 1000;
}

/** A plan whose next poll is due before its deadline is polled; otherwise the window is over. */
function decide(plan: PollPlan, report = false): Next {
  if (plan.notBefore >= plan.deadlineMs) return { action: 'authorize', plan };
  return report ? { action: 'poll', plan, report } : { action: 'poll', plan };
}

/** Whether a poll may go at `now` (after a wait: a timer or a stalled process may end late). */
export function mayPoll(plan: PollPlan, now: number): boolean {
  return now < plan.deadlineMs;
}

/**
 * The rules a run follows, by the patches in its history (a new run has them all). The
 * functions are asked only where an older run asked its patch, so its markers stay in place.
 */
export interface FlowRules {
  /** `ciba-flow`: the first poll counts from the provider's answer (fast mode's workflow clock lags). */
  flow: boolean;
  /** `lean-history`: the polls of an authorization are one activity. */
  lean: boolean;
  /** `pending-repoll-floor`: after pending, wait at least MIN_REPOLL_SECONDS. */
  repollFloor(): boolean;
  /** Fast mode before lean-history: `fast-wait-in-poll`, then `fast-long-wait-timer`. */
  fastWaitInPoll(): boolean;
  fastLongWaitTimer(): boolean;
}

/** The rules of a new run, and of the carriers outside workflows (activities, bulk chunks). */
export const CURRENT_RULES: FlowRules = {
  flow: true,
  lean: true,
  repollFloor: () => true,
  fastWaitInPoll: () => true,
  fastLongWaitTimer: () => true,
};

/** What a bc-authorize answer brings (domain/types.ts's Authorization). */
export interface AuthorizationAnswer {
  expiresIn: number;
  interval: number;
  /** When the answer arrived; runs recorded before it was reported count from the request. */
  answeredAt?: number;
}

/**
 * The first plan of an authorization. `now`: the carrier's clock when the answer is in hand;
 * `requestedAt`: when the bc-authorize was asked for (runs recorded without `answeredAt`).
 */
export function afterAuthorization(
  auth: AuthorizationAnswer,
  at: { now: number; requestedAt: number; skipFirstWait?: boolean; rules?: FlowRules },
): Next & { deadlineMs: number } {
  const rules = at.rules ?? CURRENT_RULES;
  // expires_in counts from the provider's answer, so time spent retrying bc-authorize cannot eat
  // the window (the earlier of the answer and now: a clock that lags never stretches it).
  const deadlineMs =
    auth.answeredAt === undefined
      ? at.requestedAt + auth.expiresIn * 1000
      : Math.min(auth.answeredAt, at.now) +
        auth.expiresIn * 1000 -
        Math.min(DEADLINE_MARGIN_MS, auth.expiresIn * 100);
  // The first poll: one interval after the answer (`skipFirstWait`: at once, a test's early poll).
  const from = rules.flow && auth.answeredAt !== undefined ? Math.max(at.now, auth.answeredAt) : at.now;
  const wait = at.skipFirstWait ? 0 : auth.interval * 1000;
  const plan: PollPlan = { deadlineMs, intervalSeconds: auth.interval, notBefore: from + wait };
  return { ...decide(plan), deadlineMs };
}

/** What follows a poll answered at `at` (the answer's own time, on the clock of whoever polled). */
export function afterAnswer(
  plan: PollPlan,
  answer: PollAnswer,
  at: number,
  rules: FlowRules = CURRENT_RULES,
): Next {
  const heard: PollPlan = {
    deadlineMs: plan.deadlineMs,
    intervalSeconds: plan.intervalSeconds,
    notBefore: at,
  };
  switch (answer) {
    case 'token':
      return { action: 'use-token' };
    case 'expired': // expired_token
    case 'redeemed': // a repeated poll whose lost first try took the token
      return { action: 'authorize' };
    case 'pending': {
      // interval 0 allows an immediate first poll, not a busy loop: re-poll after ≥ 1 s.
      const wait = rules.repollFloor() ? paceMs(plan.intervalSeconds) : plan.intervalSeconds * 1000;
      return decide({ ...heard, notBefore: at + wait });
    }
    case 'slow_down': {
      // CIBA §11: +5 s for this and every later poll. The pace changed: report it first.
      const intervalSeconds = plan.intervalSeconds + SLOW_DOWN_SECONDS;
      return decide({ ...heard, intervalSeconds, notBefore: at + paceMs(intervalSeconds) }, true);
    }
  }
}

/**
 * What follows a poll request that failed with a transient fault at `at`, the `consecutive`-th
 * in a row: poll again after the pace, the backoff and any `Retry-After`, if that is before the
 * deadline. (The request went out no later than `at`: the pace counts from there.)
 *
 * `answerMayBeLost`: the request may have reached the provider and its answer never came back
 * (a timeout or a reset after sending). That answer may have been `slow_down`, so the next poll
 * assumes it was (CIBA §11: +5 s for every later poll), and the changed pace is reported before
 * anyone polls (rule 2), like a `slow_down` heard. Slower than needed at worst, never early.
 */
export function afterFault(
  plan: PollPlan,
  fault: { consecutive: number; retryAfterMs?: number; answerMayBeLost?: boolean },
  at: number,
): Next {
  const waitAtLeast = Math.max(backoffMs(POLL_FAULT_RETRY, fault.consecutive), fault.retryAfterMs ?? 0);
  if (fault.answerMayBeLost) return decide(assumeSlowDown(plan, at, waitAtLeast), true);
  return decide({ ...plan, notBefore: at + Math.max(paceMs(plan.intervalSeconds), waitAtLeast) });
}

/**
 * The plan after an answer that may have been `slow_down` but was never heard: the interval + 5
 * s (CIBA §11), the next poll that long after `from` (or `waitAtLeast`, if longer), and an
 * answer lost (it may have been the token too). Slower than needed at worst, never early.
 */
function assumeSlowDown(plan: PollPlan, from: number, waitAtLeast = 0): PollPlan {
  const intervalSeconds = plan.intervalSeconds + SLOW_DOWN_SECONDS;
  const notBefore = from + Math.max(paceMs(intervalSeconds), waitAtLeast);
  return { ...plan, intervalSeconds, notBefore, answerLost: true };
}

/**
 * What a polling activity's outcome means to the workflow (or a bulk chunk), given the plan it
 * polled by. A polling loop reports `nextPollAt` (its policy's answer on its own clock): that is
 * the next plan, and since a loop returns before its deadline only when the pace changed, it is
 * reported (rule 2). A single poll's answer, or an older loop's, is read at `now`.
 */
export function afterOutcome(
  plan: PollPlan,
  outcome: {
    outcome: PollAnswer;
    polls?: number;
    intervalSeconds?: number;
    nextPollAt?: number;
    answerLost?: boolean;
  },
  now: number,
  rules: FlowRules = CURRENT_RULES,
): Next {
  const intervalSeconds = outcome.intervalSeconds ?? plan.intervalSeconds;
  const polled: PollPlan = { deadlineMs: plan.deadlineMs, intervalSeconds, notBefore: plan.notBefore };
  if (
    (outcome.outcome === 'pending' || outcome.outcome === 'slow_down') &&
    outcome.nextPollAt !== undefined
  ) {
    return decide(
      { ...polled, notBefore: outcome.nextPollAt, ...(outcome.answerLost ? { answerLost: true } : {}) },
      true,
    );
  }
  return afterAnswer(polled, outcome.outcome, now, rules);
}

/**
 * Whether a polling run may follow a lost one: a retried attempt (remote: the one before died or
 * failed; local: retried in process), or a local activity that started at or after `freshUntil`
 * (its workflow task was lost with a worker and it runs again: a re-run cannot start sooner than
 * one workflow task timeout after it was scheduled; a first run starts within 80 % of it).
 */
export function mayFollowLostRun(run: { attempt: number; startedAt: number; freshUntil?: number }): boolean {
  return run.attempt > 1 || (run.freshUntil !== undefined && run.startedAt >= run.freshUntil);
}

/**
 * Where a polling run that may follow a lost one starts (rule 3), from the newest plan it can
 * read (heartbeat details, or its input): before that plan's next poll was due, the lost run
 * never sent it — go on exactly ('resume'). Otherwise one poll's answer may be unknown: assume
 * it was slow_down, from now, and hand that plan back without polling ('hand-back').
 */
export function resumeAfterLostRun(
  plan: PollPlan,
  now: number,
): { action: 'resume'; plan: PollPlan } | { action: 'hand-back'; plan: PollPlan } {
  if (now < plan.notBefore) return { action: 'resume', plan: { ...plan, answerLost: true } };
  return { action: 'hand-back', plan: assumeSlowDown(plan, now) };
}

/**
 * Whether the polls of an authorization run in one activity. Before lean-history: one activity
 * per poll. Then: one loop, but in fast mode only while its waits fit a local activity. From
 * ciba-flow on every poll is a loop: one that would wait too long hands back, and the workflow
 * waits with a timer.
 */
export function pollsInOneActivity(plan: PollPlan, ctx: { local: boolean; rules: FlowRules }): boolean {
  if (ctx.rules.flow) return true;
  return ctx.rules.lean && !(ctx.local && paceMs(plan.intervalSeconds) > INLINE_WAIT_LIMIT_MS.local);
}

/**
 * Where the workflow's wait of `waitMs` before a poll happens: inside the poll's activity
 * ('inline') or as a durable timer. A reported pace change waits with a timer in fast mode
 * (rule 2); a wait longer than an activity should hold is always a timer.
 */
export function waitPlace(
  waitMs: number,
  ctx: { local: boolean; report?: boolean; rules: FlowRules },
): 'inline' | 'timer' {
  const { rules, local } = ctx;
  if (rules.lean) {
    if (local && ctx.report) return 'timer';
    return waitMs <= INLINE_WAIT_LIMIT_MS[local ? 'local' : 'remote'] ? 'inline' : 'timer';
  }
  // Before lean-history: standard mode always used timers; fast mode waited in the poll from
  // fast-wait-in-poll on, and with a timer for long waits from fast-long-wait-timer on.
  const inline =
    local && rules.fastWaitInPoll() && !(waitMs > INLINE_WAIT_LIMIT_MS.local && rules.fastLongWaitTimer());
  return inline ? 'inline' : 'timer';
}

/** Timeouts and retries of a poll step (all in ms), for a plan polled at `now`. */
export function pollStep(
  plan: PollPlan,
  ctx: { loop: boolean; waitMs: number; now: number },
): { startToCloseMs: number; scheduleToCloseMs: number; retry: RetryData; heartbeatTimeoutMs: number } {
  const remainingMs = plan.deadlineMs - ctx.now;
  const pace = paceMs(plan.intervalSeconds);
  return {
    // A polling loop may run to the deadline; a single poll that waits first gets that long more.
    startToCloseMs: ctx.loop
      ? remainingMs + POLL_STEP_SLACK_MS
      : ctx.waitMs > 0
        ? ctx.waitMs + POLL_STEP_SLACK_MS
        : STEP_TIMEOUTS.startToCloseMs,
    // Retries stop at the expires_in deadline.
    scheduleToCloseMs: remainingMs,
    // A loop's retry keeps the pace itself (rule 3): retry soon. A single poll's retry is the
    // next poll: never sooner than the pace, with a short backoff to the end of the window.
    retry: ctx.loop
      ? POLL_FAULT_RETRY
      : {
          ...POLL_FAULT_RETRY,
          initialIntervalMs: Math.max(POLL_FAULT_RETRY.initialIntervalMs, pace),
          maximumIntervalMs: Math.max(POLL_FAULT_RETRY.maximumIntervalMs, pace),
        },
    heartbeatTimeoutMs: ctx.loop ? POLL_HEARTBEAT_TIMEOUT_MS : HEARTBEAT_TIMEOUT_MS,
  };
}

/**
 * What a poll step that failed means: the window ran out while it ran or retried a transient
 * fault (a timeout, or a retryable code: this auth_req_id is as good as expired; authorize
 * again), or the failure is the check's.
 */
export function afterPollFailure(failure: { timedOut: boolean; retryable: boolean }): 'authorize' | 'fail' {
  return failure.timedOut || failure.retryable ? 'authorize' : 'fail';
}

/**
 * bc-authorize requests left for the auth flow that follows a CAMARA 401 (once): the rest of the
 * run's budget (runs recorded before `run-wide-authorization-budget`: the whole budget again).
 */
export function authorizationsAfterUnauthenticated(
  maxAuthorizations: number,
  made: number,
  runWideBudget = true,
): number {
  return runWideBudget ? maxAuthorizations - made : maxAuthorizations;
}

/** The failure a check ends with when its authorizations ran out without a token. */
export function giveUp(authorizations: number): { code: typeof GIVE_UP_CODE; message: string } {
  return {
    code: GIVE_UP_CODE,
    message: `No access token within expires_in after ${authorizations} bc-authorize request(s)`,
  };
}
