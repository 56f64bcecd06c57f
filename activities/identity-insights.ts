/**
 * `identityInsights`: one check over Vonage's Identity Insights API. One POST to
 * {base}{identityInsightsPath} with the application JWT (minted here, per attempt) as Bearer and
 * `{phone_number, purpose?, insights}`; the insights asked for depend on the operation. The 200
 * body is checked with zod and turned into the CAMARA-shaped data of the operation, so a check
 * answers with the same fields over either API:
 *
 * | operation           | insights asked                                | data                                   |
 * |---------------------|-----------------------------------------------|----------------------------------------|
 * | sim-swap            | `sim_swap: {period: maxAge}`                  | `is_swapped` → `swapped`                |
 * | sim-swap-date       | `sim_swap: {}`                                | `latest_sim_swap_at` → `latestSimChange` |
 * | device-roaming      | `roaming: {}`                                 | `is_roaming` → `roaming`; `country_codes` → `countryName`; `countryCode` = the country's MCC when it has only one |
 * | device-connectivity | `reachability: {}`                            | `connectivity`/`is_reachable` → `connectivityStatus` |
 * | carrier             | `format`, `original_carrier`, `current_carrier` | `CarrierData`                         |
 *
 * Each insight carries its own `status.code`; insights-errors.ts maps the failing ones to netcheck
 * codes. A transient one (SUPPLIER_ERROR, INTERNAL_ERROR) next to insights that answered is asked
 * again, alone, within this activity (INSIGHT_REASK): what answered is kept, and when the budget
 * runs out the answer is partial (`missing`, `missingCodes`) unless the insight the operation
 * cannot answer without is the one still missing. Every field absent from `data` is named in
 * `missing`, with Vonage's status code for it in `missingCodes`. Timestamps without a zone are
 * read as UTC. Nothing returned or thrown carries the JWT or the phone number.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import {
  ERROR_CODES,
  errorCodeOf,
  isPurpose,
  MAX_AGE_DEFAULT,
  maskMsisdn,
  netcheckFailure,
  PURPOSES,
  type ErrorCode,
} from '../domain/index.js';
import type {
  CarrierData,
  CarrierNetwork,
  CheckData,
  ConnectivityData,
  InsightsCallInput,
  InsightsOutcome,
  Operation,
  RoamingData,
  SimSwapDateData,
} from '../domain/index.js';
import type { VonageClient } from './client.js';
import { classifyHttpError, protocolError, sanitizeText, type Endpoint } from './errors.js';
import { insightStatusVerdict, type InsightName } from './insights-errors.js';
import {
  requireCorrelationId,
  requireMaxAge,
  requireMsisdn,
  requireObject,
  requireOperation,
} from './input.js';
import { activitySignal } from './context.js';
import { logAnswer } from './log.js';
import { mccOfCountry } from './mcc.js';
import { describeIssues, utcIfZoneless } from './responses.js';

const ACTIVITY = 'identityInsights';

// ---- the 200 body (only the fields netcheck uses; anything else is dropped) ----

const Status = z.object({
  code: z.string().trim().min(1).max(100),
  message: z.string().nullish(),
});
const shortText = (max: number) => z.string().trim().max(max).nullish();

const SimSwapInsight = z.object({
  status: Status,
  is_swapped: z.boolean().nullish(),
  /** RFC 3339; without a zone it is read as UTC. */
  latest_sim_swap_at: z.iso.datetime({ offset: true, local: true }).transform(utcIfZoneless).nullish(),
});
const RoamingInsight = z.object({
  status: Status,
  is_roaming: z.boolean().nullish(),
  /** ISO 3166-1 alpha-2 codes of the countries the device is roaming in. */
  country_codes: z.array(z.string().trim().min(1).max(64)).max(50).nullish(),
});
const ReachabilityInsight = z.object({
  status: Status,
  is_reachable: z.boolean().nullish(),
  /** `DATA` and/or `SMS` (Vonage's SDKs show either letter case). */
  connectivity: z.array(z.string().trim().max(20)).max(10).nullish(),
});
const FormatInsight = z.object({
  status: Status,
  country_code: shortText(8),
  country_name: shortText(100),
  is_format_valid: z.boolean().nullish(),
});
const CarrierInsight = z.object({
  status: Status,
  name: shortText(200),
  network_type: shortText(50),
  country_code: shortText(8),
  network_code: shortText(10),
});

export const IdentityInsightsResponse = z.object({
  /** Kept only when it looks like an id: it goes into the CheckResult for support cases. */
  request_id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/)
    .optional()
    .catch(undefined),
  insights: z.object({
    sim_swap: SimSwapInsight.optional(),
    roaming: RoamingInsight.optional(),
    reachability: ReachabilityInsight.optional(),
    format: FormatInsight.optional(),
    original_carrier: CarrierInsight.optional(),
    current_carrier: CarrierInsight.optional(),
  }),
});

type Insights = z.output<typeof IdentityInsightsResponse>['insights'];
type AnyInsight = NonNullable<Insights[InsightName]>;

/**
 * A transient per-insight status next to insights that answered: ask again for the missing ones
 * only, at most `times` more requests, `initialMs` doubling up to `maxIntervalMs` apart (or later,
 * as a 429's Retry-After says), none starting after `budgetMs` from the activity's start (well
 * inside its 30-s start-to-close timeout).
 */
export const INSIGHT_REASK = { times: 3, initialMs: 500, maxIntervalMs: 4_000, budgetMs: 15_000 } as const;

type InsightParams = Partial<Record<InsightName, Record<string, unknown>>>;

/** The `insights` object of the request, per operation. */
function insightsRequest(operation: Operation, maxAge: number): InsightParams {
  switch (operation) {
    case 'sim-swap':
      // period is always sent: it is the check's window (CAMARA's maxAge).
      return { sim_swap: { period: maxAge } };
    case 'sim-swap-date':
      return { sim_swap: {} };
    case 'device-roaming':
      return { roaming: {} };
    case 'device-connectivity':
      return { reachability: {} };
    case 'carrier':
      return { format: {}, original_carrier: {}, current_carrier: {} };
  }
}

/** Whether an insight's status is transient (retried): Vonage may answer it on another request. */
function isTransient(insight: AnyInsight, name: InsightName, purpose: string | undefined): boolean {
  const verdict = insightStatusVerdict(insight.status.code, name, purpose);
  return verdict !== undefined && ERROR_CODES[verdict.code].retryable;
}

/** Who asks Identity Insights, for whom, and why: one exchange's fixed part. */
export interface InsightsExchange {
  client: VonageClient;
  msisdn: string;
  purpose: string | undefined;
  correlationId: string;
}

/** What an exchange ends with: the insights held, and what provider text must not show. */
export interface InsightsHeld {
  endpoint: Endpoint;
  requestId: string | undefined;
  /** Every insight asked for, each as last answered (a re-ask's answer replaces a transient one). */
  insights: Insights;
  /** The number in its forms and every JWT sent: redacted from provider text. */
  secrets: string[];
  /** Requests sent: the first and its re-asks. */
  requests: number;
  /** When the first answer came (the signals' time). */
  answeredAt: string;
  /** The insights still answered with a transient status. */
  transient: InsightName[];
}

/**
 * One Identity Insights request for `wanted`, then — when some insights answered and others
 * failed transiently (SUPPLIER_ERROR, INTERNAL_ERROR) — re-asks for those alone, keeping what
 * answered, within INSIGHT_REASK. With nothing answered there is nothing to keep: it returns at
 * once, and the caller's failure lets Temporal's retry ask again for everything. A failing HTTP
 * answer to the first request is thrown; to a re-ask, a retryable one uses up that re-ask.
 * `identityInsights` (one check) and `assessInsights` (an assessment) both ask through it.
 */
export async function exchangeInsights(x: InsightsExchange, wanted: InsightParams): Promise<InsightsHeld> {
  const started = Date.now();
  const path = x.client.identityInsightsPath;
  // Provider text may echo the number: redact it like a credential (and every JWT sent).
  const secrets = [x.msisdn, x.msisdn.slice(1)];
  let requests = 0;

  /** One request for these insights: the 200 body checked, any other answer thrown as its failure. */
  async function ask(requested: InsightParams) {
    const sent = Date.now();
    requests++;
    const {
      endpoint,
      answer,
      secrets: sentSecrets,
    } = await x.client.postJsonWithAppJwt(
      'identity-insights',
      path,
      {
        phone_number: x.msisdn,
        ...(x.purpose !== undefined ? { purpose: x.purpose } : {}),
        insights: requested,
      },
      x.correlationId,
    );
    logAnswer(endpoint, answer.status, {
      msisdn: x.msisdn,
      correlationId: x.correlationId,
      durationMs: Date.now() - sent,
    });
    secrets.push(...sentSecrets);
    if (answer.status !== 200) throw classifyHttpError(endpoint, answer, secrets);
    const parsed = IdentityInsightsResponse.safeParse(answer.body);
    if (!parsed.success) throw protocolError(endpoint, answer.status, describeIssues(parsed.error));
    return { endpoint, requestId: parsed.data.request_id, insights: parsed.data.insights };
  }

  const names = Object.keys(wanted) as InsightName[];
  const first = await ask(wanted);
  const answeredAt = new Date().toISOString();
  const insights: Insights = { ...first.insights };
  const held = insights as Partial<Record<InsightName, AnyInsight>>;
  const stillTransient = () =>
    names.filter((name) => held[name] !== undefined && isTransient(held[name], name, x.purpose));

  let transient = stillTransient();
  if (transient.length > 0 && transient.length < names.length) {
    const signal = activitySignal();
    let retryAfterMs: number | undefined;
    for (let n = 0; n < INSIGHT_REASK.times && transient.length > 0; n++) {
      const backoff = Math.min(INSIGHT_REASK.initialMs * 2 ** n, INSIGHT_REASK.maxIntervalMs);
      const delay = Math.max(backoff, retryAfterMs ?? 0);
      if (Date.now() + delay - started > INSIGHT_REASK.budgetMs) break;
      await sleep(delay, undefined, signal ? { signal } : {});
      retryAfterMs = undefined;
      try {
        const again = await ask(Object.fromEntries(transient.map((name) => [name, wanted[name]])));
        const got = again.insights as Partial<Record<InsightName, AnyInsight>>;
        for (const name of transient) if (got[name] !== undefined) held[name] = got[name];
      } catch (err) {
        // A transient failure of the whole request uses up one re-ask; any other is the answer.
        const code = errorCodeOf(err);
        if (code === undefined || !ERROR_CODES[code].retryable) throw err;
        const hinted: unknown = err instanceof ApplicationFailure ? err.nextRetryDelay : undefined;
        retryAfterMs = typeof hinted === 'number' ? hinted : undefined;
      }
      transient = stillTransient();
    }
  }
  return {
    endpoint: first.endpoint,
    requestId: first.requestId,
    insights,
    secrets,
    requests,
    answeredAt,
    transient,
  };
}

/** Everything the mapping of one answer needs. */
export interface AnswerContext {
  endpoint: Endpoint;
  requestId: string | undefined;
  purpose: string | undefined;
  /** Strings to redact from provider text (the JWT, the number in its forms). */
  secrets: string[];
}

/** Provider text made safe: one line, bounded, no credential, no phone number. */
export function safeText(text: string, secrets: readonly string[]): string {
  return sanitizeText(text, secrets).replace(/\+?\d{6,15}/g, (digits) =>
    maskMsisdn(digits.startsWith('+') ? digits : `+${digits}`),
  );
}

/**
 * What a failed insight status means — its error code, the provider's code made safe, and the
 * message that says what happened and what to do — or undefined when it answered (OK,
 * PARTIAL_SUCCESS). A check fails with it; an assessment makes the signal unknown with it.
 */
export function insightStatusFailure(
  ctx: AnswerContext,
  name: InsightName,
  insight: AnyInsight,
): { code: ErrorCode; providerCode: string; message: string } | undefined {
  const verdict = insightStatusVerdict(insight.status.code, name, ctx.purpose);
  if (!verdict) return undefined;
  const providerCode = safeText(insight.status.code, ctx.secrets);
  const text = insight.status.message ? `: "${safeText(insight.status.message, ctx.secrets)}"` : '';
  const id = ctx.requestId ? ` (request_id ${ctx.requestId})` : '';
  return {
    code: verdict.code,
    providerCode,
    message: `Vonage Identity Insights (POST ${ctx.endpoint.path}) answered ${name} ${providerCode}${text}${id}. ${verdict.advice}`,
  };
}

function insightFailure(ctx: AnswerContext, name: InsightName, insight: AnyInsight): Error | undefined {
  const failure = insightStatusFailure(ctx, name, insight);
  if (!failure) return undefined;
  const code = failure.providerCode;
  return netcheckFailure(failure.code, failure.message, {
    details: {
      endpoint: ctx.endpoint.path,
      httpStatus: 200,
      insight: name,
      providerCode: code,
      requestId: ctx.requestId,
    },
  });
}

/** The requested insight, which must be in the answer. */
function insightOf<N extends InsightName>(ctx: AnswerContext, insights: Insights, name: N) {
  const insight = insights[name];
  if (!insight) throw protocolError(ctx.endpoint, 200, `insights.${name}: is missing`);
  return insight as NonNullable<Insights[N]>;
}

/** Throws the insight's failure unless it answered; tells whether the answer is partial. */
function answered(ctx: AnswerContext, name: InsightName, insight: AnyInsight): { partial: boolean } {
  const failure = insightFailure(ctx, name, insight);
  if (failure) throw failure;
  return { partial: insight.status.code.toUpperCase() === 'PARTIAL_SUCCESS' };
}

/**
 * A field the operation cannot answer without is absent. With PARTIAL_SUCCESS Vonage has said it
 * could not get it for this number (final: NOT_COVERED); with OK the answer breaks the API.
 */
function essentialMissing(ctx: AnswerContext, name: InsightName, field: string, partial: boolean): Error {
  if (!partial) return protocolError(ctx.endpoint, 200, `insights.${name}.${field}: is missing`);
  const id = ctx.requestId ? ` (request_id ${ctx.requestId})` : '';
  return netcheckFailure(
    'NOT_COVERED',
    `Vonage Identity Insights (POST ${ctx.endpoint.path}) answered ${name} PARTIAL_SUCCESS without ${field}${id}: it cannot tell for this number.`,
    { details: { endpoint: ctx.endpoint.path, httpStatus: 200, insight: name, requestId: ctx.requestId } },
  );
}

interface Mapped {
  data: CheckData;
  /** Each field absent from `data` (in order), with Vonage's status code that left it out. */
  missing: Record<string, string>;
}

/** The insight's status code as it may appear in a result: provider text made safe. */
function statusCodeOf(ctx: AnswerContext, insight: AnyInsight): string {
  return safeText(insight.status.code, ctx.secrets);
}

function simSwap(ctx: AnswerContext, insights: Insights): Mapped {
  const insight = insightOf(ctx, insights, 'sim_swap');
  const { partial } = answered(ctx, 'sim_swap', insight);
  if (typeof insight.is_swapped !== 'boolean') throw essentialMissing(ctx, 'sim_swap', 'is_swapped', partial);
  return { data: { swapped: insight.is_swapped }, missing: {} };
}

function simSwapDate(ctx: AnswerContext, insights: Insights): Mapped {
  const insight = insightOf(ctx, insights, 'sim_swap');
  const { partial } = answered(ctx, 'sim_swap', insight);
  const latest = insight.latest_sim_swap_at;
  const data: SimSwapDateData = typeof latest === 'string' ? { latestSimChange: latest } : {};
  // OK without a date: no SIM change known, as CAMARA answers. PARTIAL_SUCCESS: Vonage could not tell.
  return {
    data,
    missing: latest == null && partial ? { latestSimChange: statusCodeOf(ctx, insight) } : {},
  };
}

async function roaming(ctx: AnswerContext, insights: Insights): Promise<Mapped> {
  const insight = insightOf(ctx, insights, 'roaming');
  const { partial } = answered(ctx, 'roaming', insight);
  if (typeof insight.is_roaming !== 'boolean') throw essentialMissing(ctx, 'roaming', 'is_roaming', partial);
  const data: RoamingData = { roaming: insight.is_roaming };
  const missing: Record<string, string> = {};
  if (insight.is_roaming) {
    const countries = insight.country_codes;
    if (countries) {
      const mcc = countries.length === 1 ? await mccOfCountry(countries[0] ?? '') : undefined;
      if (mcc !== undefined) data.countryCode = mcc;
      data.countryName = countries;
    } else if (partial) {
      missing.countryName = statusCodeOf(ctx, insight);
    }
  }
  return { data, missing };
}

type ReachabilityAnswer = z.output<typeof ReachabilityInsight>;
type CarrierAnswer = z.output<typeof CarrierInsight>;

/**
 * The connectivity a reachability insight states (the check's and the assessment's one reading):
 * not reachable, else DATA before SMS; or the field it lacks to say.
 */
export function connectivityOf(
  insight: ReachabilityAnswer,
): { status: ConnectivityData['connectivityStatus'] } | { missing: 'connectivity' | 'is_reachable' } {
  const kinds = new Set((insight.connectivity ?? []).map((kind) => kind.toUpperCase()));
  if (insight.is_reachable === false) return { status: 'NOT_CONNECTED' };
  if (kinds.has('DATA')) return { status: 'CONNECTED_DATA' };
  if (kinds.has('SMS')) return { status: 'CONNECTED_SMS' };
  return { missing: insight.is_reachable === true ? 'connectivity' : 'is_reachable' };
}

function connectivity(ctx: AnswerContext, insights: Insights): Mapped {
  const insight = insightOf(ctx, insights, 'reachability');
  const { partial } = answered(ctx, 'reachability', insight);
  const read = connectivityOf(insight);
  if ('missing' in read) throw essentialMissing(ctx, 'reachability', read.missing, partial);
  return { data: { connectivityStatus: read.status }, missing: {} };
}

/**
 * Verdicts after which a carrier insight is simply absent from an otherwise good answer: Vonage
 * has no carrier data for this number, or (UPSTREAM_UNAVAILABLE) it still failed transiently
 * when the activity's re-asks ran out.
 */
const CARRIER_ABSENT = new Set(['UNKNOWN_NUMBER', 'NOT_COVERED', 'INVALID_INPUT', 'UPSTREAM_UNAVAILABLE']);

const NETWORK_FIELDS = [
  ['name', 'name'],
  ['network_type', 'networkType'],
  ['network_code', 'networkCode'],
  ['country_code', 'countryCode'],
] as const;

/** A carrier insight's network, the fields it has; `lacking` hears of each one it has not. */
export function carrierNetworkOf(
  insight: CarrierAnswer,
  lacking?: (field: (typeof NETWORK_FIELDS)[number][1]) => void,
): CarrierNetwork {
  const network: CarrierNetwork = {};
  for (const [wire, field] of NETWORK_FIELDS) {
    const value = insight[wire];
    if (value) network[field] = value;
    else lacking?.(field);
  }
  return network;
}

/** Whether the carrier changed: by network code, else by name; undefined when neither pair is known. */
export function carrierChanged(from: CarrierNetwork, to: CarrierNetwork): boolean | undefined {
  if (from.networkCode && to.networkCode) return from.networkCode !== to.networkCode;
  if (from.name && to.name) return from.name !== to.name;
  return undefined;
}

function carrier(ctx: AnswerContext, insights: Insights): Mapped {
  const format = insightOf(ctx, insights, 'format');
  const carriers = [
    ['original_carrier', 'originalCarrier', insightOf(ctx, insights, 'original_carrier')],
    ['current_carrier', 'currentCarrier', insightOf(ctx, insights, 'current_carrier')],
  ] as const;

  // A failure that is not about this number (configuration, protocol; a transient one of format,
  // which `carrier` cannot answer without) wins, whichever insight had it. A carrier insight
  // still failing transiently after the re-asks is only missing.
  const all: (readonly [InsightName, AnyInsight])[] = [
    ['format', format],
    ...carriers.map(([name, , insight]) => [name, insight] as const),
  ];
  for (const [name, insight] of all) {
    const verdict = insightStatusVerdict(insight.status.code, name, ctx.purpose);
    const absent =
      verdict !== undefined &&
      CARRIER_ABSENT.has(verdict.code) &&
      !(name === 'format' && verdict.code === 'UPSTREAM_UNAVAILABLE');
    if (verdict && !absent) answered(ctx, name, insight);
  }

  // The number's format is the question `carrier` answers first: an invalid number is an answer.
  if (format.status.code.toUpperCase() === 'INVALID_NUMBER_FORMAT' || format.is_format_valid === false) {
    const data: CarrierData = { valid: false };
    if (format.country_code) data.countryCode = format.country_code;
    if (format.country_name) data.countryName = format.country_name;
    return { data, missing: {} };
  }
  const { partial } = answered(ctx, 'format', format);
  if (typeof format.is_format_valid !== 'boolean') {
    throw essentialMissing(ctx, 'format', 'is_format_valid', partial);
  }
  const data: CarrierData = { valid: true };
  const missing: Record<string, string> = {};
  if (format.country_code) data.countryCode = format.country_code;
  else if (partial) missing.countryCode = statusCodeOf(ctx, format);
  if (format.country_name) data.countryName = format.country_name;
  else if (partial) missing.countryName = statusCodeOf(ctx, format);

  for (const [name, key, insight] of carriers) {
    if (insightStatusVerdict(insight.status.code, name, ctx.purpose)) {
      // NOT_FOUND, NO_COVERAGE, …: no carrier data for this number; SUPPLIER_ERROR, …: not this time.
      missing[key] = statusCodeOf(ctx, insight);
      continue;
    }
    const isPartial = insight.status.code.toUpperCase() === 'PARTIAL_SUCCESS';
    data[key] = carrierNetworkOf(
      insight,
      isPartial ? (field) => (missing[`${key}.${field}`] = statusCodeOf(ctx, insight)) : undefined,
    );
  }
  const { originalCarrier: original, currentCarrier: current } = data;
  const ported = original && current ? carrierChanged(original, current) : undefined;
  if (ported !== undefined) data.ported = ported;
  return { data, missing };
}

export function makeIdentityInsights(client: VonageClient) {
  return async function identityInsights(input: InsightsCallInput): Promise<InsightsOutcome> {
    requireObject(ACTIVITY, input);
    const operation = requireOperation(ACTIVITY, input.operation);
    const msisdn = requireMsisdn(ACTIVITY, input.msisdn);
    const correlationId = requireCorrelationId(ACTIVITY, input.correlationId);
    if (input.purpose !== undefined && !isPurpose(input.purpose)) {
      throw netcheckFailure('INVALID_INPUT', `${ACTIVITY}: purpose must be one of ${PURPOSES.join(', ')}`);
    }
    const purpose = input.purpose;
    const maxAge =
      operation === 'sim-swap' ? requireMaxAge(ACTIVITY, input.maxAge, MAX_AGE_DEFAULT) : MAX_AGE_DEFAULT;
    const held = await exchangeInsights(
      { client, msisdn, purpose, correlationId },
      insightsRequest(operation, maxAge),
    );
    const insights = held.insights;

    const requestId = held.requestId;
    const ctx: AnswerContext = { endpoint: held.endpoint, requestId, purpose, secrets: held.secrets };
    let mapped: Mapped;
    switch (operation) {
      case 'sim-swap':
        mapped = simSwap(ctx, insights);
        break;
      case 'sim-swap-date':
        mapped = simSwapDate(ctx, insights);
        break;
      case 'device-roaming':
        mapped = await roaming(ctx, insights);
        break;
      case 'device-connectivity':
        mapped = connectivity(ctx, insights);
        break;
      case 'carrier':
        mapped = carrier(ctx, insights);
        break;
    }
    const absent = Object.keys(mapped.missing);
    return {
      data: mapped.data,
      ...(requestId !== undefined ? { requestId } : {}),
      ...(absent.length > 0 ? { missing: absent, missingCodes: mapped.missing } : {}),
    };
  };
}
