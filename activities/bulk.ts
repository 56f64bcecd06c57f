/**
 * `bulkChunk`: bulk mode's one long-running activity. It runs the flows of a chunk of checks
 * concurrently in this process, with the same activity functions a per-check workflow calls one
 * by one, and the same CIBA policy (domain/ciba-flow.ts), whose polling loop it shares with the
 * `pollToken` activity (activities/token.ts):
 *
 *   bc-authorize ─► wait `interval` ─► token poll ─┬─ pending:   wait max(interval, 1 s), poll again
 *        ▲                                         ├─ slow_down: interval += 5 s, wait, poll again
 *        └── expired / redeemed / past expires_in ─┘─ token ─► CAMARA call (401: authorize again, once)
 *   Identity Insights: one request.
 *
 * - Never polls after the `expires_in` deadline (counted from the provider's answer, less a
 *   margin); at most `maxAuthorizations` bc-authorize requests per check.
 * - Retries each request in process as Temporal would retry the activity, by the same retry
 *   policies: the error taxonomy (domain/errors.ts) decides what is retried, `Retry-After` sets
 *   the next attempt, and a poll's retries keep its pace and end with its authorization's window.
 * - Paces its own requests to `ratePerSecond` (the batch's rateLimit shared by the chunks it
 *   runs at once) with the worker's sliding-window pacer: no bursts; started flows go first.
 * - Heartbeats every outcome so far. A retried attempt reads the last recorded heartbeat and
 *   runs only the checks without an outcome: a worker dying mid-chunk repeats only the checks
 *   that were in flight (or whose outcome it had not reported yet), never a recorded one.
 * - Access tokens, auth_req_ids and JWTs stay in this process: nothing of them is returned or
 *   heartbeated. Outcomes are CheckResults (which hold no number) or errors.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { BulkChunkInput, BulkChunkProgress, BulkCheck, BulkOutcome } from '../domain/bulk.js';
import { errorCodeOf, failsRun, netcheckFailure, type ErrorCode } from '../domain/errors.js';
import { CAMARA_OPERATION_NAMES, CAMARA_OPERATIONS, type CamaraOperation } from '../domain/operations.js';
import type {
  Authorization,
  AuthorizeInput,
  CheckCallInput,
  CheckData,
  CheckResult,
  CheckTimestamps,
  InsightsCallInput,
  InsightsOutcome,
  PollOutcome,
  PollTokenInput,
} from '../domain/types.js';
import { validateCheckRequest, type ValidCheck } from '../domain/validate.js';
import {
  activityAttempt,
  activityCancelRequested,
  activityHeartbeat,
  activityHeartbeatDetails,
  activityLog,
  activitySignal,
  withRequestPacer,
} from './context.js';
import { createPacer, PACING_MARGIN_MS } from './http.js';
import {
  afterAuthorization,
  afterOutcome,
  authorizationsAfterUnauthenticated,
  AUTHORIZE_STEP,
  backoffMs,
  DEFAULT_MAX_AUTHORIZATIONS,
  giveUp,
  isRetried,
  STEP_RETRY,
  STEP_TIMEOUTS,
  type Next,
  type RetryData,
} from '../domain/ciba-flow.js';
import { runPollLoop } from './token.js';

/** The single-request activity functions a chunk's flows are made of (createActivities's). */
export interface BulkSteps {
  authorize: (input: AuthorizeInput) => Promise<Authorization>;
  pollToken: (input: PollTokenInput, options?: { retry?: boolean }) => Promise<PollOutcome>;
  checkSimSwap: (input: CheckCallInput) => Promise<CheckData>;
  retrieveSimSwapDate: (input: CheckCallInput) => Promise<CheckData>;
  getDeviceConnectivity: (input: CheckCallInput) => Promise<CheckData>;
  getDeviceRoaming: (input: CheckCallInput) => Promise<CheckData>;
  identityInsights: (input: InsightsCallInput) => Promise<InsightsOutcome>;
}

/**
 * How often the chunk heartbeats its outcomes so far (the SDK sends at most one per 80 % of the
 * heartbeat timeout, the latest): once a second keeps encoding cheap whatever the chunk's size.
 */
const HEARTBEAT_EVERY_MS = 1_000;

/** A step's retry policy (domain/ciba-flow.ts, as Temporal applies it to a check's steps), in process. */
interface Retry {
  policy: RetryData;
  /** No attempt starts at or after this time (ms since the epoch): the step's schedule-to-close. */
  deadline: number;
}

const iso = (ms: number = Date.now()) => new Date(ms).toISOString();

function messageOf(err: unknown, code: ErrorCode): string {
  return err instanceof Error ? err.message : code;
}

/** The problem with a chunk input, for an INVALID_INPUT failure (a bug: the workflow builds it). */
function inputProblem(input: BulkChunkInput): string | undefined {
  if (!input || typeof input !== 'object') return 'the chunk input is missing';
  if (!Array.isArray(input.checks)) return 'checks must be an array';
  if (!Number.isInteger(input.concurrency) || input.concurrency < 1)
    return 'concurrency must be a whole number ≥ 1';
  if (input.ratePerSecond !== undefined && !(input.ratePerSecond > 0)) return 'ratePerSecond must be above 0';
  return undefined;
}

/** Outcomes a previous attempt recorded, keyed by position (malformed or out-of-range entries are ignored). */
function recordedOutcomes(details: unknown, size: number): Map<number, BulkOutcome> {
  const recorded = new Map<number, BulkOutcome>();
  const outcomes = (details as Partial<BulkChunkProgress> | undefined)?.outcomes;
  if (!Array.isArray(outcomes)) return recorded;
  for (const outcome of outcomes) {
    const at = (outcome as Partial<BulkOutcome> | undefined)?.at;
    if (Number.isInteger(at) && at! >= 0 && at! < size && !recorded.has(at!)) recorded.set(at!, outcome);
  }
  return recorded;
}

export function makeBulkChunk(steps: BulkSteps) {
  // Each CAMARA operation's step, by the operation table (domain/operations.ts).
  const camaraCalls = Object.fromEntries(
    CAMARA_OPERATION_NAMES.map((operation) => [operation, steps[CAMARA_OPERATIONS[operation].activity]]),
  ) as Record<CamaraOperation, (input: CheckCallInput) => Promise<CheckData>>;

  return async function bulkChunk(input: BulkChunkInput): Promise<BulkChunkProgress> {
    const problem = inputProblem(input);
    if (problem) throw netcheckFailure('INVALID_INPUT', `Invalid bulk chunk input: ${problem}`);
    const { checks } = input;
    const signal = activitySignal();
    // Every flow of the chunk listens on the activity's one signal (its waits, its pacer turn, its
    // HTTP request): up to a few listeners per flow is expected, not a leak.
    if (signal) setMaxListeners(Math.max(10, input.concurrency * 4), signal);
    const pacer =
      input.ratePerSecond === undefined
        ? undefined
        : createPacer(input.ratePerSecond, Date.now, { untilAnswered: true });
    const maxAuthorizations = input.maxAuthorizations ?? DEFAULT_MAX_AUTHORIZATIONS;

    const recorded = recordedOutcomes(activityHeartbeatDetails(), checks.length);
    const outcomes: BulkOutcome[] = [...recorded.values()];
    const todo = checks.map((_, at) => at).filter((at) => !recorded.has(at));
    // The slot's previous chunk (or this chunk's previous attempt) may have sent requests within
    // the last window: the first request here waits a whole window, so the slot never exceeds its share.
    const warmUp =
      pacer && (input.slotUsed || activityAttempt() > 1)
        ? sleep(
            Math.max(1000, 1000 / input.ratePerSecond!) + PACING_MARGIN_MS,
            undefined,
            signal ? { signal } : {},
          )
        : undefined;
    warmUp?.catch(() => undefined); // awaited (and its abort seen) by the first request
    const beat = () => activityHeartbeat({ outcomes } satisfies BulkChunkProgress);
    beat();
    const ticker = setInterval(beat, HEARTBEAT_EVERY_MS);

    /**
     * One request, paced: the HTTP client serves started flows' polls and calls before new
     * bc-authorize requests, where the request is sent (after the JWT is minted).
     */
    async function paced<T>(send: () => Promise<T>): Promise<T> {
      if (warmUp) await warmUp;
      return pacer ? withRequestPacer(pacer, send) : send();
    }

    /** One request, retried as the step's policy says (a 429's Retry-After replaces the backoff). */
    async function attempt<T>(retry: Retry, send: () => Promise<T>): Promise<T> {
      for (let n = 1; ; n++) {
        try {
          return await paced(send);
        } catch (err) {
          if (signal?.aborted || !isRetried(err) || n >= retry.policy.maximumAttempts) throw err;
          const hinted: unknown = err instanceof ApplicationFailure ? err.nextRetryDelay : undefined;
          const delay = typeof hinted === 'number' ? hinted : backoffMs(retry.policy, n);
          if (Date.now() + delay >= retry.deadline) throw err;
          await sleep(delay, undefined, signal ? { signal } : {});
        }
      }
    }

    const stepRetry = (policy: RetryData = STEP_RETRY): Retry => ({
      policy,
      deadline: Date.now() + STEP_TIMEOUTS.scheduleToCloseMs,
    });
    const waitUntil = async (at: number): Promise<void> => {
      const ms = at - Date.now();
      if (ms > 0) await sleep(ms, undefined, signal ? { signal } : {});
    };

    async function runFlow(check: BulkCheck, at: number): Promise<BulkOutcome> {
      const timestamps: Partial<CheckTimestamps> & { started: string } = { started: iso() };
      let valid: ValidCheck;
      try {
        valid = validateCheckRequest(check.request);
      } catch (err) {
        return { at, error: { code: 'INVALID_INPUT', message: messageOf(err, 'INVALID_INPUT') } };
      }
      const correlationId = randomUUID();
      const count = { polls: 0, authorizations: 0 };
      /** The operator profile and API version the authorization reported (CheckResult). */
      let answeredBy: { profile?: Authorization['profile']; apiVersion?: string } = {};
      const operation = valid.operation as CamaraOperation; // the CAMARA road only sees CAMARA operations

      /** The CIBA flow by the policy of domain/ciba-flow.ts, as the check workflow runs it. */
      async function obtainToken(authorizationsLeft: number): Promise<string> {
        for (let left = authorizationsLeft; left > 0; left--) {
          const requestedAt = Date.now();
          const auth = await attempt(stepRetry(AUTHORIZE_STEP.retry), () =>
            steps.authorize({ msisdn: valid.msisdn, operation, purpose: valid.purpose, correlationId }),
          );
          count.authorizations++;
          timestamps.authorized ??= iso();
          if (auth.profile !== undefined) {
            answeredBy = {
              profile: auth.profile,
              ...(auth.apiVersion ? { apiVersion: auth.apiVersion } : {}),
            };
          }
          let next: Next = afterAuthorization(auth, {
            now: Date.now(),
            requestedAt,
            skipFirstWait: input.skipFirstWait,
          });
          while (next.action === 'poll') {
            const { plan } = next;
            // The polls of the plan, waited here; it returns on a final answer, a pace change or
            // the window's end (a transient fault is retried inside, at the pace).
            const outcome = await runPollLoop(
              { plan, polls: 0 },
              {
                poll: (retry) =>
                  paced(() =>
                    steps.pollToken(
                      { authReqId: auth.authReqId, correlationId, operation, msisdn: valid.msisdn },
                      { retry },
                    ),
                  ),
                waitUntil,
                record: () => undefined, // a chunk's retry starts its flows in flight afresh
                now: Date.now,
              },
            );
            count.polls += outcome.polls ?? 1;
            next = afterOutcome(plan, outcome, Date.now());
            if (next.action === 'use-token' && outcome.outcome === 'token') {
              timestamps.tokenIssued = iso();
              return outcome.sealedToken;
            }
          }
        }
        const end = giveUp(count.authorizations);
        throw netcheckFailure(end.code, end.message);
      }

      const callApi = (sealedToken: string) =>
        attempt(stepRetry(), () =>
          camaraCalls[operation]({
            sealedToken,
            msisdn: valid.msisdn,
            correlationId,
            operation,
            ...(valid.maxAge !== undefined ? { maxAge: valid.maxAge } : {}),
          }),
        );

      const base = () => ({
        api: valid.api,
        ...answeredBy,
        correlationId,
        polls: count.polls,
        authorizations: count.authorizations,
        timestamps: { ...timestamps, finished: iso() },
      });
      try {
        if (valid.api === 'identity-insights') {
          const answer = await attempt(stepRetry(), () =>
            steps.identityInsights({
              msisdn: valid.msisdn,
              operation: valid.operation,
              correlationId,
              ...(valid.purpose !== undefined ? { purpose: valid.purpose } : {}),
              ...(valid.maxAge !== undefined ? { maxAge: valid.maxAge } : {}),
            }),
          );
          timestamps.checked = iso();
          const result = {
            operation: valid.operation,
            status: 'ok',
            data: answer.data,
            ...(answer.requestId !== undefined ? { requestId: answer.requestId } : {}),
            ...(answer.missing?.length ? { missing: answer.missing } : {}),
            ...(answer.missingCodes ? { missingCodes: answer.missingCodes } : {}),
            ...base(),
          } as CheckResult;
          return { at, result };
        }
        let data: CheckData;
        try {
          data = await callApi(await obtainToken(maxAuthorizations));
        } catch (err) {
          // A CAMARA 401: authorize again, once, with what is left of the check's budget.
          const left = authorizationsAfterUnauthenticated(maxAuthorizations, count.authorizations);
          if (errorCodeOf(err) !== 'UNAUTHENTICATED' || left <= 0 || signal?.aborted) throw err;
          data = await callApi(await obtainToken(left));
        }
        timestamps.checked = iso();
        return { at, result: { operation: valid.operation, status: 'ok', data, ...base() } as CheckResult };
      } catch (err) {
        if (signal?.aborted) throw err;
        // As a per-check batch records them: a final answer is a failed result; what would fail
        // a check's run (configuration, input, an unknown error) is a failed record without one.
        const code = errorCodeOf(err);
        if (code === undefined || failsRun(code)) {
          return { at, error: { code: code ?? 'INTERNAL', message: messageOf(err, code ?? 'INTERNAL') } };
        }
        const result: CheckResult = {
          operation: valid.operation,
          status: 'failed',
          error: { code, message: messageOf(err, code) },
          ...base(),
        };
        return { at, result };
      }
    }

    let next = 0;
    async function runner(): Promise<void> {
      while (next < todo.length && !signal?.aborted) {
        const at = todo[next++]!;
        try {
          outcomes.push(await runFlow(checks[at]!, at));
        } catch (err) {
          if (signal?.aborted) return; // interrupted: this check stays without an outcome
          throw err;
        }
      }
    }

    try {
      const runners = Array.from({ length: Math.min(input.concurrency, todo.length) }, runner);
      await Promise.all(runners);
    } finally {
      clearInterval(ticker);
    }
    if (signal?.aborted) {
      beat();
      // The batch was cancelled: hand back what is done; the workflow records the rest as cancelled.
      if (activityCancelRequested()) return { outcomes, cancelled: true };
      // A timeout, a shutdown: a retry (on this or another worker) runs the checks still missing.
      throw ApplicationFailure.retryable(
        `bulk chunk ${input.chunk} of batch ${input.batchId} was interrupted with ${checks.length - outcomes.length} of ${checks.length} checks left; a retry runs them`,
        'BULK_CHUNK_INTERRUPTED',
      );
    }
    activityLog.info('bulk chunk done', {
      batchId: input.batchId,
      chunk: input.chunk,
      checks: checks.length,
      resumed: recorded.size,
    });
    return { outcomes };
  };
}
