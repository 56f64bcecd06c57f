/**
 * Assessments: one risk verdict on one number from the network signals a policy needs
 * (domain/policy.ts), with the evidence behind it. Types shared by the client, the networkAssess
 * workflow, the batch and the activity, and the pure steps between them. Workflow-safe.
 *
 * How each signal is gathered, per road:
 *
 * | signal       | identity-insights (one request for all) | camara (a networkCheck child each, in parallel) |
 * |--------------|------------------------------------------|-------------------------------------------------|
 * | sim_swap     | `sim_swap` → `latest_sim_swap_at`        | `sim-swap-date`                                 |
 * | roaming      | `roaming`                                | `device-roaming`                                |
 * | connectivity | `reachability`                           | `device-connectivity`                           |
 * | carrier      | `original_carrier` + `current_carrier`   | `carrier` over identity-insights (CAMARA has none) |
 */
import type { ErrorCode } from './errors.js';
import { isE164 } from './msisdn.js';
import {
  API_NAMES,
  DEFAULT_API,
  isApi,
  parsePurposeSetting,
  resolvePurpose,
  type Api,
  type Operation,
  type Purpose,
} from './operations.js';
import {
  compiledPolicyProblem,
  SIGNALS,
  type CompiledPolicy,
  type SignalName,
  type SignalReading,
  type SignalReadings,
  type SignalValues,
  type Verdict,
} from './policy.js';
import { maskMsisdn } from './msisdn.js';
import type { ChildStart } from './batch-child.js';
import { runSearchAttributes } from './search-attributes.js';
import { isProfile, PROFILE_NAMES, type Profile } from './profiles.js';
import type { CheckError, CheckOptions, CheckRequest, CheckResult } from './types.js';

export type { CompiledPolicy, SignalName, SignalValues, Verdict } from './policy.js';

/**
 * The road of an assessment that names none: identity-insights (one request for every signal, and
 * where Vonage serves SIM swap today); camara under the camara profile. Clients take NETCHECK_API first.
 */
export const DEFAULT_ASSESS_API: Api = 'identity-insights';

/** The NetcheckOperation of an assessment, and its pseudo-operation in a batch. */
export const ASSESS_OPERATION = 'assess';

/** The check that answers each signal on the CIBA road (`carrier` over identity-insights). */
export const SIGNAL_OPERATIONS = {
  sim_swap: 'sim-swap-date',
  roaming: 'device-roaming',
  connectivity: 'device-connectivity',
  carrier: 'carrier',
} as const satisfies Record<SignalName, Operation>;

/** The Identity Insights insights that answer each signal. */
export const SIGNAL_INSIGHTS = {
  sim_swap: ['sim_swap'],
  roaming: ['roaming'],
  connectivity: ['reachability'],
  carrier: ['original_carrier', 'current_carrier'],
} as const satisfies Record<SignalName, readonly string[]>;

/** What a caller asks: assess this number. */
export interface AssessRequest {
  /** E.164, e.g. `+447700900001`. */
  msisdn: string;
  /** The road: `identity-insights` (one request) or `camara` (a CIBA check per signal). */
  api?: Api;
  /** A purpose setting as for checks: one purpose, or one per API family. */
  purpose?: string;
}

/** The workflow input of `networkAssess`. */
export interface AssessInput extends AssessRequest, CheckOptions {
  /** The compiled policy (the client compiles and checks the file). */
  policy: CompiledPolicy;
  /** `x-correlator` of every request (the CIBA road's checks too); generated when absent. */
  correlationId?: string;
  /** Keyed hash of the number (NetcheckSubject); computed by the client. */
  subject?: string;
  /** The batch this assessment belongs to, if any. */
  batchId?: string;
  /**
   * The operator profile of the task queue's workers (docs/profiles.md), when it is not `vonage`:
   * under `camara` the road is camara and `carrier` (an Identity Insights insight) is unknown.
   */
  profile?: Profile;
}

/** Where a piece of evidence came from. */
export interface EvidenceSource {
  api: Api;
  /** The insights asked (identity-insights) or the check that ran (camara road). */
  via: string;
  /** Identity Insights' `request_id`. */
  requestId?: string;
  /** The check workflow that answered (camara road). */
  workflowId?: string;
}

export interface Evidence<S extends SignalName = SignalName> {
  value: SignalValues[S];
  /** When the provider answered (ISO-8601): `sim_swap.within` counts back from here. */
  observedAt: string;
  source: EvidenceSource;
}

export type EvidenceMap = { [S in SignalName]?: Evidence<S> };

/** A signal the policy needs that could not be gathered: never guessed, named with why. */
export interface UnknownSignal {
  signal: SignalName;
  code: ErrorCode;
  message: string;
  source: EvidenceSource;
}

/** The result of `networkAssess` (and of `assessNumber`). */
export interface AssessmentResult {
  verdict: Verdict;
  /** Ids of the rules that fired, in policy order. */
  reasons: string[];
  /** Each gathered signal: its value, when it was observed and where it came from. */
  evidence: EvidenceMap;
  /** The signals the policy needs that could not be gathered, with their error codes. */
  unknown: UnknownSignal[];
  /** The version (hash of the canonical form) of the policy that decided. */
  policyVersion: string;
  policyName?: string;
  /** The signals the policy needs (what was gathered). */
  signals: SignalName[];
  api: Api;
  correlationId: string;
  timestamps: { started: string; finished: string };
}

/** A signal's outcome as the Identity Insights activity or a check hands it back. */
export type SignalOutcome<S extends SignalName = SignalName> =
  { value: SignalValues[S]; error?: undefined } | { value?: undefined; error: CheckError };

/** The one Identity Insights request of an assessment (or of one purpose, when they differ). */
export interface AssessInsightsInput {
  msisdn: string;
  signals: SignalName[];
  purpose?: string;
  correlationId: string;
}

export interface AssessInsightsOutcome {
  requestId?: string;
  /** When the answer arrived (ISO-8601). */
  observedAt: string;
  /** Requests sent (1, more only when Vonage answered an insight with a transient status). */
  requests: number;
  signals: { [S in SignalName]?: SignalOutcome<S> };
}

/** The activity of the Identity Insights road (activities/assess-insights.ts). */
export interface AssessActivities {
  assessInsights(input: AssessInsightsInput): Promise<AssessInsightsOutcome>;
}

// ---- validation ----

export interface ValidAssessment {
  msisdn: string;
  api: Api;
  purpose?: string;
  policy: CompiledPolicy;
}

/** What is wrong with an assessment input (number, api, purpose, policy), or undefined. */
export function assessInputProblem(input: Partial<AssessInput> | undefined): string | undefined {
  if (!input || typeof input !== 'object') return 'the assessment input is missing';
  if (!isE164(input.msisdn)) {
    const msisdn: unknown = input.msisdn;
    const shown = typeof msisdn === 'string' ? JSON.stringify(msisdn.slice(0, 4) + '…') : typeof msisdn;
    return `msisdn must be E.164: "+" then 5 to 15 digits, e.g. +447700900000 (got ${shown})`;
  }
  if (input.api !== undefined && !isApi(input.api)) {
    return `api must be one of ${API_NAMES.join(', ')} (got ${JSON.stringify(input.api)})`;
  }
  if (input.purpose !== undefined) {
    const problem = parsePurposeSetting(input.purpose).problem;
    if (problem) return problem;
  }
  if (input.profile !== undefined && !isProfile(input.profile)) {
    return `profile must be one of ${PROFILE_NAMES.join(', ')} (got ${JSON.stringify(input.profile)})`;
  }
  if (input.profile === 'camara' && input.api === 'identity-insights') {
    return 'the camara profile has no Identity Insights: assess over api camara (a CAMARA check per signal)';
  }
  return compiledPolicyProblem(input.policy);
}

/**
 * The purpose each signal's request sends on this road (`carrier`: none). On Identity Insights
 * the signals with the same purpose share one request.
 */
export function signalPurpose(
  signal: SignalName,
  api: Api,
  setting: string | undefined,
): Purpose | undefined {
  const operation = SIGNAL_OPERATIONS[signal];
  return resolvePurpose(setting, operation, signal === 'carrier' ? 'identity-insights' : api);
}

/**
 * The Identity Insights requests of an assessment: one per distinct purpose (one in every common
 * setup), the carrier insights (which take no purpose) riding along with the first.
 */
export function insightRequests(
  signals: readonly SignalName[],
  setting: string | undefined,
): Array<{ purpose?: Purpose; signals: SignalName[] }> {
  const groups: Array<{ purpose?: Purpose; signals: SignalName[] }> = [];
  for (const signal of signals) {
    if (signal === 'carrier') continue;
    const purpose = signalPurpose(signal, 'identity-insights', setting);
    const group = groups.find((g) => g.purpose === purpose);
    if (group) group.signals.push(signal);
    else groups.push({ ...(purpose !== undefined ? { purpose } : {}), signals: [signal] });
  }
  if (signals.includes('carrier')) {
    if (groups[0]) groups[0].signals.push('carrier');
    else groups.push({ signals: ['carrier'] });
  }
  return groups;
}

// ---- the CIBA road: a check's result as a signal ----

const unknownOf = (code: ErrorCode, message: string): SignalOutcome => ({ error: { code, message } });

/** The signal a check answered (its `ok` data), or why it is unknown. */
export function signalFromCheck(signal: SignalName, result: CheckResult): SignalOutcome {
  if (result.status !== 'ok') return { error: result.error };
  const missing = result.missing ?? [];
  switch (signal) {
    case 'sim_swap': {
      if (result.operation !== 'sim-swap-date') break;
      if (missing.includes('latestSimChange')) {
        return unknownOf('NOT_COVERED', 'The provider could not tell when the SIM last changed.');
      }
      return { value: { latestSimChange: result.data.latestSimChange ?? null } };
    }
    case 'roaming': {
      if (result.operation !== 'device-roaming') break;
      const { roaming, countryCode, countryName } = result.data;
      return {
        value: {
          roaming,
          ...(countryCode !== undefined ? { countryCode } : {}),
          ...(countryName !== undefined ? { countryName } : {}),
        },
      };
    }
    case 'connectivity':
      if (result.operation !== 'device-connectivity') break;
      return { value: { connectivityStatus: result.data.connectivityStatus } };
    case 'carrier': {
      if (result.operation !== 'carrier') break;
      const data = result.data;
      if (data.ported === undefined) {
        return unknownOf(
          'NOT_COVERED',
          data.valid
            ? 'The provider gave no original and current carrier to compare for this number.'
            : 'The provider says the number is not one carriers assign to users: no carrier to compare.',
        );
      }
      return {
        value: {
          changed: data.ported,
          ...(data.originalCarrier ? { originalCarrier: data.originalCarrier } : {}),
          ...(data.currentCarrier ? { currentCarrier: data.currentCarrier } : {}),
        },
      };
    }
  }
  return unknownOf('PROTOCOL_ERROR', `The ${result.operation} check does not answer ${signal}.`);
}

/** Readings for evaluation from evidence (known) and unknown signals. */
export function readingsOf(evidence: EvidenceMap): SignalReadings {
  const readings: SignalReadings = {};
  for (const signal of SIGNALS) {
    const e = evidence[signal];
    if (e)
      (readings as Record<string, SignalReading>)[signal] = {
        known: true,
        value: e.value,
        observedAt: e.observedAt,
      };
  }
  return readings;
}

// ---- assessment batches (`netcheck batch --assess`, startAssessBatch) ----

/** The batch option of an assessment batch: every item is assessed with this policy. */
export interface AssessBatchOption {
  policy: CompiledPolicy;
  /** The workers' operator profile when it is not `vonage` (see AssessInput.profile). */
  profile?: Profile;
}

/** What is wrong with a batch's `assess` option (with the batch's other options), or undefined. */
export function assessOptionProblem(options: Record<string, unknown>): string | undefined {
  const assess = options.assess;
  if (assess === undefined) return undefined;
  if (assess === null || typeof assess !== 'object' || Array.isArray(assess)) {
    return 'assess must be { policy } (a compiled policy: startAssessBatch or netcheck batch --assess makes it)';
  }
  const extra = Object.keys(assess).filter((key) => key !== 'policy' && key !== 'profile');
  if (extra.length > 0) return `assess has unknown field(s) ${extra.join(', ')} (it takes policy, profile)`;
  const profile = (assess as { profile?: unknown }).profile;
  if (profile !== undefined && !isProfile(profile)) {
    return `assess.profile must be one of ${PROFILE_NAMES.join(', ')} (got ${JSON.stringify(profile)})`;
  }
  const problem = compiledPolicyProblem((assess as { policy?: unknown }).policy);
  if (problem) return `assess.${problem}`;
  if (options.bulk === true)
    return 'assess applies to per-check batches only: a bulk batch runs checks, not assessments';
  return undefined;
}

/** What is wrong with one item of an assessment batch (its number, API, purpose), or undefined. */
export function assessItemProblem(operation: string, request: CheckRequest): string | undefined {
  if (operation !== ASSESS_OPERATION) {
    return `an assessment batch assesses numbers: its items take no operation (got ${JSON.stringify(operation)})`;
  }
  return assessInputProblem({
    msisdn: request.msisdn,
    ...(request.api !== undefined ? { api: request.api } : {}),
    ...(request.purpose !== undefined ? { purpose: request.purpose } : {}),
    policy: { format: 1, rules: [], default: 'allow' },
  });
}

/** What the batch workflow needs to start one assessment child. */
export type AssessChildStart = ChildStart<AssessInput>;

/** The networkAssess child of one queued item of an assessment batch. */
export function assessChildStart(
  check: { index: number; request: CheckRequest; subject?: string },
  batchId: string,
  workflowId: string,
  options: AssessBatchOption & CheckOptions,
): AssessChildStart {
  const { request, index } = check;
  const api = request.api ?? DEFAULT_API;
  const input: AssessInput = {
    msisdn: request.msisdn,
    api,
    ...(request.purpose !== undefined ? { purpose: request.purpose } : {}),
    policy: options.policy,
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    batchId,
    ...(check.subject ? { subject: check.subject } : {}),
    ...(options.fast !== undefined ? { fast: options.fast } : {}),
    ...(options.skipFirstWait !== undefined ? { skipFirstWait: options.skipFirstWait } : {}),
    ...(options.maxAuthorizations !== undefined ? { maxAuthorizations: options.maxAuthorizations } : {}),
  };
  const masked = maskMsisdn(request.msisdn);
  return {
    workflowId,
    input,
    searchAttributes: runSearchAttributes({
      operation: ASSESS_OPERATION,
      api,
      batchId,
      subject: check.subject,
    }),
    staticSummary: `assess · ${api} · ${masked} · batch ${batchId} #${index}`,
    staticDetails: [
      `**Assessment** of ${masked} over ${api}`,
      `**Policy:** ${options.policy.name ?? 'policy'} (${options.policy.rules.length} rules)`,
      ...(input.purpose !== undefined ? [`**Purpose:** ${input.purpose}`] : []),
      ...(check.subject ? [`**Subject:** ${check.subject}`] : []),
      `**Batch:** ${batchId} · item ${index}`,
    ].join('\n\n'),
  };
}
