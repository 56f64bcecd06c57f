/**
 * `bulkChunk`: bulk mode's one long-running activity. It runs the flows of a chunk of checks
 * concurrently in this process, with the same activity functions a per-check workflow calls one
 * by one, and the same CIBA rules as workflows/network-check.ts:
 *
 *   bc-authorize ─► wait `interval` ─► token poll ─┬─ pending:   wait max(interval, 1 s), poll again
 *        ▲                                         ├─ slow_down: interval += 5 s, wait, poll again
 *        └── expired / redeemed / past expires_in ─┘─ token ─► CAMARA call (401: authorize again, once)
 *   Identity Insights: one request.
 *
 * - Never polls after the `expires_in` deadline (counted from the provider's answer, less a
 *   margin); at most `maxAuthorizations` bc-authorize requests per check.
 * - Retries each request in process as Temporal would retry the activity: the error taxonomy
 *   (domain/errors.ts) decides what is retried, `Retry-After` sets the next attempt, and a poll's
 *   retries end with its authorization's window.
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
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { BulkChunkInput, BulkChunkProgress, BulkCheck, BulkOutcome } from '../domain/bulk.js';
import { errorCodeOf, failsRun, netcheckFailure, type ErrorCode } from '../domain/errors.js';
import { CAMARA_OPERATIONS, type CamaraOperation } from '../domain/operations.js';
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
  DEADLINE_MARGIN_MS,
  DEFAULT_MAX_AUTHORIZATIONS,
  MIN_REPOLL_SECONDS,
  SLOW_DOWN_SECONDS,
} from '../domain/ciba.js';

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

interface Retry {
  initialMs: number;
  maxIntervalMs: number;
  maxAttempts: number;
  /** No attempt starts at or after this time (ms since the epoch). */
  deadline: number;
}

/** The retry policies of network-check.ts's steps, in process. */
const STEP_RETRY = { initialMs: 1_000, maxIntervalMs: 30_000, maxAttempts: 8, totalMs: 10 * 60_000 };

const iso = (ms: number = Date.now()) => new Date(ms).toISOString();

function isRetryable(err: unknown): boolean {
  if (err instanceof CancelledFailure) return false;
  if (err instanceof ApplicationFailure) return !err.nonRetryable;
  return true; // Temporal retries an activity's unknown errors too
}

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
  const camaraCalls: Record<CamaraOperation, (input: CheckCallInput) => Promise<CheckData>> = {
    'sim-swap': steps[CAMARA_OPERATIONS['sim-swap'].activity],
    'sim-swap-date': steps[CAMARA_OPERATIONS['sim-swap-date'].activity],
    'device-connectivity': steps[CAMARA_OPERATIONS['device-connectivity'].activity],
    'device-roaming': steps[CAMARA_OPERATIONS['device-roaming'].activity],
  };

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
     * One request, retried as the policy says; every attempt is paced (the HTTP client serves
     * started flows' polls and calls before new bc-authorize requests).
     */
    async function attempt<T>(retry: Retry, send: (retried: boolean) => Promise<T>): Promise<T> {
      for (let n = 1; ; n++) {
        try {
          if (warmUp) await warmUp;
          // Paced where the request is sent (after the JWT is minted), by the HTTP client.
          return await (pacer ? withRequestPacer(pacer, () => send(n > 1)) : send(n > 1));
        } catch (err) {
          if (signal?.aborted || !isRetryable(err) || n >= retry.maxAttempts) throw err;
          const backoff = Math.min(retry.initialMs * 2 ** (n - 1), retry.maxIntervalMs);
          const hinted: unknown = err instanceof ApplicationFailure ? err.nextRetryDelay : undefined;
          const delay = typeof hinted === 'number' ? hinted : backoff;
          if (Date.now() + delay >= retry.deadline) throw err;
          await sleep(delay, undefined, signal ? { signal } : {});
        }
      }
    }

    const stepRetry = (): Retry => ({ ...STEP_RETRY, deadline: Date.now() + STEP_RETRY.totalMs });

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
      const operation = valid.operation as CamaraOperation; // the CAMARA road only sees CAMARA operations

      async function obtainToken(authorizationsLeft: number): Promise<string> {
        for (let left = authorizationsLeft; left > 0; left--) {
          // Under the rate limit a bc-authorize waits behind started flows: time, not attempts.
          const auth = await attempt({ ...stepRetry(), maxAttempts: Infinity }, () =>
            steps.authorize({ msisdn: valid.msisdn, operation, purpose: valid.purpose, correlationId }),
          );
          count.authorizations++;
          timestamps.authorized ??= iso();
          const answeredAt = Math.min(auth.answeredAt ?? Date.now(), Date.now());
          const deadline =
            answeredAt + auth.expiresIn * 1000 - Math.min(DEADLINE_MARGIN_MS, auth.expiresIn * 100);
          let interval = auth.interval;
          let waitSeconds = input.skipFirstWait ? 0 : interval;
          polling: for (;;) {
            if (waitSeconds > 0) {
              const pollAt = Date.now() + waitSeconds * 1000;
              if (pollAt >= deadline) break polling; // never poll after expires_in
              await sleep(waitSeconds * 1000, undefined, signal ? { signal } : {});
            }
            if (deadline - Date.now() <= 0) break polling;
            let outcome: PollOutcome;
            try {
              outcome = await attempt(
                {
                  initialMs: Math.max(1000, interval * 1000),
                  maxIntervalMs: Math.max(5_000, interval * 1000),
                  maxAttempts: Infinity,
                  deadline,
                },
                (retried) =>
                  steps.pollToken(
                    { authReqId: auth.authReqId, correlationId, operation, msisdn: valid.msisdn },
                    { retry: retried },
                  ),
              );
            } catch (err) {
              // The window closed while a transient fault was being retried: authorize again.
              if (!signal?.aborted && isRetryable(err)) break polling;
              throw err;
            }
            count.polls++;
            switch (outcome.outcome) {
              case 'token':
                timestamps.tokenIssued = iso();
                return outcome.sealedToken;
              case 'pending':
                waitSeconds = Math.max(interval, MIN_REPOLL_SECONDS);
                break;
              case 'slow_down':
                interval += SLOW_DOWN_SECONDS;
                waitSeconds = interval;
                break;
              case 'expired':
              case 'redeemed':
                break polling;
            }
          }
        }
        throw netcheckFailure(
          'AUTHORIZATION_EXPIRED',
          `No access token within expires_in after ${count.authorizations} bc-authorize request(s)`,
        );
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
            ...base(),
          } as CheckResult;
          return { at, result };
        }
        let data: CheckData;
        try {
          data = await callApi(await obtainToken(maxAuthorizations));
        } catch (err) {
          // A CAMARA 401: authorize again, once, with what is left of the check's budget.
          const left = maxAuthorizations - count.authorizations;
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
