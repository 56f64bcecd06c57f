/**
 * networkAssess: one risk verdict on one number, with its evidence.
 *
 *   policy (compiled on the client) ─► the signals it needs ─┬─ identity-insights: ONE request asking every insight
 *                                                            └─ camara: a networkCheck child per signal, in parallel,
 *                                                               each with its own CIBA authorization
 *                          evidence { value, observedAt, source } + unknown [signal, code] ─► evaluatePolicy ─► verdict
 *
 * Gathering is the cheapest the road allows (domain/assess.ts has the table). A signal that could
 * not be gathered is `unknown` with its error code, never guessed; the policy decides what an
 * unknown signal means (`unknown: sim_swap → review`). A failure that is not about the number —
 * netcheck's or the provider's configuration (CONFIGURATION, INVALID_INPUT of the whole request)
 * or an unexpected one — fails the run, as it fails a check: no verdict rather than a verdict on
 * a broken setup. Evaluation is the pure code of domain/policy.ts; the result records the
 * policy's version, computed here from the policy evaluated. The verdict goes into the
 * NetcheckVerdict search attribute (`NetcheckVerdict = "block"` lists the blocks) and the run's
 * current details in the UI.
 */
import {
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  ASSESS_OPERATION,
  assessInputProblem,
  DEFAULT_ASSESS_API,
  insightRequests,
  readingsOf,
  SIGNAL_INSIGHTS,
  SIGNAL_OPERATIONS,
  signalFromCheck,
  signalPurpose,
  type AssessActivities,
  type AssessInput,
  type AssessmentResult,
  type EvidenceMap,
  type EvidenceSource,
  type SignalOutcome,
  type UnknownSignal,
} from '../domain/assess.js';
import {
  HEARTBEAT_TIMEOUT_MS,
  LOCAL_RETRY_THRESHOLD_MS,
  STEP_RETRY,
  STEP_TIMEOUTS,
} from '../domain/ciba-flow.js';
import {
  errorCodeOf,
  failsRun,
  hasTimeout,
  innermostMessage as messageOf,
  netcheckFailure,
  type ErrorCode,
} from '../domain/errors.js';
import { maskMsisdn } from '../domain/msisdn.js';
import type { Api } from '../domain/operations.js';
import { evaluatePolicy, policySignals, policyVersion, SIGNALS, type SignalName } from '../domain/policy.js';
import {
  NetcheckApi,
  NetcheckBatchId,
  NetcheckOperation,
  NetcheckSubject,
  NetcheckVerdict,
} from '../domain/search-attributes.js';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../domain/timeouts.js';
import type { NetworkCheckInput } from '../domain/types.js';
import { networkCheck } from './network-check.js';
import { refusePlaintextInput } from './plaintext-guard.js';
import { NAMESPACED_ACTIVITIES } from './patches.js';
import { activityType } from '../domain/activity-names.js';

/** The Identity Insights request: retried like a check's HTTP step (backoff, Retry-After). */
const INSIGHTS_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: STEP_TIMEOUTS.startToCloseMs,
  scheduleToCloseTimeout: STEP_TIMEOUTS.scheduleToCloseMs,
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: {
    initialInterval: STEP_RETRY.initialIntervalMs,
    backoffCoefficient: STEP_RETRY.backoffCoefficient,
    maximumInterval: STEP_RETRY.maximumIntervalMs,
    maximumAttempts: STEP_RETRY.maximumAttempts,
  },
};
const remote = proxyActivities<AssessActivities>(INSIGHTS_ACTIVITY);
/** Fast mode: the request runs in the workflow's worker, recorded as a marker. */
const local = proxyLocalActivities<AssessActivities>({
  startToCloseTimeout: STEP_TIMEOUTS.startToCloseMs,
  retry: INSIGHTS_ACTIVITY.retry,
  localRetryThreshold: LOCAL_RETRY_THRESHOLD_MS,
});

const iso = (ms: number = Date.now()) => new Date(ms).toISOString();

export async function networkAssess(input: AssessInput): Promise<AssessmentResult> {
  // A worker with a key ring never assesses a number a client sent in the clear (CONFIGURATION).
  refusePlaintextInput(input, "This assessment's input");
  // Bad input (number, api, purpose, policy) fails the run before any request: retrying cannot fix it.
  const problem = assessInputProblem(input);
  if (problem) throw netcheckFailure('INVALID_INPUT', `Invalid assessment input: ${problem}`);
  const { msisdn, policy } = input;
  const api: Api = input.api ?? (input.profile === 'camara' ? 'camara' : DEFAULT_ASSESS_API);
  const version = policyVersion(policy);
  const signals = policySignals(policy);
  const correlationId = input.correlationId ?? uuid4();
  const masked = maskMsisdn(msisdn);
  const started = iso();
  const policyLabel = `${policy.name ?? 'policy'}@${version}`;

  // Clients set these at start (no extra history event); a bare start gets them here.
  if (workflowInfo().typedSearchAttributes.get(NetcheckOperation) === undefined) {
    upsertSearchAttributes([
      { key: NetcheckOperation, value: ASSESS_OPERATION },
      { key: NetcheckApi, value: api },
      ...(input.subject ? [{ key: NetcheckSubject, value: input.subject }] : []),
      ...(input.batchId ? [{ key: NetcheckBatchId, value: input.batchId }] : []),
    ]);
  }
  setCurrentDetails(
    [
      `**assess** ${masked} over ${api} — gathering ${signals.join(', ') || 'nothing (the policy needs no signal)'}`,
      `policy ${policyLabel}`,
    ].join('\n\n'),
  );

  const evidence: EvidenceMap = {};
  const unknown: UnknownSignal[] = [];
  const record = (
    signal: SignalName,
    outcome: SignalOutcome | undefined,
    observedAt: string,
    source: EvidenceSource,
  ) => {
    if (outcome?.value !== undefined) {
      (evidence as Record<SignalName, unknown>)[signal] = { value: outcome.value, observedAt, source };
    } else {
      unknown.push({
        signal,
        code: outcome?.error.code ?? 'PROTOCOL_ERROR',
        message: outcome?.error.message ?? `No answer for ${signal}.`,
        source,
      });
    }
  };
  /** A step or child that failed: its signals are unknown, unless the failure must fail the run. */
  const failedWith = (err: unknown, child: boolean): { code: ErrorCode; message: string } => {
    if (isCancellation(err)) throw err;
    const code = errorCodeOf(err) ?? (hasTimeout(err) ? 'TIMEOUT' : undefined);
    // Configuration (netcheck's, the provider account's) and unknown failures fail the run, as for a
    // check; a check workflow that ended unexpectedly (terminated, say) leaves its signal unknown.
    if (code !== undefined && failsRun(code)) throw err;
    if (code === undefined && !child) throw err;
    return { code: code ?? 'INTERNAL', message: messageOf(err) };
  };

  /** Identity Insights: one request for every signal (one per purpose, when a setting splits them). */
  async function viaInsights(): Promise<void> {
    const requests = insightRequests(signals, input.purpose);
    await Promise.all(
      requests.map(async (request) => {
        const via = (signal: SignalName): EvidenceSource => ({
          api: 'identity-insights',
          via: SIGNAL_INSIGHTS[signal].join('+'),
        });
        const args = {
          msisdn,
          signals: request.signals,
          correlationId,
          ...(request.purpose !== undefined ? { purpose: request.purpose } : {}),
        };
        const summary = `Identity Insights ${request.signals.map((s) => SIGNAL_INSIGHTS[s].join('+')).join(', ')} for ${masked}`;
        // `netcheck.assessInsights`; a run recorded before the namespace schedules the bare name.
        const type = activityType('assessInsights', patched(NAMESPACED_ACTIVITIES)) as 'assessInsights';
        try {
          const outcome = input.fast
            ? await local[type].executeWithOptions(
                { startToCloseTimeout: STEP_TIMEOUTS.startToCloseMs, summary },
                [args],
              )
            : await remote[type].executeWithOptions({ ...INSIGHTS_ACTIVITY, summary }, [args]);
          for (const signal of request.signals) {
            const source = {
              ...via(signal),
              ...(outcome.requestId !== undefined ? { requestId: outcome.requestId } : {}),
            };
            record(signal, outcome.signals[signal], outcome.observedAt, source);
          }
        } catch (err) {
          const error = failedWith(err, false);
          for (const signal of request.signals) record(signal, { error }, iso(), via(signal));
        }
      }),
    );
  }

  /** The CIBA road: a networkCheck child per signal, all at once, each with its own authorization. */
  async function viaChecks(): Promise<void> {
    const parent = workflowInfo().workflowId;
    await Promise.all(
      signals.map(async (signal) => {
        const operation = SIGNAL_OPERATIONS[signal];
        // CAMARA has no carrier API: that one signal comes from Identity Insights on every road,
        // where there is one: an operator's own CAMARA (the camara profile) has none.
        const checkApi: Api = signal === 'carrier' ? 'identity-insights' : api;
        if (signal === 'carrier' && input.profile === 'camara') {
          const message =
            "The camara profile's operator APIs have no carrier insight (Identity Insights is Vonage's).";
          record(signal, { error: { code: 'NOT_SUPPORTED', message } }, iso(), {
            api: 'camara',
            via: 'carrier',
          });
          return;
        }
        const purpose = signalPurpose(signal, api, input.purpose);
        const workflowId = `${parent}/${operation}`;
        const source: EvidenceSource = { api: checkApi, via: operation, workflowId };
        const check: NetworkCheckInput = {
          msisdn,
          operation,
          api: checkApi,
          correlationId,
          ...(purpose !== undefined ? { purpose } : {}),
          ...(input.subject ? { subject: input.subject } : {}),
          ...(input.batchId ? { batchId: input.batchId } : {}),
          ...(input.fast !== undefined ? { fast: input.fast } : {}),
          ...(input.skipFirstWait !== undefined ? { skipFirstWait: input.skipFirstWait } : {}),
          ...(input.maxAuthorizations !== undefined ? { maxAuthorizations: input.maxAuthorizations } : {}),
        };
        try {
          const result = await executeChild(networkCheck, {
            workflowId,
            args: [check],
            workflowExecutionTimeout: DEFAULT_CHECK_TIMEOUT_MS,
            typedSearchAttributes: [
              { key: NetcheckOperation, value: operation },
              { key: NetcheckApi, value: checkApi },
              ...(input.subject ? [{ key: NetcheckSubject, value: input.subject }] : []),
              ...(input.batchId ? [{ key: NetcheckBatchId, value: input.batchId }] : []),
            ],
            staticSummary: `${operation} · ${checkApi} · ${masked} · for assessment ${parent}`,
          });
          record(
            signal,
            signalFromCheck(signal, result),
            result.timestamps.checked ?? result.timestamps.finished,
            source,
          );
        } catch (err) {
          record(signal, { error: failedWith(err, true) }, iso(), source);
        }
      }),
    );
  }

  if (signals.length > 0) {
    if (api === 'identity-insights') await viaInsights();
    else await viaChecks();
  }
  unknown.sort((a, b) => SIGNALS.indexOf(a.signal) - SIGNALS.indexOf(b.signal));

  const evaluation = evaluatePolicy(policy, readingsOf(evidence));
  const result: AssessmentResult = {
    verdict: evaluation.verdict,
    reasons: evaluation.reasons,
    evidence,
    unknown,
    policyVersion: version,
    ...(policy.name !== undefined ? { policyName: policy.name } : {}),
    signals,
    api,
    correlationId,
    timestamps: { started, finished: iso() },
  };
  upsertSearchAttributes([{ key: NetcheckVerdict, value: result.verdict }]);
  setCurrentDetails(
    [
      `**${result.verdict.toUpperCase()}** — ${masked} over ${api}`,
      `reasons: ${result.reasons.join(', ') || `none (the policy's default)`}`,
      ...(unknown.length > 0 ? [`unknown: ${unknown.map((u) => `${u.signal} (${u.code})`).join(', ')}`] : []),
      `policy ${policyLabel}`,
    ].join('\n\n'),
  );
  return result;
}
