/**
 * networkCheck: one network check of one number, durably.
 *
 *   validate input ─► bc-authorize ─► wait `interval` ─► poll token ─┬─ pending:   wait `interval`, poll again
 *                         ▲                                          ├─ slow_down: interval += 5 s, wait, poll again
 *                         └──── expired / past expires_in (≤ N times)┘─ token ─► CAMARA check ─► CheckResult
 *                                                                                   │ 401: re-run the auth flow once
 *
 * Every HTTP call is an activity (retried by Temporal per domain/errors.ts) that heartbeats while
 * it runs, so the step of a worker that dies is retried elsewhere within seconds. The token polls of
 * one authorization are one activity (`pollToken` with `keepPolling`): it waits the CIBA interval
 * before each poll, polls again while the answer is pending, and records its progress with its
 * heartbeats, so the retry after a worker died mid-wait goes on with the polls made
 * (runs started before the `lean-history` patch wait with a durable timer and poll in an activity
 * each). In fast mode the HTTP calls are local activities (markers in history, no task-queue hop);
 * a worker dying mid-wait costs a workflow task timeout before another worker waits again, and
 * CIBA intervals above 30 s are durable timers. The access token only crosses history sealed;
 * the application JWT never does.
 */
import {
  ActivityFailure,
  isCancellation,
  TimeoutFailure,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  proxyLocalActivities,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import { ERROR_CODES, errorCodeOf, failsRun, netcheckFailure, type ErrorCode } from '../domain/errors.js';
import { maskMsisdn } from '../domain/msisdn.js';
import { CAMARA_OPERATIONS, type CamaraOperation } from '../domain/operations.js';
import {
  NetcheckApi,
  NetcheckBatchId,
  NetcheckErrorCode,
  NetcheckOperation,
  NetcheckOutcome,
  NetcheckSubject,
} from '../domain/search-attributes.js';
import type {
  CheckData,
  CheckError,
  CheckProgress,
  CheckResult,
  CheckTimestamps,
  InsightsOutcome,
  NetcheckActivities,
  PollOutcome,
  NetworkCheckInput,
} from '../domain/types.js';
import {
  DEADLINE_MARGIN_MS,
  DEFAULT_MAX_AUTHORIZATIONS,
  MIN_REPOLL_SECONDS,
  SLOW_DOWN_SECONDS,
} from '../domain/ciba.js';
import { validateCheckRequest } from '../domain/validate.js';
import { statusQuery } from './queries.js';

export { DEFAULT_MAX_AUTHORIZATIONS };
/** Patch id: fast mode waits the interval inside the poll's local activity, not with a timer. */
const FAST_WAIT_IN_POLL = 'fast-wait-in-poll';
/** Patch id: the authorization budget counts every bc-authorize of the run, also after a 401. */
const RUN_WIDE_BUDGET = 'run-wide-authorization-budget';
/** Patch id: fast mode waits longer than FAST_INLINE_WAIT_SECONDS with a durable timer. */
const FAST_LONG_WAIT_TIMER = 'fast-long-wait-timer';
/** Fast mode waits up to this long inside the poll's local activity; longer CIBA intervals get a timer. */
const FAST_INLINE_WAIT_SECONDS = 30;
/**
 * Patch id: the polls of an authorization are one activity that waits and polls again itself
 * (history per check: 4 activities and 2 timers became 3 activities), and it implies every
 * patch before it, so a new run records one patch marker, not one per patch.
 */
const LEAN_HISTORY = 'lean-history';
/** A (remote) polling activity waits up to this long before its first poll; longer waits are timers. */
const INLINE_WAIT_SECONDS = 120;
/**
 * Remote activities heartbeat every second while they run (withHeartbeat, activities/context.ts):
 * a worker that dies is noticed this long after its last heartbeat and the step is retried on
 * another worker, instead of after the step's start-to-close timeout (30 s, or 120 s for a
 * bc-authorize). Activity options are not part of replay's determinism check, so runs already
 * going pick this up for the steps they schedule from now on.
 */
const HEARTBEAT_TIMEOUT_MS = 5_000;

/** Retries for HTTP calls: backoff for 5xx and network errors; 429 waits `Retry-After` (nextRetryDelay). */
const HTTP_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  // Every step ends: retries (Retry-After is capped at 5 min) stop after this.
  scheduleToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 8,
  },
};

const remote = proxyActivities<NetcheckActivities>(HTTP_ACTIVITY);
/** Fast mode: the same activities run in the workflow's worker, recorded as markers (fewer events, no task-queue hop). */
const local = proxyLocalActivities<NetcheckActivities>({
  startToCloseTimeout: '30 seconds',
  retry: HTTP_ACTIVITY.retry,
  localRetryThreshold: '10 seconds',
});

interface StepOptions {
  summary: string;
  startToCloseTimeout?: number;
  scheduleToCloseTimeout?: number;
  retry?: RetryPolicy;
}

const iso = (ms: number = Date.now()) => new Date(ms).toISOString();

export async function networkCheck(input: NetworkCheckInput): Promise<CheckResult> {
  // Bad input fails the run at once, before any HTTP call: retrying cannot fix it.
  const check = validateCheckRequest(input);
  const masked = maskMsisdn(check.msisdn);
  // Validation guarantees that the CAMARA road only ever sees operations CAMARA serves.
  const camaraOperation = check.operation as CamaraOperation;
  const correlationId = input.correlationId ?? uuid4();
  const maxAuthorizations = input.maxAuthorizations ?? DEFAULT_MAX_AUTHORIZATIONS;
  if (!Number.isInteger(maxAuthorizations) || maxAuthorizations < 1) {
    throw netcheckFailure(
      'INVALID_INPUT',
      `maxAuthorizations must be a whole number ≥ 1 (got ${maxAuthorizations})`,
    );
  }

  const timestamps: Partial<CheckTimestamps> & { started: string } = { started: iso() };
  const progress: CheckProgress = {
    phase: 'authorizing',
    operation: check.operation,
    polls: 0,
    authorizations: 0,
  };
  setHandler(statusQuery, () => progress);

  /** Runs one HTTP step as an activity, or as a local activity in fast mode. */
  function step<K extends keyof NetcheckActivities>(
    name: K,
    options: StepOptions,
    args: Parameters<NetcheckActivities[K]>,
  ): ReturnType<NetcheckActivities[K]> {
    // Both proxies take these options; they differ only in types the union cannot express.
    const proxy = (input.fast ? local[name] : remote[name]) as unknown as {
      executeWithOptions(options: ActivityOptions, args: unknown[]): ReturnType<NetcheckActivities[K]>;
    };
    // A local activity has no heartbeat: a dead worker costs its workflow task timeout instead.
    const heartbeat = input.fast ? {} : { heartbeatTimeout: HEARTBEAT_TIMEOUT_MS };
    return proxy.executeWithOptions({ ...HTTP_ACTIVITY, ...heartbeat, ...options }, args);
  }

  // Clients set these at start (no extra history event); a bare start gets them here.
  if (workflowInfo().typedSearchAttributes.get(NetcheckOperation) === undefined) {
    upsertSearchAttributes([
      { key: NetcheckOperation, value: check.operation },
      { key: NetcheckApi, value: check.api },
      ...(input.subject ? [{ key: NetcheckSubject, value: input.subject }] : []),
      ...(input.batchId ? [{ key: NetcheckBatchId, value: input.batchId }] : []),
    ]);
  }

  const show = (phase: CheckProgress['phase'], extra: Partial<CheckProgress> = {}) => {
    Object.assign(progress, { phase, nextPollAt: undefined }, extra);
    const lines = [
      `**${check.operation}** for ${masked} — phase **${phase}**`,
      `authorization ${progress.authorizations} of ${maxAuthorizations} · polls ${progress.polls}` +
        (progress.intervalSeconds !== undefined ? ` · interval ${progress.intervalSeconds}s` : ''),
    ];
    if (progress.nextPollAt) lines.push(`next poll at ${progress.nextPollAt}`);
    if (progress.deadline && phase !== 'done') lines.push(`authorization expires at ${progress.deadline}`);
    setCurrentDetails(lines.join('\n\n'));
  };

  /**
   * authorize → wait → poll until a token, authorizing again when one expires (or its window runs
   * out while the provider fails) — `maxAuthorizations` bc-authorize requests in the whole run.
   */
  async function obtainToken(authorizationsLeft: number): Promise<string> {
    for (let left = authorizationsLeft; left > 0; left--) {
      show('authorizing');
      const requestedAt = Date.now();
      const auth = await step(
        'authorize',
        {
          summary: `bc-authorize ${masked} for ${check.operation} (${progress.authorizations + 1}/${maxAuthorizations})`,
          // Under a rate limit a bc-authorize waits behind started flows' polls: give it time, not attempts.
          startToCloseTimeout: 120_000,
          retry: { ...HTTP_ACTIVITY.retry, maximumAttempts: Infinity },
        },
        [{ msisdn: check.msisdn, operation: camaraOperation, purpose: check.purpose, correlationId }],
      );
      progress.authorizations++;
      timestamps.authorized ??= iso();
      // expires_in counts from the provider's answer, so time spent retrying bc-authorize cannot
      // eat the window. Runs recorded before the activity reported that time count from the request.
      const deadline =
        auth.answeredAt === undefined
          ? requestedAt + auth.expiresIn * 1000
          : Math.min(auth.answeredAt, Date.now()) +
            auth.expiresIn * 1000 -
            Math.min(DEADLINE_MARGIN_MS, auth.expiresIn * 100);
      let interval = auth.interval;
      let waitSeconds = input.skipFirstWait ? 0 : interval;
      progress.deadline = iso(deadline);
      progress.intervalSeconds = interval;

      polling: for (;;) {
        let waitMs = 0; // fast mode: waited inside the poll's local activity
        if (waitSeconds > 0) {
          const pollAt = Date.now() + waitSeconds * 1000;
          if (pollAt >= deadline) break polling; // never poll after expires_in
          show('waiting', { nextPollAt: iso(pollAt) });
          // A timer costs 5 history events and a workflow task; in fast mode the poll waits itself,
          // unless the provider asks for a wait too long to hold a local activity for.
          const inline = lean
            ? waitSeconds <= (input.fast ? FAST_INLINE_WAIT_SECONDS : INLINE_WAIT_SECONDS)
            : input.fast &&
              patched(FAST_WAIT_IN_POLL) &&
              !(waitSeconds > FAST_INLINE_WAIT_SECONDS && patched(FAST_LONG_WAIT_TIMER));
          if (inline) waitMs = waitSeconds * 1000;
          else {
            await sleep(waitSeconds * 1000, {
              summary: `wait ${waitSeconds}s before token poll #${progress.polls + 1}`,
            });
          }
        }
        const remainingMs = deadline - Date.now();
        if (remainingMs <= 0) break polling;
        if (waitMs === 0) show('polling');
        // One activity polls until a final answer or the deadline; a local one only while the
        // waits stay short (a long local activity holds the workflow task).
        const loop =
          lean && !(input.fast && Math.max(interval, MIN_REPOLL_SECONDS) > FAST_INLINE_WAIT_SECONDS);
        let outcome: PollOutcome;
        try {
          outcome = await step(
            'pollToken',
            {
              summary: loop
                ? `token polls from #${progress.polls + 1} for ${masked}`
                : `token poll #${progress.polls + 1} for ${masked}`,
              // A poll that waits first gets that long on top of the usual 30 s; a polling loop
              // may run to the deadline (it heartbeats like every remote step).
              ...(loop
                ? { startToCloseTimeout: remainingMs + 30_000 }
                : waitMs > 0
                  ? { startToCloseTimeout: waitMs + 30_000 }
                  : {}),
              // Retries stop at the expires_in deadline and never come faster than `interval`.
              scheduleToCloseTimeout: remainingMs,
              retry: {
                ...HTTP_ACTIVITY.retry,
                initialInterval: Math.max(1000, interval * 1000),
                // Short backoff: a transient fault is retried to the end of the window, not past it.
                maximumInterval: Math.max(5_000, interval * 1000),
                maximumAttempts: Infinity,
              },
            },
            [
              {
                authReqId: auth.authReqId,
                correlationId,
                operation: camaraOperation,
                msisdn: check.msisdn,
                ...(waitMs > 0 ? { waitMs } : {}),
                ...(loop ? { keepPolling: { deadlineMs: deadline, intervalSeconds: interval } } : {}),
              },
            ],
          );
        } catch (err) {
          // The window ran out while the poll was still running or retrying a transient fault:
          // this auth_req_id is as good as expired. Authorize again, within the budget.
          if (!isCancellation(err) && ranOutOfWindow(err)) break polling;
          throw err;
        }
        progress.polls += outcome.polls ?? 1;
        if (outcome.intervalSeconds !== undefined && outcome.intervalSeconds !== interval) {
          interval = outcome.intervalSeconds; // a polling loop met slow_down
          progress.intervalSeconds = interval;
        }
        switch (outcome.outcome) {
          case 'token':
            timestamps.tokenIssued = iso();
            return outcome.sealedToken;
          case 'pending':
            // interval 0 allows an immediate first poll, not a busy loop: re-poll after ≥ 1 s.
            waitSeconds = since('pending-repoll-floor') ? Math.max(interval, MIN_REPOLL_SECONDS) : interval;
            break;
          case 'slow_down':
            interval += SLOW_DOWN_SECONDS;
            progress.intervalSeconds = interval;
            waitSeconds = interval;
            break;
          case 'expired': // expired_token
          case 'redeemed': // a retried poll whose lost earlier attempt took the token
            break polling;
        }
      }
    }
    throw netcheckFailure(
      'AUTHORIZATION_EXPIRED',
      `No access token within expires_in after ${progress.authorizations} bc-authorize request(s)`,
    );
  }

  async function runCheck(sealedToken: string): Promise<CheckData> {
    show('checking');
    return step(
      CAMARA_OPERATIONS[camaraOperation].activity,
      { summary: `${check.operation} check for ${masked}` },
      [
        {
          sealedToken,
          msisdn: check.msisdn,
          correlationId,
          operation: camaraOperation,
          maxAge: check.maxAge,
        },
      ],
    );
  }

  /** The Identity Insights road: one request, signed with the application JWT inside the activity. */
  async function runInsights(): Promise<InsightsOutcome> {
    show('checking');
    return step('identityInsights', { summary: `${check.operation} via Identity Insights for ${masked}` }, [
      {
        msisdn: check.msisdn,
        operation: check.operation,
        correlationId,
        ...(check.purpose !== undefined ? { purpose: check.purpose } : {}),
        ...(check.maxAge !== undefined ? { maxAge: check.maxAge } : {}),
      },
    ]);
  }

  type Outcome =
    | { status: 'ok'; data: CheckData; requestId?: string; missing?: string[] }
    | { status: 'failed'; error: CheckError };

  const finish = (outcome: Outcome): CheckResult => {
    const base = {
      api: check.api,
      correlationId,
      polls: progress.polls,
      authorizations: progress.authorizations,
      timestamps: { ...timestamps, finished: iso() },
    };
    // The data's shape is the operation's: the activity that answered was chosen by the operation.
    const result = (
      outcome.status === 'ok'
        ? {
            operation: check.operation,
            status: 'ok',
            data: outcome.data,
            ...(outcome.requestId !== undefined ? { requestId: outcome.requestId } : {}),
            ...(outcome.missing?.length ? { missing: outcome.missing } : {}),
            ...base,
          }
        : { operation: check.operation, status: 'failed', error: outcome.error, ...base }
    ) as CheckResult;
    upsertSearchAttributes([
      { key: NetcheckOutcome, value: result.status },
      ...(result.error ? [{ key: NetcheckErrorCode, value: result.error.code }] : []),
    ]);
    show('done', { result });
    return result;
  };

  // One patch marker for a new run's CAMARA road; runs recorded before it go on as they were.
  const lean = check.api !== 'identity-insights' && patched(LEAN_HISTORY);
  /** A patch that `lean-history` implies: asked of the history only for runs without it. */
  const since = (patchId: string) => lean || patched(patchId);

  try {
    if (check.api === 'identity-insights') {
      const answer = await runInsights();
      timestamps.checked = iso();
      return finish({ status: 'ok', ...answer });
    }
    let data: CheckData;
    try {
      data = await runCheck(await obtainToken(maxAuthorizations));
    } catch (err) {
      // A 401 from the CAMARA API: the token is no longer valid. Re-run the auth flow, once,
      // with what is left of the run's authorization budget.
      if (errorCodeOf(err) !== 'UNAUTHENTICATED') throw err;
      const left = since(RUN_WIDE_BUDGET) ? maxAuthorizations - progress.authorizations : maxAuthorizations;
      if (left <= 0) throw err;
      data = await runCheck(await obtainToken(left));
    }
    timestamps.checked = iso();
    return finish({ status: 'ok', data });
  } catch (err) {
    if (isCancellation(err)) throw err;
    // A step that never got an answer in its time (no provider error in the chain) timed out.
    const code = errorCodeOf(err) ?? (hasTimeout(err) ? 'TIMEOUT' : undefined);
    // Misconfiguration and unknown failures fail the run; final provider answers are results.
    if (code === undefined || failsRun(code)) throw err;
    return finish({ status: 'failed', error: { code, message: failureMessage(err, code) } });
  }
}

function hasTimeout(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; current && depth < 8; depth++) {
    if (current instanceof TimeoutFailure) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** A step that ended by its deadline, or by a transient fault that had no time left for a retry. */
function ranOutOfWindow(err: unknown): boolean {
  const code = errorCodeOf(err);
  return hasTimeout(err) || (code !== undefined && ERROR_CODES[code].retryable);
}

function failureMessage(err: unknown, code: ErrorCode): string {
  const inner = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return inner instanceof Error ? inner.message : code;
}
