/**
 * networkCheck: one network check of one number, durably.
 *
 *   validate input ─► bc-authorize ─► wait `interval` ─► poll token ─┬─ pending:   wait `interval`, poll again
 *                         ▲                                          ├─ slow_down: interval += 5 s, wait, poll again
 *                         └──── expired / past expires_in (≤ N times)┘─ token ─► CAMARA check ─► CheckResult
 *                                                                                   │ 401: re-run the auth flow once
 *
 * Every HTTP call is an activity (retried by Temporal per domain/errors.ts) that heartbeats while
 * it runs, so the step of a worker that dies is retried elsewhere within seconds. What follows a
 * bc-authorize answer and each poll — when the next poll may go, where the wait happens, when to
 * authorize again or give up — is the CIBA policy's (domain/ciba-flow.ts); this workflow carries
 * it out. The polls of one authorization are one activity (`pollToken` with `keepPolling`): it
 * waits until the plan's next poll, polls again while the answer is pending, records its plan
 * with its heartbeats, and returns on a final answer or when the pace changed (slow_down, or a
 * retry that could not know the pace after a worker died), which this workflow records before
 * the next poll. Runs started before the `lean-history` patch wait with a durable timer and poll
 * in an activity each. In fast mode the HTTP calls are local activities (markers in history, no
 * task-queue hop); a worker dying mid-wait costs a workflow task timeout before another worker
 * goes on, and long waits, and the wait after a pace change, are durable timers. The access token
 * only crosses history sealed; the application JWT never does.
 */
import {
  ActivityFailure,
  isCancellation,
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
import {
  ERROR_CODES,
  errorCodeOf,
  failsRun,
  hasTimeout,
  netcheckFailure,
  type ErrorCode,
} from '../domain/errors.js';
import { maskMsisdn } from '../domain/msisdn.js';
import { CAMARA_OPERATIONS, type CamaraOperation } from '../domain/operations.js';
import { activityType } from '../domain/activity-names.js';
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
  afterAuthorization,
  afterOutcome,
  afterPollFailure,
  AUTHORIZE_STEP,
  authorizationsAfterUnauthenticated,
  DEFAULT_MAX_AUTHORIZATIONS,
  giveUp,
  HEARTBEAT_TIMEOUT_MS,
  INLINE_WAIT_LIMIT_MS,
  LOCAL_RETRY_THRESHOLD_MS,
  mayPoll,
  paceMs,
  pollStep,
  pollsInOneActivity,
  STEP_RETRY,
  STEP_TIMEOUTS,
  waitPlace,
  type FlowRules,
  type Next,
  type RetryData,
} from '../domain/ciba-flow.js';
import { validateCheckRequest } from '../domain/validate.js';
import { refusePlaintextInput } from './plaintext-guard.js';
import {
  CIBA_FLOW,
  FAST_LONG_WAIT_TIMER,
  FAST_WAIT_IN_POLL,
  LEAN_HISTORY,
  NAMESPACED_ACTIVITIES,
  PENDING_REPOLL_FLOOR,
  RUN_WIDE_BUDGET,
} from './patches.js';
import { statusQuery } from './queries.js';

export { DEFAULT_MAX_AUTHORIZATIONS };
/** A retry policy of domain/ciba-flow.ts, as Temporal takes it. */
const retryPolicy = (retry: RetryData): RetryPolicy => ({
  initialInterval: retry.initialIntervalMs,
  backoffCoefficient: retry.backoffCoefficient,
  maximumInterval: retry.maximumIntervalMs,
  maximumAttempts: retry.maximumAttempts,
});

/** Retries for HTTP calls: backoff for 5xx and network errors; 429 waits `Retry-After` (nextRetryDelay). */
const HTTP_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: STEP_TIMEOUTS.startToCloseMs,
  // Every step ends: retries (Retry-After is capped at 5 min) stop after this.
  scheduleToCloseTimeout: STEP_TIMEOUTS.scheduleToCloseMs,
  retry: retryPolicy(STEP_RETRY),
};

const remote = proxyActivities<NetcheckActivities>(HTTP_ACTIVITY);
/** Fast mode: the same activities run in the workflow's worker, recorded as markers (fewer events, no task-queue hop). */
const local = proxyLocalActivities<NetcheckActivities>({
  startToCloseTimeout: STEP_TIMEOUTS.startToCloseMs,
  retry: HTTP_ACTIVITY.retry,
  localRetryThreshold: LOCAL_RETRY_THRESHOLD_MS,
});

interface StepOptions {
  summary: string;
  startToCloseTimeout?: number;
  scheduleToCloseTimeout?: number;
  retry?: RetryPolicy;
  /** Remote steps only (default HEARTBEAT_TIMEOUT_MS); a local activity has no heartbeat. */
  heartbeatTimeout?: number;
}

const iso = (ms: number = Date.now()) => new Date(ms).toISOString();

export async function networkCheck(input: NetworkCheckInput): Promise<CheckResult> {
  // A worker with a key ring never checks a number a client sent in the clear (CONFIGURATION).
  refusePlaintextInput(input, "This check's input");
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
  /** The operator profile and API version the worker's authorization reported (CheckResult). */
  let answeredBy: { profile?: CheckResult['profile']; apiVersion?: string } = {};

  /** Runs one HTTP step as an activity, or as a local activity in fast mode. */
  function step<K extends keyof NetcheckActivities>(
    name: K,
    options: StepOptions,
    args: Parameters<NetcheckActivities[K]>,
  ): ReturnType<NetcheckActivities[K]> {
    // `netcheck.<name>`; a run recorded before the namespace schedules the bare name it recorded.
    const type = activityType(name, namespaced) as K;
    // Both proxies take these options; they differ only in types the union cannot express.
    const proxy = (input.fast ? local[type] : remote[type]) as unknown as {
      executeWithOptions(options: ActivityOptions, args: unknown[]): ReturnType<NetcheckActivities[K]>;
    };
    // A local activity has no heartbeat: a dead worker costs its workflow task timeout instead.
    const { heartbeatTimeout, ...rest } = options;
    const heartbeat = input.fast ? {} : { heartbeatTimeout: heartbeatTimeout ?? HEARTBEAT_TIMEOUT_MS };
    return proxy.executeWithOptions({ ...HTTP_ACTIVITY, ...heartbeat, ...rest }, args);
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
   * Each decision is the CIBA policy's (domain/ciba-flow.ts): this carries them out.
   */
  async function obtainToken(authorizationsLeft: number): Promise<string> {
    const inFast = input.fast === true;
    for (let left = authorizationsLeft; left > 0; left--) {
      show('authorizing');
      const requestedAt = Date.now();
      const auth = await step(
        'authorize',
        {
          summary: `bc-authorize ${masked} for ${check.operation} (${progress.authorizations + 1}/${maxAuthorizations})`,
          startToCloseTimeout: AUTHORIZE_STEP.startToCloseMs,
          retry: retryPolicy(AUTHORIZE_STEP.retry),
        },
        [{ msisdn: check.msisdn, operation: camaraOperation, purpose: check.purpose, correlationId }],
      );
      progress.authorizations++;
      timestamps.authorized ??= iso();
      if (auth.profile !== undefined) {
        answeredBy = { profile: auth.profile, ...(auth.apiVersion ? { apiVersion: auth.apiVersion } : {}) };
      }
      const first = afterAuthorization(auth, {
        now: Date.now(),
        requestedAt,
        skipFirstWait: input.skipFirstWait,
        rules,
      });
      progress.deadline = iso(first.deadlineMs);
      progress.intervalSeconds = auth.interval;
      let next: Next = first;

      while (next.action === 'poll') {
        const { plan } = next;
        let waitMs = 0; // waited inside the poll's activity
        const wait = plan.notBefore - Date.now();
        if (wait > 0) {
          show('waiting', { nextPollAt: iso(plan.notBefore) });
          if (waitPlace(wait, { local: inFast, report: next.report, rules }) === 'inline') waitMs = wait;
          else {
            // A durable timer (in fast mode after a pace change: it also commits the change to
            // history before the next poll). Never longer than the pace: the workflow's clock may
            // lag in fast mode; the poll's activity waits out any rest itself.
            await sleep(Math.min(wait, paceMs(plan.intervalSeconds)), {
              summary: `wait ${Math.round(wait / 100) / 10}s before token poll #${progress.polls + 1}`,
            });
            if (!mayPoll(plan, Date.now())) break; // never poll after expires_in
          }
        }
        const now = Date.now();
        if (waitMs === 0) show('polling');
        const loop = pollsInOneActivity(plan, { local: inFast, rules });
        const options = pollStep(plan, { loop, waitMs, now });
        let outcome: PollOutcome;
        try {
          outcome = await step(
            'pollToken',
            {
              summary: loop
                ? `token polls from #${progress.polls + 1} for ${masked}`
                : `token poll #${progress.polls + 1} for ${masked}`,
              startToCloseTimeout: options.startToCloseMs,
              scheduleToCloseTimeout: options.scheduleToCloseMs,
              retry: retryPolicy(options.retry),
              heartbeatTimeout: options.heartbeatTimeoutMs,
            },
            [
              {
                authReqId: auth.authReqId,
                correlationId,
                operation: camaraOperation,
                msisdn: check.msisdn,
                // (a worker of an older netcheck reads the wait as waitMs)
                ...(waitMs > 0 ? { waitMs } : {}),
                ...(loop
                  ? {
                      keepPolling: {
                        deadlineMs: plan.deadlineMs,
                        intervalSeconds: plan.intervalSeconds,
                        notBefore: plan.notBefore,
                        maxWaitMs: INLINE_WAIT_LIMIT_MS[inFast ? 'local' : 'remote'],
                        // A local activity that starts later than this may follow one whose
                        // workflow task was lost with its worker (domain/ciba-flow.ts, rule 3).
                        ...(inFast ? { freshUntil: now + workflowInfo().taskTimeoutMs } : {}),
                        ...(plan.answerLost ? { answerLost: true } : {}),
                      },
                    }
                  : {}),
              },
            ],
          );
        } catch (err) {
          // The window ran out while the poll was still running or retrying a transient fault:
          // this auth_req_id is as good as expired. Authorize again, within the budget.
          if (isCancellation(err)) throw err;
          const code = errorCodeOf(err);
          const failure = {
            timedOut: hasTimeout(err),
            retryable: code !== undefined && ERROR_CODES[code].retryable,
          };
          if (afterPollFailure(failure) === 'authorize') break;
          throw err;
        }
        progress.polls += outcome.polls ?? 1;
        next = afterOutcome(plan, outcome, Date.now(), rules);
        if (next.action === 'use-token' && outcome.outcome === 'token') {
          timestamps.tokenIssued = iso();
          return outcome.sealedToken;
        }
        if (next.action !== 'use-token' && next.plan) progress.intervalSeconds = next.plan.intervalSeconds;
      }
    }
    const end = giveUp(progress.authorizations);
    throw netcheckFailure(end.code, end.message);
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
    | {
        status: 'ok';
        data: CheckData;
        requestId?: string;
        missing?: string[];
        missingCodes?: Record<string, string>;
      }
    | { status: 'failed'; error: CheckError };

  const finish = (outcome: Outcome): CheckResult => {
    const base = {
      api: check.api,
      ...answeredBy,
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
            ...(outcome.missingCodes ? { missingCodes: outcome.missingCodes } : {}),
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

  // One patch marker for a new run: its activities are `netcheck.<name>`, which implies the CIBA
  // flow on the CAMARA road. Runs recorded before it go on as they were, bare activity names too.
  const namespaced = patched(NAMESPACED_ACTIVITIES);
  const camara = check.api !== 'identity-insights';
  const flow = camara && (namespaced || patched(CIBA_FLOW));
  const lean = flow || (camara && patched(LEAN_HISTORY));
  /** A patch that `lean-history` implies: asked of the history only for runs without it. */
  const since = (patchId: string) => lean || patched(patchId);
  /** The rules of this run's CIBA flow, by its patches (asked lazily, where older code asked). */
  const rules: FlowRules = {
    flow,
    lean,
    repollFloor: () => since(PENDING_REPOLL_FLOOR),
    fastWaitInPoll: () => patched(FAST_WAIT_IN_POLL),
    fastLongWaitTimer: () => patched(FAST_LONG_WAIT_TIMER),
  };

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
      const left = authorizationsAfterUnauthenticated(
        maxAuthorizations,
        progress.authorizations,
        since(RUN_WIDE_BUDGET),
      );
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

function failureMessage(err: unknown, code: ErrorCode): string {
  const inner = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return inner instanceof Error ? inner.message : code;
}
