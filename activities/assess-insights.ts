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
import type { AssessInsightsInput, AssessInsightsOutcome, SignalOutcome } from '../domain/assess.js';
import { SIGNAL_INSIGHTS } from '../domain/assess.js';
import { netcheckFailure, type ErrorCode } from '../domain/errors.js';
import { isPurpose, PURPOSES } from '../domain/operations.js';
import { isSignal, SIGNALS, type SignalName, type SignalValues } from '../domain/policy.js';
import type { VonageClient } from './client.js';
import {
  carrierChanged,
  carrierNetworkOf,
  connectivityOf,
  exchangeInsights,
  IdentityInsightsResponse,
  insightStatusFailure,
  type AnswerContext as Context,
} from './identity-insights.js';
import type { InsightName } from './insights-errors.js';
import { requireCorrelationId, requireMsisdn, requireObject } from './input.js';
import { mccOfCountry } from './mcc.js';

const ACTIVITY = 'assessInsights';

type Insights = ReturnType<typeof IdentityInsightsResponse.parse>['insights'];
type AnyInsight = NonNullable<Insights[InsightName]>;
type Held = Insights;
/** The insights held, by name. */
const byName = (held: Held) => held as Partial<Record<InsightName, AnyInsight>>;

const unknown = (code: ErrorCode, message: string): SignalOutcome => ({ error: { code, message } });

/** The insight's failure as an unknown signal, or undefined when it answered (OK, PARTIAL_SUCCESS). */
function failed(ctx: Context, name: InsightName, insight: AnyInsight | undefined): SignalOutcome | undefined {
  if (!insight) {
    return unknown(
      'PROTOCOL_ERROR',
      `Vonage Identity Insights (POST ${ctx.endpoint.path}) answered without the ${name} insight it was asked for.`,
    );
  }
  const failure = insightStatusFailure(ctx, name, insight);
  return failure ? unknown(failure.code, failure.message) : undefined;
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
      const read = connectivityOf(insight);
      if ('missing' in read) return fieldMissing(ctx, 'reachability', read.missing, insight);
      return { value: { connectivityStatus: read.status } };
    }
    case 'carrier': {
      const original = held.original_carrier;
      const current = held.current_carrier;
      const failure = failed(ctx, 'original_carrier', original) ?? failed(ctx, 'current_carrier', current);
      if (failure || !original || !current) return failure!;
      const from = carrierNetworkOf(original);
      const to = carrierNetworkOf(current);
      const changed = carrierChanged(from, to);
      if (changed === undefined) {
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
  return async function assessInsights(input: AssessInsightsInput): Promise<AssessInsightsOutcome> {
    requireObject(ACTIVITY, input);
    const msisdn = requireMsisdn(ACTIVITY, input.msisdn);
    const correlationId = requireCorrelationId(ACTIVITY, input.correlationId);
    const signals = requireSignals(input.signals);
    if (input.purpose !== undefined && !isPurpose(input.purpose)) {
      throw netcheckFailure('INVALID_INPUT', `${ACTIVITY}: purpose must be one of ${PURPOSES.join(', ')}`);
    }
    const purpose = input.purpose;
    const names = [
      ...new Set(signals.flatMap((signal) => SIGNAL_INSIGHTS[signal] as readonly InsightName[])),
    ];
    // One request asks every insight the signals need; transient failures are asked again alone.
    const answer = await exchangeInsights(
      { client, msisdn, purpose, correlationId },
      Object.fromEntries(names.map((name) => [name, {}])),
    );
    const held: Held = answer.insights;
    const { requests, secrets } = answer;
    // The signals' time: `sim_swap.within` counts back from the first answer.
    const observedAt = answer.answeredAt;
    const ctx: Context = { endpoint: answer.endpoint, requestId: answer.requestId, purpose, secrets };
    if (answer.transient.length === names.length) {
      // Nothing answered: nothing to keep. The activity fails and Temporal asks again for everything.
      const outcome = failed(ctx, answer.transient[0]!, byName(held)[answer.transient[0]!]);
      throw netcheckFailure(
        outcome?.error?.code ?? 'UPSTREAM_UNAVAILABLE',
        outcome?.error?.message ?? 'no insight answered',
      );
    }

    const out: AssessInsightsOutcome['signals'] = {};
    for (const name of signals) {
      (out as Record<SignalName, SignalOutcome>)[name] = await mapSignal(ctx, name, held);
    }
    return {
      ...(answer.requestId !== undefined ? { requestId: answer.requestId } : {}),
      observedAt,
      requests,
      signals: out,
    };
  };
}
