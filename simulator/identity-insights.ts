/**
 * Vonage Identity Insights as the simulator serves it, at both paths Vonage uses
 * (`/identity-insights/v1/requests`, what its SDKs call, and `/v0.1/identity-insights`, what its
 * API reference shows). One request, authenticated with the application JWT itself:
 *
 * - **JWT**: verified like the OAuth endpoints' (RS256, application_id, iat/exp, exp in the
 *   future) and its `jti` must be fresh: a JWT is good for one request (401 otherwise).
 * - **Body**: `{phone_number, purpose?, insights}` with at least one of `sim_swap` (`period`
 *   1–2400 h, default 240), `roaming`, `reachability`, `format`, `original_carrier`,
 *   `current_carrier`; anything else is a 400 (RFC 7807 body, as Vonage answers).
 * - **Virtual Operator**: as Vonage documents it for Identity Insights, only the ten numbers
 *   +990123400, +990123411, … +990123499 (virtual-operator.ts); any other +990 number without a
 *   scenario entry answers INVALID_NUMBER_FORMAT for every insight (the scenario file's
 *   `identityInsightsVirtualOperator: "every-number"` answers every +990 number instead).
 * - **Network Registry insights** (sim_swap, roaming, reachability) answer from the same
 *   subscribers as the CAMARA endpoints (scenario numbers, the Virtual Operator numbers: SIM swap
 *   500 h ago, +990123499 NOT_FOUND; roaming and reachability by the CIBA road's rules), under the
 *   Playground rule: the purpose must be FraudPreventionAndDetection, else that
 *   insight answers INVALID_PURPOSE. Unlisted numbers answer NO_COVERAGE outside the countries
 *   the simulator knows, INVALID_NUMBER_FORMAT when the length is wrong for the country,
 *   UNSUPPORTED_NETWORK_TYPE for a landline and NOT_FOUND otherwise.
 * - **Format and carriers** answer for any E.164 number whose calling code the simulator knows
 *   (COUNTRIES); elsewhere format is PARTIAL_SUCCESS without a country and the carriers
 *   NO_COVERAGE. Landlines answer the carriers PARTIAL_SUCCESS (no network code); numbers
 *   ending in 7 are ported (another current network).
 * - **Scenarios** may override a number's carrier data (`carrier`) and any insight's status or
 *   fields (`insights.<name>`: `status`, `message`, `omit`, `times`).
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { isE164 } from '../domain/msisdn.js';
import { MAX_AGE_DEFAULT, MAX_AGE_MAX, MAX_AGE_MIN } from '../domain/operations.js';
import { ExpiringMap } from './expiring-map.js';
import { problem, type Reply } from './http.js';
import { verifyApplicationJwt } from './jwt.js';
import {
  INSIGHT_NAMES,
  type InsightName,
  type InsightOverride,
  type InsightStatusCode,
  type NetworkOverride,
} from './identity-insights-scenario.js';
import type { NumberEntry, ScenarioStore } from './scenarios.js';
import type { Subscribers } from './subscribers.js';
import {
  IDENTITY_INSIGHTS_OTHER_VIRTUAL_NUMBER_MESSAGE,
  isIdentityInsightsVirtualNumber,
  isVirtualOperatorNumber,
} from './virtual-operator.js';

export {
  identityInsightsScenarioFields,
  INSIGHT_NAMES,
  INSIGHT_STATUS_CODES,
  type InsightName,
  type InsightStatusCode,
} from './identity-insights-scenario.js';

export const IDENTITY_INSIGHTS_PATHS = ['/identity-insights/v1/requests', '/v0.1/identity-insights'] as const;

/** The only purpose Vonage's Network Registry Playground accepts. */
export const PLAYGROUND_PURPOSE = 'FraudPreventionAndDetection';

const NETWORK_REGISTRY = new Set<InsightName>(['sim_swap', 'roaming', 'reachability']);

const STATUS_MESSAGES: Record<InsightStatusCode, string> = {
  OK: 'Success',
  PARTIAL_SUCCESS: 'Unable to retrieve data for some fields.',
  INVALID_NUMBER_FORMAT: 'The phone number format is not valid for assignment by carriers to users.',
  UNSUPPORTED_NETWORK_TYPE: 'The network type is not supported for this insight.',
  NO_COVERAGE: 'The country or mobile network is not supported by available suppliers.',
  NOT_FOUND: 'Unknown phone number.',
  UNAUTHORIZED: 'The request could not be authorized for this application, supplier and phone number.',
  INVALID_PURPOSE: `The purpose is not valid for this insight; the Playground accepts only ${PLAYGROUND_PURPOSE}.`,
  SUPPLIER_ERROR: 'The supplier returned an error.',
  INTERNAL_ERROR: 'An internal error occurred.',
};

// ---- numbering: the countries the simulator knows ----

interface Country {
  callingCode: string;
  alpha2: string;
  name: string;
  /** Lengths of the national significant number. */
  lengths: [number, number];
  /** National prefixes of mobile numbers; undefined: every number may be mobile. */
  mobile?: string[];
  mcc: string;
}

/** A handful of countries, enough for tests and demos; +1 is treated as the US. */
export const COUNTRIES: readonly Country[] = [
  { callingCode: '1', alpha2: 'US', name: 'United States', lengths: [10, 10], mcc: '310' },
  { callingCode: '31', alpha2: 'NL', name: 'Netherlands', lengths: [9, 9], mobile: ['6'], mcc: '204' },
  { callingCode: '33', alpha2: 'FR', name: 'France', lengths: [9, 9], mobile: ['6', '7'], mcc: '208' },
  { callingCode: '34', alpha2: 'ES', name: 'Spain', lengths: [9, 9], mobile: ['6', '7'], mcc: '214' },
  { callingCode: '39', alpha2: 'IT', name: 'Italy', lengths: [6, 11], mobile: ['3'], mcc: '222' },
  { callingCode: '44', alpha2: 'GB', name: 'United Kingdom', lengths: [9, 10], mobile: ['7'], mcc: '234' },
  {
    callingCode: '49',
    alpha2: 'DE',
    name: 'Germany',
    lengths: [7, 13],
    mobile: ['15', '16', '17'],
    mcc: '262',
  },
];

interface NumberFacts {
  country: Country;
  national: string;
  valid: boolean;
  mobile: boolean;
}

function numberFacts(msisdn: string): NumberFacts | undefined {
  const digits = msisdn.slice(1);
  const country = COUNTRIES.filter((c) => digits.startsWith(c.callingCode)).sort(
    (a, b) => b.callingCode.length - a.callingCode.length,
  )[0];
  if (!country) return undefined;
  const national = digits.slice(country.callingCode.length);
  const valid = national.length >= country.lengths[0] && national.length <= country.lengths[1];
  const mobile = country.mobile === undefined || country.mobile.some((p) => national.startsWith(p));
  return { country, national, valid, mobile };
}

interface Network {
  name: string;
  networkType: string;
  countryCode: string;
  networkCode?: string;
}

/** Deterministic simulated networks: three mobile networks and one fixed network per country. */
function networkOf(facts: NumberFacts, which: 'original' | 'current'): Network {
  const { country, national } = facts;
  if (!facts.mobile) {
    return {
      name: `${country.alpha2} Fixed (simulated)`,
      networkType: 'LANDLINE',
      countryCode: country.alpha2,
    };
  }
  const pick = Number(national.at(-4) ?? '0') % 3;
  const index = which === 'current' && national.endsWith('7') ? (pick + 1) % 3 : pick;
  return {
    name: `${country.alpha2} Mobile ${'ABC'[index] ?? 'A'} (simulated)`,
    networkType: 'MOBILE',
    countryCode: country.alpha2,
    networkCode: `${country.mcc}${String(index + 1).padStart(2, '0')}`,
  };
}

// ---- the request ----

const InsightParams = z.strictObject({});
const RequestSchema = z.object({
  phone_number: z.string().min(1).max(64),
  purpose: z.string().min(1).max(100).optional(),
  insights: z
    .strictObject({
      sim_swap: z
        .strictObject({ period: z.number().int().min(MAX_AGE_MIN).max(MAX_AGE_MAX).optional() })
        .optional(),
      roaming: InsightParams.optional(),
      reachability: InsightParams.optional(),
      format: InsightParams.optional(),
      original_carrier: InsightParams.optional(),
      current_carrier: InsightParams.optional(),
    })
    .refine((insights) => Object.keys(insights).length > 0, 'at least one insight must be requested'),
});

/**
 * The number a request is about, in E.164 with `+`: Vonage takes the digits of `phone_number`
 * (a leading `+` optional, other characters ignored), but never a leading `00`.
 */
export function normalizePhoneNumber(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (trimmed.startsWith('00')) return undefined;
  const digits = trimmed.replace(/\D/g, '');
  const msisdn = `+${digits}`;
  return isE164(msisdn) ? msisdn : undefined;
}

const HOUR_MS = 3_600_000;

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

type InsightBody = Record<string, unknown> & { status: { code: InsightStatusCode; message: string } };

function status(code: InsightStatusCode, message?: string): InsightBody['status'] {
  return { code, message: message ?? STATUS_MESSAGES[code] };
}

function only(code: InsightStatusCode, message?: string): InsightBody {
  return { status: status(code, message) };
}

export interface IdentityInsightsRequest {
  bearer?: string;
  mediaType: string;
  body: string;
}

export interface IdentityInsightsDeps {
  applicationId: string;
  publicKey: KeyObject;
  now: () => number;
  subscribers: Subscribers;
  scenarios: ScenarioStore;
}

export class IdentityInsightsServer {
  /** jti values already used, until their JWT expires. */
  private readonly usedJtis = new ExpiringMap<{ expiresAt: number }>();
  /** How often a scenario override with `times` has been applied, per number and insight. */
  private readonly overridesApplied = new Map<string, number>();

  constructor(private readonly deps: IdentityInsightsDeps) {}

  /** The number a request is about (for stats, faults and the request log), if readable. */
  msisdnOf(body: string): string | undefined {
    try {
      return normalizePhoneNumber((JSON.parse(body) as { phone_number?: unknown } | null)?.phone_number);
    } catch {
      return undefined;
    }
  }

  private async authenticate(bearer: string | undefined, now: number): Promise<Reply | undefined> {
    const jwt = await verifyApplicationJwt(bearer, this.deps.publicKey, this.deps.applicationId, now);
    if (!jwt.ok) return problem(401, 'Unauthorized', jwt.detail, 'unauthorized');
    const { jti, exp } = decodeJwt(bearer ?? '');
    if (typeof jti !== 'string' || jti === '') {
      return problem(401, 'Unauthorized', 'The application JWT has no jti.', 'unauthorized');
    }
    if (this.usedJtis.get(jti)) {
      return problem(
        401,
        'Unauthorized',
        'The application JWT was already used (jti); sign a new one for every request.',
        'unauthorized',
      );
    }
    this.usedJtis.set(jti, { expiresAt: (exp ?? 0) * 1000 }, now);
    return undefined;
  }

  async handle(req: IdentityInsightsRequest): Promise<Reply> {
    const now = this.deps.now();
    const denied = await this.authenticate(req.bearer, now);
    if (denied) return denied;
    if (req.mediaType !== 'application/json') {
      return problem(400, 'Bad Request', 'Content-Type must be application/json.', 'invalid-json');
    }
    let json: unknown;
    try {
      json = JSON.parse(req.body);
    } catch {
      return problem(400, 'Malformed JSON', 'Malformed JSON payload.', 'invalid-json');
    }
    const parsed = RequestSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
      return problem(400, 'Invalid parameters', issues.join('; '), 'invalid-params');
    }
    const { phone_number: phoneNumber, purpose, insights: requested } = parsed.data;
    const msisdn = normalizePhoneNumber(phoneNumber);
    const entry = msisdn === undefined ? undefined : this.deps.scenarios.entry(msisdn);

    const insights: Record<string, InsightBody> = {};
    for (const name of INSIGHT_NAMES) {
      const params = requested[name];
      if (params === undefined) continue;
      if (NETWORK_REGISTRY.has(name) && purpose !== PLAYGROUND_PURPOSE) {
        insights[name] = only('INVALID_PURPOSE');
        continue;
      }
      if (msisdn === undefined) {
        insights[name] = only('INVALID_NUMBER_FORMAT');
        continue;
      }
      if (!entry && this.otherVirtualNumber(msisdn)) {
        insights[name] = only('INVALID_NUMBER_FORMAT', IDENTITY_INSIGHTS_OTHER_VIRTUAL_NUMBER_MESSAGE);
        continue;
      }
      const override = this.override(msisdn, name, entry);
      if (override?.status && !['OK', 'PARTIAL_SUCCESS'].includes(override.status)) {
        insights[name] = only(override.status, override.message);
        continue;
      }
      const period = name === 'sim_swap' ? (requested.sim_swap?.period ?? MAX_AGE_DEFAULT) : MAX_AGE_DEFAULT;
      const answer = this.answer(name, msisdn, entry, period, now);
      insights[name] = override ? applyOverride(answer, override) : answer;
    }
    return { status: 200, body: { request_id: randomUUID(), insights } };
  }

  /** A +990 number that is not one of the ten Vonage's Identity Insights Virtual Operator answers. */
  private otherVirtualNumber(msisdn: string): boolean {
    return (
      isVirtualOperatorNumber(msisdn) &&
      !isIdentityInsightsVirtualNumber(msisdn) &&
      this.deps.scenarios.identityInsightsVirtualOperator === 'documented'
    );
  }

  /** The scenario override of this insight for this request, counting `times`. */
  private override(
    msisdn: string,
    name: InsightName,
    entry: NumberEntry | undefined,
  ): InsightOverride | undefined {
    const override = entry?.insights?.[name];
    if (!override) return undefined;
    if (override.times === undefined) return override;
    const key = `${msisdn} ${name}`;
    const applied = this.overridesApplied.get(key) ?? 0;
    if (applied >= override.times) return undefined;
    this.overridesApplied.set(key, applied + 1);
    return override;
  }

  private answer(
    name: InsightName,
    msisdn: string,
    entry: NumberEntry | undefined,
    period: number,
    now: number,
  ): InsightBody {
    switch (name) {
      case 'sim_swap':
      case 'roaming':
      case 'reachability':
        return this.networkRegistry(name, msisdn, entry, period, now);
      case 'format':
        return formatInsight(msisdn, entry);
      case 'original_carrier':
        return carrierInsight(msisdn, entry, 'original');
      case 'current_carrier':
        return carrierInsight(msisdn, entry, 'current');
    }
  }

  /** SIM swap, roaming and reachability: the subscriber data the CAMARA endpoints answer from. */
  private networkRegistry(
    name: 'sim_swap' | 'roaming' | 'reachability',
    msisdn: string,
    entry: NumberEntry | undefined,
    period: number,
    now: number,
  ): InsightBody {
    if (!entry && !isVirtualOperatorNumber(msisdn)) {
      const facts = numberFacts(msisdn);
      if (!facts) return only('NO_COVERAGE');
      if (!facts.valid) return only('INVALID_NUMBER_FORMAT');
      if (!facts.mobile) return only('UNSUPPORTED_NETWORK_TYPE');
      return only('NOT_FOUND');
    }
    const data = this.deps.subscribers.data(msisdn, now);
    switch (name) {
      case 'sim_swap': {
        if (!data.simSwap) return only('NOT_FOUND');
        const last = data.simSwap.lastSimChange;
        return {
          ...(last === null ? {} : { latest_sim_swap_at: isoSeconds(last) }),
          is_swapped: last !== null && last >= now - period * HOUR_MS,
          status: status('OK'),
        };
      }
      case 'roaming': {
        if (!data.roaming) return only('NOT_FOUND');
        const { roaming, countryName } = data.roaming;
        const unknownCountry = roaming && countryName === undefined;
        return {
          latest_status_at: isoSeconds(now),
          is_roaming: roaming,
          ...(roaming && countryName !== undefined ? { country_codes: countryName } : {}),
          status: status(unknownCountry ? 'PARTIAL_SUCCESS' : 'OK'),
        };
      }
      case 'reachability': {
        if (!data.connectivity) return only('NOT_FOUND');
        const connectivity =
          data.connectivity === 'CONNECTED_DATA'
            ? ['DATA', 'SMS']
            : data.connectivity === 'CONNECTED_SMS'
              ? ['SMS']
              : undefined;
        return {
          latest_status_at: isoSeconds(now),
          is_reachable: connectivity !== undefined,
          ...(connectivity ? { connectivity } : {}),
          status: status('OK'),
        };
      }
    }
  }
}

function formatInsight(msisdn: string, entry: NumberEntry | undefined): InsightBody {
  const facts = numberFacts(msisdn);
  const override = entry?.carrier;
  const countryCode = override?.countryCode ?? facts?.country.alpha2;
  const countryName = override?.countryName ?? facts?.country.name;
  const valid = override?.valid ?? facts?.valid ?? true;
  const complete = countryCode !== undefined && countryName !== undefined;
  return {
    ...(countryCode !== undefined ? { country_code: countryCode } : {}),
    ...(countryName !== undefined ? { country_name: countryName } : {}),
    ...(facts ? { country_prefix: facts.country.callingCode } : {}),
    number_international: msisdn,
    is_format_valid: valid,
    status: status(complete ? 'OK' : 'PARTIAL_SUCCESS'),
  };
}

function networkBody(network: Partial<Network>): InsightBody {
  const complete = ['name', 'networkType', 'countryCode', 'networkCode'].every(
    (field) => network[field as keyof Network] !== undefined,
  );
  return {
    ...(network.name !== undefined ? { name: network.name } : {}),
    ...(network.networkType !== undefined ? { network_type: network.networkType } : {}),
    ...(network.countryCode !== undefined ? { country_code: network.countryCode } : {}),
    ...(network.networkCode !== undefined ? { network_code: network.networkCode } : {}),
    status: status(complete ? 'OK' : 'PARTIAL_SUCCESS'),
  };
}

function carrierInsight(
  msisdn: string,
  entry: NumberEntry | undefined,
  which: 'original' | 'current',
): InsightBody {
  const override = entry?.carrier;
  if (override?.valid === false) return only('INVALID_NUMBER_FORMAT');
  const given: NetworkOverride | undefined = override?.[which];
  if (given) return networkBody(given);
  const facts = numberFacts(msisdn);
  if (!facts) return only('NO_COVERAGE');
  if (!facts.valid && override?.valid !== true) return only('INVALID_NUMBER_FORMAT');
  return networkBody(networkOf(facts, which));
}

/** A scenario's OK / PARTIAL_SUCCESS override: fields left out, status and message set. */
function applyOverride(answer: InsightBody, override: InsightOverride): InsightBody {
  if (answer.status.code !== 'OK' && answer.status.code !== 'PARTIAL_SUCCESS') return answer;
  const out: InsightBody = { ...answer };
  for (const field of override.omit ?? []) delete out[field];
  const code = override.status ?? (override.omit?.length ? 'PARTIAL_SUCCESS' : answer.status.code);
  out.status = status(code, override.message);
  return out;
}
