/** `pollToken`: POST {base}/oauth2/token with the CIBA grant; waiting states are values. */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import {
  afterAnswer,
  afterFault,
  isRetried,
  mayFollowLostRun,
  mayPoll,
  resumeAfterLostRun,
  type PollPlan,
} from '../domain/ciba-flow.js';
import {
  maskMsisdn,
  netcheckFailure,
  type PollOutcome,
  type PollProgress,
  type PollTokenInput,
} from '../domain/index.js';
import {
  activityAttempt,
  activityHeartbeat,
  activityHeartbeatDetails,
  activityLog,
  activitySignal,
} from './context.js';
import type { VonageClient } from './client.js';
import { classifyHttpError, numberVariants, parseProviderError, protocolError } from './errors.js';
import { cancellationFailure, mayHaveReachedProvider } from './http.js';
import {
  requireCorrelationId,
  requireMsisdn,
  requireNonEmpty,
  requireObject,
  requireOperation,
  requireWaitMs,
} from './input.js';
import { logAnswer } from './log.js';
import { describeIssues, TokenResponse } from './responses.js';

export const TOKEN_PATH = '/oauth2/token';
export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';

/** CIBA Core §11 polling errors that are states of the flow, not failures. */
const WAITING_STATES: Record<string, PollOutcome> = {
  authorization_pending: { outcome: 'pending' },
  slow_down: { outcome: 'slow_down' },
  expired_token: { outcome: 'expired' },
};

/** The CIBA interval, waited inside the activity; the activity's cancellation ends it. */
async function waitBeforePoll(ms: number): Promise<void> {
  const signal = activitySignal();
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw cancellationFailure(signal, TOKEN_PATH);
    throw err;
  }
}

/** Where a polling loop stands: its plan (domain/ciba-flow.ts) and the polls answered so far. */
export interface PollLoopState {
  plan: PollPlan;
  polls: number;
}

/** What a polling loop needs from the process it runs in. */
export interface PollLoopPorts {
  /** One token request; `retry`: an earlier request's answer may have been lost. */
  poll(retry: boolean): Promise<PollOutcome>;
  /** Resolves at `at` (ms since the epoch) or at once; rejects when the run is cancelled. */
  waitUntil(at: number): Promise<void>;
  /** Records where the loop stands (heartbeat details: a retry goes on from them). */
  record(state: PollLoopState): void;
  now(): number;
  /** The longest wait before a poll; a longer one is handed back (the workflow's timer). */
  maxWaitMs?: number;
}

/** A loop's progress as its outcome reports it. */
function progressOf(state: PollLoopState, withNext: boolean): PollProgress {
  return {
    polls: state.polls,
    intervalSeconds: state.plan.intervalSeconds,
    ...(withNext ? { nextPollAt: state.plan.notBefore } : {}),
    ...(withNext && state.plan.answerLost ? { answerLost: true } : {}),
  };
}

/**
 * The polls of one authorization, by the CIBA policy: wait until the plan's next poll, poll,
 * and go on while the answer is `authorization_pending`. It returns a final answer, a
 * `slow_down` (the pace changed: the caller records it before the next poll), or `pending` with
 * the next poll's time when that is at or past the deadline, or further off than `maxWaitMs`.
 * Transient faults are retried here at the pace (the policy's afterFault). Shared by the
 * `pollToken` activity and bulk chunks (activities/bulk.ts).
 */
export async function runPollLoop(start: PollLoopState, ports: PollLoopPorts): Promise<PollOutcome> {
  let state = start;
  /** Transient faults in a row since the last answer. */
  let faults = 0;
  const handBack = (): PollOutcome => ({ outcome: 'pending', ...progressOf(state, true) });
  for (;;) {
    const { plan } = state;
    if (plan.notBefore >= plan.deadlineMs) return handBack();
    if (plan.notBefore - ports.now() > (ports.maxWaitMs ?? Infinity)) return handBack();
    await ports.waitUntil(plan.notBefore);
    const now = ports.now();
    // A wait that ended late (a stalled process) past the deadline: the poll that could not go is due now.
    if (!mayPoll(plan, now)) {
      state = { ...state, plan: { ...plan, notBefore: now } };
      return handBack();
    }
    let answer: PollOutcome;
    try {
      answer = await ports.poll(plan.answerLost === true || faults > 0);
    } catch (err) {
      if (!isRetried(err)) throw err; // a cancellation, a final answer
      faults++;
      // Our failures carry Retry-After in ms (domain/errors.ts).
      const hinted: unknown = err instanceof ApplicationFailure ? err.nextRetryDelay : undefined;
      const next = afterFault(
        plan,
        {
          consecutive: faults,
          ...(typeof hinted === 'number' ? { retryAfterMs: hinted } : {}),
          ...(mayHaveReachedProvider(err) ? { answerMayBeLost: true } : {}),
        },
        ports.now(), // the failed request went out no later
      );
      if (next.action !== 'poll' || next.report) {
        // Past the window (authorize again), or a pace assumed changed: the caller records it first.
        if (next.action !== 'use-token' && next.plan) state = { ...state, plan: next.plan };
        if (next.action === 'poll') ports.record(state);
        return handBack();
      }
      state = { ...state, plan: next.plan };
      ports.record(state);
      continue;
    }
    faults = 0;
    state = { ...state, polls: state.polls + 1 };
    const next = afterAnswer(plan, answer.outcome, ports.now()); // the request went out no later
    if (next.action === 'poll' && !next.report) {
      state = { ...state, plan: next.plan };
      ports.record(state); // a retry must not poll sooner, nor at an older pace
      continue;
    }
    if (next.action !== 'use-token' && next.plan) state = { ...state, plan: next.plan };
    const waiting = answer.outcome === 'pending' || answer.outcome === 'slow_down';
    if (waiting) ports.record(state);
    return { ...answer, ...progressOf(state, waiting) };
  }
}

/** What a polling loop heartbeats: enough for a retry to go on where the attempt stopped. */
interface PollLoopDetails {
  polls: number;
  intervalSeconds: number;
  /** When the next poll may go (ms since the epoch); absent in details of older attempts. */
  nextPollAt?: number;
}

/**
 * The newest state a run that may follow a lost one can read: the lost attempt's heartbeat
 * details when there are any (never a slower pace than asked: slow_down only adds), else what
 * the workflow handed over. Details without `nextPollAt` (an older attempt) say nothing of when
 * the next poll was due.
 */
function recordedState(details: unknown, given: PollLoopState): PollLoopState {
  const d = details as Partial<PollLoopDetails> | undefined;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (!d || typeof d !== 'object' || !ok(d.polls) || !ok(d.intervalSeconds)) return given;
  return {
    polls: d.polls,
    plan: {
      ...given.plan,
      intervalSeconds: Math.max(d.intervalSeconds, given.plan.intervalSeconds),
      notBefore: ok(d.nextPollAt) ? d.nextPollAt : 0,
    },
  };
}

function requireKeepPolling(value: unknown): PollTokenInput['keepPolling'] {
  if (value === undefined || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const fine = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  const optional = (n: unknown) => n === undefined || fine(n);
  if (
    typeof value !== 'object' ||
    !fine(v.deadlineMs) ||
    !fine(v.intervalSeconds) ||
    !optional(v.notBefore) ||
    !optional(v.maxWaitMs) ||
    !optional(v.freshUntil) ||
    !(v.answerLost === undefined || typeof v.answerLost === 'boolean')
  ) {
    throw netcheckFailure(
      'INVALID_INPUT',
      'pollToken: keepPolling must be { deadlineMs, intervalSeconds } with numbers ≥ 0 (and optional notBefore, maxWaitMs, freshUntil ≥ 0, answerLost true or false)',
    );
  }
  return {
    deadlineMs: v.deadlineMs as number,
    intervalSeconds: v.intervalSeconds as number,
    ...(v.notBefore !== undefined ? { notBefore: v.notBefore as number } : {}),
    ...(v.maxWaitMs !== undefined ? { maxWaitMs: v.maxWaitMs as number } : {}),
    ...(v.freshUntil !== undefined ? { freshUntil: v.freshUntil as number } : {}),
    ...(v.answerLost === true ? { answerLost: true } : {}),
  };
}

export function makePollToken(client: VonageClient) {
  const pollOnce = makePollOnce(client);
  /**
   * `options.retry`: this poll repeats one whose answer was lost (default: a retried activity
   * attempt). Bulk mode retries inside one attempt and says so itself.
   */
  return async function pollToken(
    input: PollTokenInput,
    options: { retry?: boolean } = {},
  ): Promise<PollOutcome> {
    requireObject('pollToken', input);
    const keep = requireKeepPolling(input.keepPolling);
    if (!keep) return pollOnce(input, options);
    const waitMs = requireWaitMs('pollToken', input.waitMs);
    requireNonEmpty('pollToken', 'authReqId', input.authReqId);
    const correlationId = requireCorrelationId('pollToken', input.correlationId);
    requireOperation('pollToken', input.operation);
    requireMsisdn('pollToken', input.msisdn);
    // The polling loop: one activity for every poll until a final answer, a pace change or the
    // deadline. It heartbeats all along (withHeartbeat, activities/index.ts), repeating the
    // state recorded here after each poll: a retry goes on from it.
    const now = Date.now();
    const lost = mayFollowLostRun({
      attempt: activityAttempt(),
      startedAt: now,
      freshUntil: keep.freshUntil,
    });
    let state: PollLoopState = {
      polls: 0,
      plan: {
        deadlineMs: keep.deadlineMs,
        intervalSeconds: keep.intervalSeconds,
        // An older workflow says how long to wait, which a lost run cannot count from.
        notBefore: keep.notBefore ?? (lost ? 0 : now + waitMs),
        ...(keep.answerLost ? { answerLost: true } : {}),
      },
    };
    const record = (s: PollLoopState) =>
      activityHeartbeat({
        polls: s.polls,
        intervalSeconds: s.plan.intervalSeconds,
        nextPollAt: s.plan.notBefore,
      } satisfies PollLoopDetails);
    if (lost) {
      // The run before this one ended without handing back its state (its worker died, or it
      // failed): the policy decides whether its pace is still known (domain/ciba-flow.ts, rule 3).
      state = recordedState(activityHeartbeatDetails(), state);
      const resumed = resumeAfterLostRun(state.plan, now);
      state = { ...state, plan: resumed.plan };
      record(state);
      if (resumed.action === 'hand-back') {
        activityLog.warn('a polling attempt may have lost an answer; the next poll assumes slow_down', {
          correlationId,
        });
        return { outcome: 'pending', ...progressOf(state, true) };
      }
    }
    const once: PollTokenInput = { ...input, waitMs: 0, keepPolling: undefined };
    return runPollLoop(state, {
      poll: (retry) => pollOnce(once, { retry }),
      waitUntil: async (at) => {
        const ms = at - Date.now();
        if (ms > 0) await waitBeforePoll(ms);
      },
      record,
      now: Date.now,
      ...(keep.maxWaitMs !== undefined ? { maxWaitMs: keep.maxWaitMs } : {}),
    });
  };
}

function makePollOnce(client: VonageClient) {
  return async function pollOnce(
    input: PollTokenInput,
    options: { retry?: boolean } = {},
  ): Promise<PollOutcome> {
    requireObject('pollToken', input);
    const authReqId = requireNonEmpty('pollToken', 'authReqId', input.authReqId);
    const correlationId = requireCorrelationId('pollToken', input.correlationId);
    const operation = requireOperation('pollToken', input.operation);
    const msisdn = requireMsisdn('pollToken', input.msisdn);
    const waitMs = requireWaitMs('pollToken', input.waitMs);

    if (waitMs > 0 && activityAttempt() === 1) await waitBeforePoll(waitMs);
    const started = Date.now();
    const { endpoint, answer, secrets } = await client.postFormWithAppJwt(
      'token',
      TOKEN_PATH,
      { grant_type: CIBA_GRANT_TYPE, auth_req_id: authReqId },
      correlationId,
    );
    logAnswer(endpoint, answer.status, { msisdn, correlationId, durationMs: Date.now() - started });

    if (answer.status === 200) {
      const parsed = TokenResponse.safeParse(answer.body);
      if (!parsed.success) throw protocolError(endpoint, answer.status, describeIssues(parsed.error));
      const sealedToken = client.sealer.sealToken(parsed.data.access_token, {
        operation,
        msisdn,
        correlationId,
      });
      const outcome: PollOutcome = { outcome: 'token', sealedToken };
      if (parsed.data.expires_in !== undefined && parsed.data.expires_in !== null) {
        outcome.expiresIn = parsed.data.expires_in;
      }
      return outcome;
    }
    if (answer.status >= 400 && answer.status < 500) {
      const code = parseProviderError(answer.status, answer.body).providerCode?.toLowerCase();
      const state = code === undefined ? undefined : WAITING_STATES[code];
      if (state) return { ...state };
      // A retry that finds its auth_req_id redeemed: the lost earlier attempt got the token.
      if (code === 'invalid_grant' && (options.retry ?? activityAttempt() > 1)) {
        activityLog.warn('auth_req_id already redeemed by an earlier attempt; a new authorization follows', {
          msisdn: maskMsisdn(msisdn),
          correlationId,
        });
        return { outcome: 'redeemed' };
      }
    }
    throw classifyHttpError(endpoint, answer, [...secrets, authReqId, ...numberVariants(msisdn)]);
  };
}
