/**
 * The CIBA policy (domain/ciba-flow.ts) without a server: every decision after a bc-authorize
 * answer, a poll answer, a fault and a lost attempt; where each wait happens and what each poll
 * step is given; and whole flows driven the way the carriers drive it, against a provider that
 * judges every poll as the simulator does — including workers dying at every moment of a wait.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { SLOW_DOWN_SECONDS } from '../../domain/ciba.js';
import {
  afterAnswer,
  afterAuthorization,
  afterFault,
  afterOutcome,
  afterPollFailure,
  authorizationsAfterUnauthenticated,
  AUTHORIZE_STEP,
  backoffMs,
  CURRENT_RULES,
  DEADLINE_MARGIN_MS,
  DEFAULT_MAX_AUTHORIZATIONS,
  giveUp,
  HEARTBEAT_TIMEOUT_MS,
  INLINE_WAIT_LIMIT_MS,
  isRetried,
  mayFollowLostRun,
  mayPoll,
  MIN_REPOLL_SECONDS,
  paceMs,
  POLL_FAULT_RETRY,
  POLL_HEARTBEAT_TIMEOUT_MS,
  pollStep,
  pollsInOneActivity,
  resumeAfterLostRun,
  STEP_RETRY,
  STEP_TIMEOUTS,
  waitPlace,
  type FlowRules,
  type Next,
  type PollAnswer,
  type PollPlan,
} from '../../domain/ciba-flow.js';
import { netcheckFailure } from '../../domain/errors.js';
import { runPollLoop, type PollLoopPorts } from '../../activities/token.js';
import type { PollOutcome } from '../../domain/types.js';

const T0 = 1_800_000_000_000;
const plan = (extra: Partial<PollPlan> = {}): PollPlan => ({
  deadlineMs: T0 + 60_000,
  intervalSeconds: 2,
  notBefore: T0,
  ...extra,
});

/** Rules of a run recorded before some patch; counts which patch questions were asked. */
function legacyRules(
  over: Partial<Pick<FlowRules, 'flow' | 'lean'>> & {
    floor?: boolean;
    waitInPoll?: boolean;
    longTimer?: boolean;
  } = {},
) {
  const asked: string[] = [];
  const rules: FlowRules = {
    flow: over.flow ?? false,
    lean: over.lean ?? false,
    repollFloor: () => (asked.push('pending-repoll-floor'), over.floor ?? true),
    fastWaitInPoll: () => (asked.push('fast-wait-in-poll'), over.waitInPoll ?? true),
    fastLongWaitTimer: () => (asked.push('fast-long-wait-timer'), over.longTimer ?? true),
  };
  return { rules, asked };
}

const pollPlanOf = (next: Next): PollPlan => {
  if (next.action !== 'poll') throw new Error(`expected a poll, got ${next.action}`);
  return next.plan;
};

describe('the numbers', () => {
  it('are the documented ones', () => {
    expect(DEFAULT_MAX_AUTHORIZATIONS).toBe(2);
    expect(MIN_REPOLL_SECONDS).toBe(1);
    expect(DEADLINE_MARGIN_MS).toBe(1_000);
    expect(INLINE_WAIT_LIMIT_MS).toEqual({ remote: 120_000, local: 30_000 });
    expect(STEP_RETRY).toEqual({
      initialIntervalMs: 1_000,
      backoffCoefficient: 2,
      maximumIntervalMs: 30_000,
      maximumAttempts: 8,
    });
    expect(STEP_TIMEOUTS).toEqual({ startToCloseMs: 30_000, scheduleToCloseMs: 600_000 });
    expect(AUTHORIZE_STEP).toEqual({
      startToCloseMs: 120_000,
      retry: { ...STEP_RETRY, maximumAttempts: Infinity },
    });
    // A dead polling worker is noticed before a 6-s interval's next poll is due.
    expect(POLL_HEARTBEAT_TIMEOUT_MS + POLL_FAULT_RETRY.initialIntervalMs).toBeLessThan(6_000);
    expect(POLL_HEARTBEAT_TIMEOUT_MS).toBeLessThan(HEARTBEAT_TIMEOUT_MS);
  });

  it('backoff doubles from the initial interval up to the maximum, as Temporal computes it', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(STEP_RETRY, n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000,
    ]);
    expect([1, 2, 3, 4].map((n) => backoffMs(POLL_FAULT_RETRY, n))).toEqual([1_000, 2_000, 4_000, 5_000]);
  });

  it('the pace: the interval, and never a busy loop at interval 0', () => {
    expect(paceMs(0)).toBe(1_000);
    expect(paceMs(0.5)).toBe(1_000);
    expect(paceMs(6)).toBe(6_000);
  });

  it('what is retried: the taxonomy decides; unknown errors too; never a cancellation', () => {
    expect(isRetried(netcheckFailure('UPSTREAM_UNAVAILABLE', 'x'))).toBe(true);
    expect(isRetried(netcheckFailure('RATE_LIMITED', 'x', { retryAfterMs: 2_000 }))).toBe(true);
    expect(isRetried(netcheckFailure('ACCESS_DENIED', 'x'))).toBe(false);
    expect(isRetried(ApplicationFailure.nonRetryable('x'))).toBe(false);
    expect(isRetried(new CancelledFailure('cancelled'))).toBe(false);
    expect(isRetried(new TypeError('a bug'))).toBe(true);
  });
});

describe('after a bc-authorize answer', () => {
  it('the window counts from the answer, less the margin; the first poll is one interval after it', () => {
    const next = afterAuthorization(
      { expiresIn: 120, interval: 2, answeredAt: T0 },
      { now: T0 + 40, requestedAt: T0 - 5_000 },
    );
    expect(next).toEqual({
      action: 'poll',
      plan: { deadlineMs: T0 + 120_000 - 1_000, intervalSeconds: 2, notBefore: T0 + 40 + 2_000 },
      deadlineMs: T0 + 119_000,
    });
  });

  it('the margin is at most a tenth of a short window', () => {
    const next = afterAuthorization(
      { expiresIn: 3, interval: 1, answeredAt: T0 },
      { now: T0, requestedAt: T0 },
    );
    expect(next.deadlineMs).toBe(T0 + 3_000 - 300);
  });

  it('a clock that lags the answer never stretches the window, and never brings the first poll forward', () => {
    // Fast mode: the workflow's clock is its task's start, before the local activity answered.
    const lagging = T0 - 3_000;
    const next = afterAuthorization(
      { expiresIn: 60, interval: 5, answeredAt: T0 },
      { now: lagging, requestedAt: lagging },
    );
    expect(next.deadlineMs).toBe(lagging + 60_000 - 1_000);
    expect(pollPlanOf(next).notBefore).toBe(T0 + 5_000);
  });

  it('runs recorded before ciba-flow count the first wait from the workflow clock, as they did', () => {
    const { rules } = legacyRules({ lean: true });
    const lagging = T0 - 3_000;
    const next = afterAuthorization(
      { expiresIn: 60, interval: 5, answeredAt: T0 },
      { now: lagging, requestedAt: lagging, rules },
    );
    expect(pollPlanOf(next).notBefore).toBe(lagging + 5_000);
  });

  it('runs recorded before answeredAt was reported count the window from the request, without margin', () => {
    const next = afterAuthorization({ expiresIn: 30, interval: 2 }, { now: T0 + 900, requestedAt: T0 });
    expect(next.deadlineMs).toBe(T0 + 30_000);
    expect(pollPlanOf(next).notBefore).toBe(T0 + 900 + 2_000);
  });

  it('skipFirstWait polls at once', () => {
    const next = afterAuthorization(
      { expiresIn: 30, interval: 2, answeredAt: T0 },
      { now: T0, requestedAt: T0, skipFirstWait: true },
    );
    expect(pollPlanOf(next).notBefore).toBe(T0);
  });

  it('an interval that ends past the window: authorize again without polling', () => {
    const next = afterAuthorization(
      { expiresIn: 3, interval: 3, answeredAt: T0 },
      { now: T0, requestedAt: T0 },
    );
    expect(next.action).toBe('authorize');
  });
});

describe('after a poll answer', () => {
  it('token: use it', () => {
    expect(afterAnswer(plan(), 'token', T0)).toEqual({ action: 'use-token' });
  });

  it.each(['expired', 'redeemed'] as const)('%s: authorize again', (answer) => {
    expect(afterAnswer(plan(), answer, T0)).toEqual({ action: 'authorize' });
  });

  it('pending: poll again one interval after the answer, at the same pace', () => {
    expect(afterAnswer(plan({ intervalSeconds: 2 }), 'pending', T0 + 500)).toEqual({
      action: 'poll',
      plan: { deadlineMs: T0 + 60_000, intervalSeconds: 2, notBefore: T0 + 2_500 },
    });
  });

  it('pending at interval 0: re-poll after the 1-s floor (runs from before the floor: at once)', () => {
    expect(pollPlanOf(afterAnswer(plan({ intervalSeconds: 0 }), 'pending', T0)).notBefore).toBe(T0 + 1_000);
    const { rules, asked } = legacyRules({ floor: false });
    expect(pollPlanOf(afterAnswer(plan({ intervalSeconds: 0 }), 'pending', T0, rules)).notBefore).toBe(T0);
    expect(asked).toEqual(['pending-repoll-floor']);
  });

  it('pending, the next poll due at or past the deadline: authorize again, with that plan', () => {
    const next = afterAnswer(plan({ deadlineMs: T0 + 2_000 }), 'pending', T0);
    expect(next).toEqual({
      action: 'authorize',
      plan: { deadlineMs: T0 + 2_000, intervalSeconds: 2, notBefore: T0 + 2_000 },
    });
  });

  it('slow_down: 5 s more for this and every later poll, reported before the next poll', () => {
    expect(afterAnswer(plan({ intervalSeconds: 1 }), 'slow_down', T0)).toEqual({
      action: 'poll',
      plan: { deadlineMs: T0 + 60_000, intervalSeconds: 1 + SLOW_DOWN_SECONDS, notBefore: T0 + 6_000 },
      report: true,
    });
  });

  it('slow_down past the window: authorize again', () => {
    expect(afterAnswer(plan({ deadlineMs: T0 + 5_000 }), 'slow_down', T0).action).toBe('authorize');
  });

  it('an answer heard clears a lost answer', () => {
    expect(pollPlanOf(afterAnswer(plan({ answerLost: true }), 'pending', T0)).answerLost).toBeUndefined();
  });
});

describe('after a transient fault', () => {
  it('polls again after the pace, the backoff and any Retry-After, whichever is longest', () => {
    const p = plan({ intervalSeconds: 1 });
    expect(pollPlanOf(afterFault(p, { consecutive: 1 }, T0)).notBefore).toBe(T0 + 1_000);
    expect(pollPlanOf(afterFault(p, { consecutive: 3 }, T0)).notBefore).toBe(T0 + 4_000);
    expect(pollPlanOf(afterFault(p, { consecutive: 9 }, T0)).notBefore).toBe(T0 + 5_000);
    expect(pollPlanOf(afterFault(p, { consecutive: 1, retryAfterMs: 7_000 }, T0)).notBefore).toBe(T0 + 7_000);
    expect(pollPlanOf(afterFault(plan({ intervalSeconds: 6 }), { consecutive: 1 }, T0)).notBefore).toBe(
      T0 + 6_000,
    );
  });

  it('keeps the pace and a lost answer; past the deadline, authorize again', () => {
    const next = afterFault(plan({ intervalSeconds: 3, answerLost: true }), { consecutive: 1 }, T0);
    expect(next).toEqual({
      action: 'poll',
      plan: { deadlineMs: T0 + 60_000, intervalSeconds: 3, notBefore: T0 + 3_000, answerLost: true },
    });
    expect(afterFault(plan({ deadlineMs: T0 + 2_000 }), { consecutive: 1 }, T0).action).toBe('authorize');
  });

  it('with no answer heard (it may have been slow_down): +5 s from now, an answer lost, reported first', () => {
    const next = afterFault(plan({ intervalSeconds: 2 }), { consecutive: 1, answerMayBeLost: true }, T0);
    expect(next).toEqual({
      action: 'poll',
      plan: {
        deadlineMs: T0 + 60_000,
        intervalSeconds: 2 + SLOW_DOWN_SECONDS,
        notBefore: T0 + (2 + SLOW_DOWN_SECONDS) * 1000,
        answerLost: true,
      },
      report: true,
    });
    // A longer backoff or Retry-After still wins; past the deadline, authorize again.
    const hinted = afterFault(
      plan({ intervalSeconds: 2 }),
      { consecutive: 1, answerMayBeLost: true, retryAfterMs: 20_000 },
      T0,
    );
    expect(pollPlanOf(hinted).notBefore).toBe(T0 + 20_000);
    expect(
      afterFault(plan({ deadlineMs: T0 + 5_000 }), { consecutive: 1, answerMayBeLost: true }, T0).action,
    ).toBe('authorize');
  });
});

describe("after a polling activity's outcome", () => {
  it("a loop's pending or slow_down names the next poll: that is the plan, reported", () => {
    const p = plan({ intervalSeconds: 1 });
    expect(
      afterOutcome(p, { outcome: 'slow_down', intervalSeconds: 6, nextPollAt: T0 + 9_000 }, T0 + 50_000),
    ).toEqual({
      action: 'poll',
      plan: { deadlineMs: T0 + 60_000, intervalSeconds: 6, notBefore: T0 + 9_000 },
      report: true,
    });
    const handedBack = afterOutcome(
      p,
      { outcome: 'pending', intervalSeconds: 6, nextPollAt: T0 + 7_000, answerLost: true },
      T0,
    );
    expect(handedBack).toEqual({
      action: 'poll',
      plan: { deadlineMs: T0 + 60_000, intervalSeconds: 6, notBefore: T0 + 7_000, answerLost: true },
      report: true,
    });
  });

  it("a loop's hand-back at the deadline: authorize again", () => {
    const next = afterOutcome(
      plan(),
      { outcome: 'pending', intervalSeconds: 2, nextPollAt: T0 + 60_000 },
      T0,
    );
    expect(next.action).toBe('authorize');
  });

  it('a single poll, or an older loop, is read at the workflow clock, with the interval it reports', () => {
    expect(pollPlanOf(afterOutcome(plan(), { outcome: 'pending' }, T0 + 100)).notBefore).toBe(T0 + 2_100);
    const slowed = afterOutcome(plan({ intervalSeconds: 1 }), { outcome: 'slow_down' }, T0);
    expect(slowed).toMatchObject({ action: 'poll', plan: { intervalSeconds: 6, notBefore: T0 + 6_000 } });
    // An older loop handed back at its deadline, reporting the interval it had reached.
    const older = afterOutcome(
      plan({ intervalSeconds: 1, deadlineMs: T0 + 5_000 }),
      { outcome: 'pending', polls: 3, intervalSeconds: 6 },
      T0,
    );
    expect(older).toEqual({
      action: 'authorize',
      plan: { deadlineMs: T0 + 5_000, intervalSeconds: 6, notBefore: T0 + 6_000 },
    });
  });

  it('final answers end the plan, whatever else the outcome says', () => {
    expect(afterOutcome(plan(), { outcome: 'token', nextPollAt: T0 }, T0)).toEqual({ action: 'use-token' });
    expect(afterOutcome(plan(), { outcome: 'expired', polls: 2 }, T0)).toEqual({ action: 'authorize' });
    expect(afterOutcome(plan(), { outcome: 'redeemed' }, T0)).toEqual({ action: 'authorize' });
  });
});

describe('a run that may follow a lost one', () => {
  it('is a retried attempt, or a local run that starts at or after it stopped being fresh', () => {
    expect(mayFollowLostRun({ attempt: 1, startedAt: T0 })).toBe(false);
    expect(mayFollowLostRun({ attempt: 2, startedAt: T0 })).toBe(true);
    expect(mayFollowLostRun({ attempt: 1, startedAt: T0, freshUntil: T0 + 1 })).toBe(false);
    expect(mayFollowLostRun({ attempt: 1, startedAt: T0, freshUntil: T0 })).toBe(true);
  });

  it('before the next poll was due, the lost run never sent it: go on at the exact pace', () => {
    const p = plan({ intervalSeconds: 6, notBefore: T0 + 6_000 });
    expect(resumeAfterLostRun(p, T0 + 4_000)).toEqual({ action: 'resume', plan: { ...p, answerLost: true } });
  });

  it('after it was due, one answer may be unknown: assume slow_down from now, and hand that back', () => {
    const p = plan({ intervalSeconds: 6, notBefore: T0 + 6_000 });
    expect(resumeAfterLostRun(p, T0 + 6_000)).toEqual({
      action: 'hand-back',
      plan: { ...p, intervalSeconds: 11, notBefore: T0 + 17_000, answerLost: true },
    });
  });
});

describe('where the waits happen', () => {
  it('from lean-history on, the polls of an authorization are one activity; before, one each', () => {
    const fast = plan({ intervalSeconds: 31 });
    expect(pollsInOneActivity(fast, { local: true, rules: CURRENT_RULES })).toBe(true);
    const lean = legacyRules({ lean: true }).rules;
    expect(pollsInOneActivity(fast, { local: false, rules: lean })).toBe(true);
    expect(pollsInOneActivity(plan({ intervalSeconds: 30 }), { local: true, rules: lean })).toBe(true);
    expect(pollsInOneActivity(fast, { local: true, rules: lean })).toBe(false);
    expect(pollsInOneActivity(plan(), { local: false, rules: legacyRules().rules })).toBe(false);
  });

  it('an activity waits up to its limit; longer is a durable timer; fast mode waits out a pace change with a timer', () => {
    const rules = CURRENT_RULES;
    expect(waitPlace(120_000, { local: false, rules })).toBe('inline');
    expect(waitPlace(120_001, { local: false, rules })).toBe('timer');
    expect(waitPlace(6_000, { local: false, report: true, rules })).toBe('inline');
    expect(waitPlace(30_000, { local: true, rules })).toBe('inline');
    expect(waitPlace(30_001, { local: true, rules })).toBe('timer');
    expect(waitPlace(6_000, { local: true, report: true, rules })).toBe('timer');
  });

  it('before lean-history: timers in standard mode; fast mode asks its patches in order, only as needed', () => {
    const standard = legacyRules();
    expect(waitPlace(2_000, { local: false, rules: standard.rules })).toBe('timer');
    expect(standard.asked).toEqual([]);

    const noInline = legacyRules({ waitInPoll: false });
    expect(waitPlace(40_000, { local: true, rules: noInline.rules })).toBe('timer');
    expect(noInline.asked).toEqual(['fast-wait-in-poll']);

    const short = legacyRules();
    expect(waitPlace(30_000, { local: true, rules: short.rules })).toBe('inline');
    expect(short.asked).toEqual(['fast-wait-in-poll']);

    const long = legacyRules();
    expect(waitPlace(31_000, { local: true, rules: long.rules })).toBe('timer');
    expect(long.asked).toEqual(['fast-wait-in-poll', 'fast-long-wait-timer']);

    const beforeLongTimer = legacyRules({ longTimer: false });
    expect(waitPlace(31_000, { local: true, rules: beforeLongTimer.rules })).toBe('inline');
  });
});

describe('a poll step', () => {
  it('a loop may run to the deadline, is retried soon (it keeps its pace) and heartbeats on a short timeout', () => {
    const p = plan({ deadlineMs: T0 + 50_000, intervalSeconds: 6 });
    expect(pollStep(p, { loop: true, waitMs: 6_000, now: T0 })).toEqual({
      startToCloseMs: 80_000,
      scheduleToCloseMs: 50_000,
      retry: POLL_FAULT_RETRY,
      heartbeatTimeoutMs: POLL_HEARTBEAT_TIMEOUT_MS,
    });
  });

  it('a single poll: its wait plus the slack, and a retry never sooner than the pace', () => {
    const p = plan({ deadlineMs: T0 + 50_000, intervalSeconds: 6 });
    const waiting = pollStep(p, { loop: false, waitMs: 6_000, now: T0 });
    expect(waiting).toMatchObject({ startToCloseMs: 36_000, scheduleToCloseMs: 50_000 });
    expect(waiting.retry).toMatchObject({ initialIntervalMs: 6_000, maximumIntervalMs: 6_000 });
    expect(waiting.heartbeatTimeoutMs).toBe(HEARTBEAT_TIMEOUT_MS);
    const atOnce = pollStep(plan({ intervalSeconds: 0 }), { loop: false, waitMs: 0, now: T0 });
    expect(atOnce.startToCloseMs).toBe(STEP_TIMEOUTS.startToCloseMs);
    expect(atOnce.retry).toMatchObject({ initialIntervalMs: 1_000, maximumIntervalMs: 5_000 });
  });

  it('may poll only before the deadline', () => {
    expect(mayPoll(plan({ deadlineMs: T0 + 1 }), T0)).toBe(true);
    expect(mayPoll(plan({ deadlineMs: T0 }), T0)).toBe(false);
  });

  it('a step that ran out of the window (a timeout, a fault left unretried) means authorize again', () => {
    expect(afterPollFailure({ timedOut: true, retryable: false })).toBe('authorize');
    expect(afterPollFailure({ timedOut: false, retryable: true })).toBe('authorize');
    expect(afterPollFailure({ timedOut: false, retryable: false })).toBe('fail');
  });
});

describe('the authorization budget', () => {
  it('after a 401, the rest of the run’s budget (runs from before the run-wide budget: all of it)', () => {
    expect(authorizationsAfterUnauthenticated(2, 1)).toBe(1);
    expect(authorizationsAfterUnauthenticated(2, 2)).toBe(0);
    expect(authorizationsAfterUnauthenticated(2, 2, false)).toBe(2);
  });

  it('gives up with AUTHORIZATION_EXPIRED, saying how many bc-authorize requests were made', () => {
    expect(giveUp(2)).toEqual({
      code: 'AUTHORIZATION_EXPIRED',
      message: 'No access token within expires_in after 2 bc-authorize request(s)',
    });
  });
});

// ── Whole flows ──────────────────────────────────────────────────────────────────────────────

/** A provider that judges polls as the simulator does (simulator/ciba.ts), on a virtual clock. */
class Provider {
  private lastPollAt: number;
  private intervalMs: number;
  readonly polls: Array<{ at: number; answer: PollAnswer; early: boolean }> = [];
  constructor(
    authorizedAt: number,
    intervalSeconds: number,
    private readonly script: PollAnswer[],
  ) {
    this.lastPollAt = authorizedAt;
    this.intervalMs = intervalSeconds * 1000;
  }
  poll(at: number): PollAnswer {
    const early = at - this.lastPollAt < this.intervalMs;
    this.lastPollAt = at;
    const answer: PollAnswer = early ? 'slow_down' : (this.script.shift() ?? 'token');
    if (answer === 'slow_down') this.intervalMs += SLOW_DOWN_SECONDS * 1000;
    this.polls.push({ at, answer, early });
    return answer;
  }
  get early(): number {
    return this.polls.filter((p) => p.early).length;
  }
}

/** How long a poll's answer takes to come back: a worker that dies meanwhile never hears it. */
const LATENCY_MS = 200;

/**
 * One polling attempt, as activities/token.ts runs it: from `plan`, poll at each plan's time
 * until the policy says stop or the attempt dies at `diesAt` (a poll sent before is answered,
 * but the answer may be lost). `recorded` is what its heartbeats had delivered when it died (a
 * lagging copy: `lagMs` behind).
 */
function attempt(
  provider: Provider,
  start: PollPlan,
  diesAt: number,
  lagMs: number,
): { died: true; recorded: PollPlan } | { died: false; next: Next; plan: PollPlan } {
  let p = start;
  const history: Array<{ at: number; plan: PollPlan }> = [{ at: -Infinity, plan: start }];
  for (;;) {
    if (p.notBefore >= p.deadlineMs) return { died: false, next: { action: 'authorize', plan: p }, plan: p };
    if (p.notBefore >= diesAt) {
      const delivered = history.filter((h) => h.at <= diesAt - lagMs).at(-1)!.plan;
      return { died: true, recorded: delivered };
    }
    const at = p.notBefore;
    const answer = provider.poll(at);
    if (at + LATENCY_MS > diesAt) {
      // Sent, and answered, but nobody heard the answer.
      const delivered = history.filter((h) => h.at <= diesAt - lagMs).at(-1)!.plan;
      return { died: true, recorded: delivered };
    }
    const next = afterAnswer(p, answer, at + LATENCY_MS);
    if (next.action !== 'poll' || next.report) return { died: false, next, plan: p };
    p = next.plan;
    history.push({ at: at + LATENCY_MS, plan: p });
  }
}

/** The standard flow of one authorization, with the worker killed at `killAt`; returns the token time. */
function flowWithKill(opts: {
  intervalSeconds: number;
  script: PollAnswer[];
  killAt: number;
  /** From the kill until the successor attempt starts (heartbeat timeout + retry backoff). */
  takeoverMs: number;
  lagMs: number;
}) {
  const provider = new Provider(T0, opts.intervalSeconds, [...opts.script]);
  let next: Next = afterAuthorization(
    { expiresIn: 300, interval: opts.intervalSeconds, answeredAt: T0 },
    { now: T0, requestedAt: T0 },
  );
  let diesAt = opts.killAt;
  for (let activities = 0; next.action === 'poll' && activities < 20; activities++) {
    const run = attempt(provider, next.plan, diesAt, opts.lagMs);
    if (run.died) {
      // The successor starts later, reads the lagging plan and asks the policy.
      const startedAt = diesAt + opts.takeoverMs;
      const resumed = resumeAfterLostRun(run.recorded, startedAt);
      diesAt = Infinity;
      if (resumed.action === 'hand-back') {
        next = afterOutcome(
          resumed.plan,
          {
            outcome: 'pending',
            intervalSeconds: resumed.plan.intervalSeconds,
            nextPollAt: resumed.plan.notBefore,
          },
          startedAt,
        );
        continue;
      }
      next = { action: 'poll', plan: resumed.plan };
      continue;
    }
    next = run.next;
  }
  return { provider, next };
}

describe('whole flows on a virtual clock', () => {
  /**
   * The polling loop (activities/token.ts) against the provider, on a virtual clock, with the
   * provider's answers scripted: `lost`, the provider handled the poll and answered `slow_down`
   * but the answer never came back (a headers timeout); `refused`, the connect was refused and
   * the provider saw nothing.
   */
  async function loopFlow(intervalSeconds: number, answers: Array<PollAnswer | 'lost' | 'refused'>) {
    const script = answers.filter((a) => a !== 'refused').map((a) => (a === 'lost' ? 'slow_down' : a));
    const provider = new Provider(T0, intervalSeconds, script);
    let clock = T0;
    let sent = 0;
    const failure = (code: 'TIMEOUT' | 'NETWORK_ERROR', errorCode: string) =>
      netcheckFailure(code, 'POST /oauth2/token failed without an answer', {
        details: { endpoint: '/oauth2/token', errorCode },
      });
    const ports: PollLoopPorts = {
      poll: (): Promise<PollOutcome> => {
        const scripted = answers[sent++];
        if (scripted === 'refused') return Promise.reject(failure('NETWORK_ERROR', 'ECONNREFUSED'));
        const answer = provider.poll(clock);
        if (scripted === 'lost') {
          clock += 1_000; // the client gave up waiting for the answer
          return Promise.reject(failure('TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT'));
        }
        clock += LATENCY_MS;
        return Promise.resolve(
          answer === 'token' ? { outcome: 'token', sealedToken: 's' } : { outcome: answer },
        );
      },
      waitUntil: (at) => {
        clock = Math.max(clock, at);
        return Promise.resolve();
      },
      record: () => undefined,
      now: () => clock,
    };
    let next: Next = afterAuthorization(
      { expiresIn: 300, interval: intervalSeconds, answeredAt: T0 },
      { now: T0, requestedAt: T0 },
    );
    const loops: PollOutcome[] = [];
    while (next.action === 'poll' && loops.length < 10) {
      const outcome = await runPollLoop({ plan: next.plan, polls: 0 }, ports);
      loops.push(outcome);
      next = afterOutcome(next.plan, outcome, clock);
    }
    return { provider, next, loops };
  }

  it('a poll whose answer is lost after it was sent: the next one assumes slow_down and is not early', async () => {
    const { provider, next, loops } = await loopFlow(2, ['pending', 'lost', 'pending', 'token']);
    expect(next.action).toBe('use-token');
    expect(provider.early).toBe(0);
    expect(provider.polls.map((p) => p.answer)).toEqual(['pending', 'slow_down', 'pending', 'token']);
    // The loop handed the assumed pace back (the caller records it before the next poll).
    expect(loops[0]).toMatchObject({
      outcome: 'pending',
      intervalSeconds: 2 + SLOW_DOWN_SECONDS,
      answerLost: true,
    });
  });

  it('a refused connect sent nothing: the pace stays, in the same loop', async () => {
    const { provider, next, loops } = await loopFlow(2, ['pending', 'refused', 'token']);
    expect(next.action).toBe('use-token');
    expect(provider.early).toBe(0);
    expect(loops).toHaveLength(1);
    expect(loops[0]).toMatchObject({ outcome: 'token' });
  });

  it('without a crash: one pending, then the token, one interval apart, never early', () => {
    const { provider, next } = flowWithKill({
      intervalSeconds: 6,
      script: ['pending', 'token'],
      killAt: Infinity,
      takeoverMs: 0,
      lagMs: 0,
    });
    expect(next.action).toBe('use-token');
    expect(provider.polls.map((p) => p.at - T0)).toEqual([6_000, 12_200]);
    expect(provider.early).toBe(0);
  });

  it('a provider slow_down is kept for every later poll', () => {
    const { provider, next } = flowWithKill({
      intervalSeconds: 1,
      script: ['slow_down', 'pending', 'token'],
      killAt: Infinity,
      takeoverMs: 0,
      lagMs: 0,
    });
    expect(next.action).toBe('use-token');
    expect(provider.polls.map((p) => p.answer)).toEqual(['slow_down', 'pending', 'token']);
    expect(provider.early).toBe(0);
  });

  it('a worker killed early in the wait: the successor resumes at the exact pace, no penalty', () => {
    // The case: interval 6 s, one pending poll, killed 1.5 s after the answer; the
    // successor starts at heartbeat timeout + retry backoff after the kill.
    const takeoverMs = POLL_HEARTBEAT_TIMEOUT_MS + POLL_FAULT_RETRY.initialIntervalMs;
    const { provider, next } = flowWithKill({
      intervalSeconds: 6,
      script: ['pending', 'token'],
      killAt: T0 + 1_500,
      takeoverMs,
      lagMs: 2_400,
    });
    expect(next.action).toBe('use-token');
    expect(provider.polls.map((p) => p.at - T0)).toEqual([6_000, 12_200]);
    expect(provider.early).toBe(0);
  });

  it('killed at any moment, with any heartbeat lag and take-over time, after any answers: never an early poll', () => {
    const scripts: PollAnswer[][] = [
      ['pending', 'pending', 'token'],
      ['slow_down', 'pending', 'token'],
      ['pending', 'slow_down', 'pending', 'token'],
      ['slow_down', 'slow_down', 'token'],
    ];
    let cases = 0;
    for (const script of scripts)
      for (const intervalSeconds of [0, 1, 6])
        for (let killAfter = 0; killAfter <= 30_000; killAfter += 100)
          for (const takeoverMs of [1_000, 4_000, 9_000])
            // Heartbeat details lag up to 80 % of the timeout; 8 s: an RPC held up as well.
            for (const lagMs of [0, 2_400, 8_000]) {
              const { provider, next } = flowWithKill({
                intervalSeconds,
                script,
                killAt: T0 + killAfter,
                takeoverMs,
                lagMs,
              });
              cases++;
              expect(
                provider.early,
                JSON.stringify({ script, intervalSeconds, killAfter, takeoverMs, lagMs }),
              ).toBe(0);
              expect(next.action).toBe('use-token');
            }
    expect(cases).toBe(4 * 3 * 301 * 3 * 3);
  });
});
