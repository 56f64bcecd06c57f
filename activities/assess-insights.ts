/**
 * `assessInsights`: the Identity Insights road of an assessment. One POST with every insight the
 * policy's signals need (Identity Insights answers several insights in one request, each with its
 * own `status`), signed with the application JWT minted here, as `identityInsights` does for one
 * check. Each signal comes back as its value or as unknown with its netcheck error code: one
 * insight failing never hides the others, and nothing is guessed.
 *
 * | signal       | insights                              | value                                        |
 * |--------------|---------------------------------------|----------------------------------------------|
 * | sim_swap     | `sim_swap`                            | `latest_sim_swap_at` → `latestSimChange` (null: none known) |
 * | roaming      | `roaming`                             | `is_roaming`, `country_codes` (MCC when one country) |
 * | connectivity | `reachability`                        | `connectivityStatus`, as the check maps it   |
 * | carrier      | `original_carrier`, `current_carrier` | `changed` (network code, else name), both networks |
 *
 * An insight answered with a transient status (SUPPLIER_ERROR, INTERNAL_ERROR) next to others that
 * answered is asked again alone (INSIGHT_REASK, as `identityInsights` does); still failing, its
 * signal is unknown (UPSTREAM_UNAVAILABLE). When every insight failed transiently, the activity
 * fails and Temporal retries it. A failing HTTP answer fails the activity as for a check.
 * Nothing returned or thrown carries the JWT or the phone number.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { AssessInsightsInput, AssessInsightsOutcome, SignalOutcome } from '../domain/assess.js';
import { SIGNAL_INSIGHTS } from '../domain/assess.js';
import { ERROR_CODES, errorCodeOf, netcheckFailure, type ErrorCode } from '../domain/errors.js';
import { maskMsisdn } from '../domain/msisdn.js';
import { isPurpose, PURPOSES } from '../domain/operations.js';
import { isSignal, SIGNALS, type SignalName, type SignalValues } from '../domain/policy.js';
import type { CarrierNetwork, ConnectivityData } from '../domain/types.js';
import type { VonageClient } from './client.js';
import { activitySignal } from './context.js';
import { classifyHttpError, protocolError, sanitizeText, type Endpoint } from './errors.js';
import { IdentityInsightsResponse, INSIGHT_REASK } from './identity-insights.js';
import { insightStatusVerdict, type InsightName } from './insights-errors.js';
import { requireCorrelationId, requireMsisdn, requireObject } from './input.js';
import { logAnswer } from './log.js';
import { mccOfCountry } from './mcc.js';
import { describeIssues } from './responses.js';

const ACTIVITY = 'assessInsights';

type Insights = ReturnType<typeof IdentityInsightsResponse.parse>['insights'];
type AnyInsight = NonNullable<Insights[InsightName]>;
type Held = Insights;
/** The insights held, by name. */
const byName = (held: Held) => held as Partial<Record<InsightName, AnyInsight>>;

interface Context {
  endpoint: Endpoint;
  requestId: string | undefined;
  purpose: string | undefined;
  /** The JWTs sent and the number in its forms: redacted from provider text. */
  secrets: string[];
}

function safeText(text: string, secrets: readonly string[]): string {
  return sanitizeText(text, secrets).replace(/\+?\d{6,15}/g, (digits) =>
    maskMsisdn(digits.startsWith('+') ? digits : `+${digits}`),
  );
}

const unknown = (code: ErrorCode, message: string): SignalOutcome => ({ error: { code, message } });

/** The insight's failure as an unknown signal, or undefined when it answered (OK, PARTIAL_SUCCESS). */
function failed(ctx: Context, name: InsightName, insight: AnyInsight | undefined): SignalOutcome | undefined {
  if (!insight) {
    return unknown(
      'PROTOCOL_ERROR',
      `Vonage Identity Insights (POST ${ctx.endpoint.path}) answered without the ${name} insight it was asked for.`,
    );
  }
  const verdict = insightStatusVerdict(insight.status.code, name, ctx.purpose);
  if (!verdict) return undefined;
  const code = safeText(insight.status.code, ctx.secrets);
  const text = insight.status.message ? `: "${safeText(insight.status.message, ctx.secrets)}"` : '';
  const id = ctx.requestId ? ` (request_id ${ctx.requestId})` : '';
  return unknown(
    verdict.code,
    `Vonage Identity Insights (POST ${ctx.endpoint.path}) answered ${name} ${code}${text}${id}. ${verdict.advice}`,
  );
}

const partial = (insight: AnyInsight) => insight.status.code.toUpperCase() === 'PARTIAL_SUCCESS';

/** A field the signal cannot do without is absent: PARTIAL_SUCCESS says Vonage could not tell. */
function fieldMissing(ctx: Context, name: InsightName, field: string, insight: AnyInsight): SignalOutcome {
  const id = ctx.requestId ? ` (request_id ${ctx.requestId})` : '';
  return partial(insight)
    ? unknown(
        'NOT_COVERED',
        `Vonage Identity Insights answered ${name} PARTIAL_SUCCESS without ${field}${id}.`,
      )
    : unknown('PROTOCOL_ERROR', `Vonage Identity Insights answered ${name} OK without ${field}${id}.`);
}

async function mapSignal(ctx: Context, signal: SignalName, held: Held): Promise<SignalOutcome> {
  switch (signal) {
    case 'sim_swap': {
      const insight = held.sim_swap;
      const failure = failed(ctx, 'sim_swap', insight);
      if (failure || !insight) return failure!;
      const latest = insight.latest_sim_swap_at;
      // OK without a date: no SIM change known (as CAMARA answers). PARTIAL_SUCCESS: cannot tell.
      if (latest == null && partial(insight))
        return fieldMissing(ctx, 'sim_swap', 'latest_sim_swap_at', insight);
      const value: SignalValues['sim_swap'] = { latestSimChange: latest ?? null };
      return { value };
    }
    case 'roaming': {
      const insight = held.roaming;
      const failure = failed(ctx, 'roaming', insight);
      if (failure || !insight) return failure!;
      if (typeof insight.is_roaming !== 'boolean') return fieldMissing(ctx, 'roaming', 'is_roaming', insight);
      const value: SignalValues['roaming'] = { roaming: insight.is_roaming };
      const countries = insight.country_codes;
      if (insight.is_roaming && countries) {
        const mcc = countries.length === 1 ? await mccOfCountry(countries[0] ?? '') : undefined;
        if (mcc !== undefined) value.countryCode = mcc;
        value.countryName = countries;
      }
      return { value };
    }
    case 'connectivity': {
      const insight = held.reachability;
      const failure = failed(ctx, 'reachability', insight);
      if (failure || !insight) return failure!;
      const kinds = new Set((insight.connectivity ?? []).map((kind) => kind.toUpperCase()));
      let status: ConnectivityData['connectivityStatus'];
      if (insight.is_reachable === false) status = 'NOT_CONNECTED';
      else if (kinds.has('DATA')) status = 'CONNECTED_DATA';
      else if (kinds.has('SMS')) status = 'CONNECTED_SMS';
      else {
        const field = insight.is_reachable === true ? 'connectivity' : 'is_reachable';
        return fieldMissing(ctx, 'reachability', field, insight);
      }
      return { value: { connectivityStatus: status } };
    }
    case 'carrier': {
      const original = held.original_carrier;
      const current = held.current_carrier;
      const failure = failed(ctx, 'original_carrier', original) ?? failed(ctx, 'current_carrier', current);
      if (failure || !original || !current) return failure!;
      const network = (insight: AnyInsight): CarrierNetwork => {
        const c = insight as NonNullable<Insights['current_carrier']>;
        return {
          ...(c.name ? { name: c.name } : {}),
          ...(c.network_type ? { networkType: c.network_type } : {}),
          ...(c.network_code ? { networkCode: c.network_code } : {}),
          ...(c.country_code ? { countryCode: c.country_code } : {}),
        };
      };
      const from = network(original);
      const to = network(current);
      let changed: boolean;
      if (from.networkCode && to.networkCode) changed = from.networkCode !== to.networkCode;
      else if (from.name && to.name) changed = from.name !== to.name;
      else {
        const id = ctx.requestId ? ` (request_id ${ctx.requestId})` : '';
        return unknown(
          'NOT_COVERED',
          `Vonage Identity Insights gave no network code or name to compare the original and current carrier${id}.`,
        );
      }
      return { value: { changed, originalCarrier: from, currentCarrier: to } };
    }
  }
}

/** The transient failure of an insight (retried), or undefined. */
function transient(name: InsightName, insight: AnyInsight | undefined, purpose: string | undefined): boolean {
  if (!insight) return false;
  const verdict = insightStatusVerdict(insight.status.code, name, purpose);
  return verdict !== undefined && ERROR_CODES[verdict.code].retryable;
}

function requireSignals(value: unknown): SignalName[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every(isSignal)) {
    throw netcheckFailure(
      'INVALID_INPUT',
      `${ACTIVITY}: signals must be one or more of ${SIGNALS.join(', ')}`,
    );
  }
  return SIGNALS.filter((signal) => value.includes(signal));
}

export function makeAssessInsights(client: VonageClient) {
  const path = client.identityInsightsPath;

  return async function assessInsights(input: AssessInsightsInput): Promise<AssessInsightsOutcome> {
    requireObject(ACTIVITY, input);
    const msisdn = requireMsisdn(ACTIVITY, input.msisdn);
    const correlationId = requireCorrelationId(ACTIVITY, input.correlationId);
    const signals = requireSignals(input.signals);
    if (input.purpose !== undefined && !isPurpose(input.purpose)) {
      throw netcheckFailure('INVALID_INPUT', `${ACTIVITY}: purpose must be one of ${PURPOSES.join(', ')}`);
    }
    const purpose = input.purpose;
    const started = Date.now();
    const secrets = [msisdn, msisdn.slice(1)];
    let requests = 0;

    const names = [
      ...new Set(signals.flatMap((signal) => SIGNAL_INSIGHTS[signal] as readonly InsightName[])),
    ];
    const wanted = Object.fromEntries(names.map((name) => [name, {}]));

    async function ask(requested: Record<string, object>) {
      const sent = Date.now();
      requests++;
      const {
        endpoint,
        answer,
        secrets: sentSecrets,
      } = await client.postJsonWithAppJwt(
        'identity-insights',
        path,
        { phone_number: msisdn, ...(purpose !== undefined ? { purpose } : {}), insights: requested },
        correlationId,
      );
      logAnswer(endpoint, answer.status, { msisdn, correlationId, durationMs: Date.now() - sent });
      secrets.push(...sentSecrets);
      if (answer.status !== 200) throw classifyHttpError(endpoint, answer, secrets);
      const parsed = IdentityInsightsResponse.safeParse(answer.body);
      if (!parsed.success) throw protocolError(endpoint, answer.status, describeIssues(parsed.error));
      return { endpoint, requestId: parsed.data.request_id, insights: parsed.data.insights };
    }

    const first = await ask(wanted);
    // The signals' time: `sim_swap.within` counts back from the answer.
    const observedAt = new Date().toISOString();
    const held: Held = { ...first.insights };
    const stillTransient = () => names.filter((name) => transient(name, byName(held)[name], purpose));
    let again = stillTransient();
    if (again.length === names.length) {
      // Nothing answered: nothing to keep. The activity fails and Temporal asks again for everything.
      const ctx: Context = { endpoint: first.endpoint, requestId: first.requestId, purpose, secrets };
      const outcome = failed(ctx, again[0]!, byName(held)[again[0]!]);
      throw netcheckFailure(
        outcome?.error?.code ?? 'UPSTREAM_UNAVAILABLE',
        outcome?.error?.message ?? 'no insight answered',
      );
    }
    const signal = activitySignal();
    let retryAfterMs: number | undefined;
    for (let n = 0; n < INSIGHT_REASK.times && again.length > 0; n++) {
      const backoff = Math.min(INSIGHT_REASK.initialMs * 2 ** n, INSIGHT_REASK.maxIntervalMs);
      const delay = Math.max(backoff, retryAfterMs ?? 0);
      if (Date.now() + delay - started > INSIGHT_REASK.budgetMs) break;
      await sleep(delay, undefined, signal ? { signal } : {});
      retryAfterMs = undefined;
      try {
        const answer = await ask(Object.fromEntries(again.map((name) => [name, {}])));
        const got = byName(answer.insights);
        for (const name of again) if (got[name] !== undefined) byName(held)[name] = got[name];
      } catch (err) {
        // A transient failure of the whole request uses up one re-ask; any other is the answer.
        const code = errorCodeOf(err);
        if (code === undefined || !ERROR_CODES[code].retryable) throw err;
        const hinted: unknown = err instanceof ApplicationFailure ? err.nextRetryDelay : undefined;
        retryAfterMs = typeof hinted === 'number' ? hinted : undefined;
      }
      again = stillTransient();
    }

    const ctx: Context = { endpoint: first.endpoint, requestId: first.requestId, purpose, secrets };
    const out: AssessInsightsOutcome['signals'] = {};
    for (const name of signals) {
      (out as Record<SignalName, SignalOutcome>)[name] = await mapSignal(ctx, name, held);
    }
    return {
      ...(first.requestId !== undefined ? { requestId: first.requestId } : {}),
      observedAt,
      requests,
      signals: out,
    };
  };
}
