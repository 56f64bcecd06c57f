/**
 * What differs between profiles on the wire, beside addressing and client authentication
 * (activities/profiles/camara.ts): the CIBA scope, the CAMARA path, request body and response
 * schema of each check. Every profile's answer is brought to the one result shape of its
 * operation (domain/types.ts), so a CheckResult reads the same whoever answered.
 */
import { z } from 'zod';
import {
  CAMARA_OPERATIONS,
  defaultPurpose,
  type CamaraOperation,
  type CheckDataByOperation,
} from '../../domain/index.js';
import {
  apiVersionOf,
  CAMARA_PROFILE_OPERATIONS,
  camaraProfileScope,
  DEFAULT_PROFILE,
  type Profile,
} from '../../domain/profiles.js';
import type { VonageClient } from '../client.js';
import {
  ConnectivityResponse,
  RoamingResponse,
  SimSwapCheckResponse,
  SimSwapDateResponse,
  utcIfZoneless,
} from '../responses.js';

export function profileOf(client: VonageClient): Profile {
  return client.profile ?? DEFAULT_PROFILE;
}

/** The bc-authorize `scope` of `operation` for this client's profile (`vonageScope`: the Vonage form). */
export function scopeOf(
  client: VonageClient,
  operation: CamaraOperation,
  purpose: string | undefined,
  vonageScope: string,
): string {
  if (profileOf(client) !== 'camara') return vonageScope;
  return camaraProfileScope(
    operation,
    purpose ?? defaultPurpose(operation, 'camara') ?? 'FraudPreventionAndDetection',
  );
}

/** What an authorization records of the profile: the profile and the version of the API that will answer. */
export function profileFacts(
  client: VonageClient,
  operation: CamaraOperation,
): { profile: Profile; apiVersion: string } {
  const profile = profileOf(client);
  return { profile, apiVersion: apiVersionOf(profile, operation) };
}

export interface CheckSpec {
  path: string;
  schema: z.ZodType;
  body(input: { msisdn: string; maxAge: number }): unknown;
}

/** Request bodies exactly as CAMARA defines them (sim-swap v0.4.0, device-status v0.5.0): Vonage. */
const VONAGE_CHECKS: Record<CamaraOperation, CheckSpec> = {
  'sim-swap': {
    path: CAMARA_OPERATIONS['sim-swap'].path,
    schema: SimSwapCheckResponse,
    // maxAge is always sent: Vonage pages disagree on its default.
    body: ({ msisdn, maxAge }) => ({ phoneNumber: msisdn, maxAge }),
  },
  'sim-swap-date': {
    path: CAMARA_OPERATIONS['sim-swap-date'].path,
    schema: SimSwapDateResponse,
    body: ({ msisdn }) => ({ phoneNumber: msisdn }),
  },
  'device-connectivity': {
    path: CAMARA_OPERATIONS['device-connectivity'].path,
    schema: ConnectivityResponse,
    body: ({ msisdn }) => ({ device: { phoneNumber: msisdn } }),
  },
  'device-roaming': {
    path: CAMARA_OPERATIONS['device-roaming'].path,
    schema: RoamingResponse,
    body: ({ msisdn }) => ({ device: { phoneNumber: msisdn } }),
  },
};

/** SIM Swap 2.1.0 `SimSwapInfo`: `swapped`. */
const SimSwapV2Check = z.object({ swapped: z.boolean() });

/**
 * SIM Swap 2.1.0 `SimSwapInfo` of retrieve-date: `latestSimChange` (date-time, nullable: the
 * operator may not keep it) and `monitoredPeriod` (days; with a null date: no swap in that many days).
 */
const SimSwapV2Date = z
  .object({
    latestSimChange: z.string().transform(utcIfZoneless).nullable(),
    monitoredPeriod: z.number().int().optional(),
  })
  .transform((body): CheckDataByOperation['sim-swap-date'] => ({
    latestSimChange: body.latestSimChange,
    ...(body.monitoredPeriod !== undefined ? { monitoredPeriod: body.monitoredPeriod } : {}),
  }));

/**
 * Device Reachability Status 1.1.0: `reachable` and `connectivity` ([DATA, SMS]), brought to the
 * operation's shape: DATA → CONNECTED_DATA, SMS alone → CONNECTED_SMS, not reachable → NOT_CONNECTED.
 */
const ReachabilityV1 = z
  .object({
    lastStatusTime: z.string().optional(),
    reachable: z.boolean(),
    connectivity: z.array(z.enum(['DATA', 'SMS'])).optional(),
  })
  .transform((body, ctx): CheckDataByOperation['device-connectivity'] => {
    if (!body.reachable) return { connectivityStatus: 'NOT_CONNECTED' };
    if (body.connectivity?.includes('DATA')) return { connectivityStatus: 'CONNECTED_DATA' };
    if (body.connectivity?.includes('SMS')) return { connectivityStatus: 'CONNECTED_SMS' };
    ctx.addIssue({ code: 'custom', path: ['connectivity'], message: 'expected DATA or SMS when reachable' });
    return z.NEVER;
  });

/** Device Roaming Status 1.1.0: `roaming`, `countryCode`, `countryName` (the operation's shape). */
const RoamingV1 = z
  .object({
    lastStatusTime: z.string().optional(),
    roaming: z.boolean(),
    countryCode: z.number().int().optional(),
    countryName: z.array(z.string()).optional(),
  })
  .transform((body): CheckDataByOperation['device-roaming'] => ({
    roaming: body.roaming,
    ...(body.countryCode !== undefined ? { countryCode: body.countryCode } : {}),
    ...(body.countryName !== undefined ? { countryName: body.countryName } : {}),
  }));

/**
 * The `camara` profile: with a three-legged (CIBA) token the token names the number, so the body
 * carries no phoneNumber or device (an operator answers 422 UNNECESSARY_IDENTIFIER otherwise).
 */
const CAMARA_CHECKS: Record<CamaraOperation, CheckSpec> = {
  'sim-swap': {
    path: CAMARA_PROFILE_OPERATIONS['sim-swap'].path,
    schema: SimSwapV2Check,
    body: ({ maxAge }) => ({ maxAge }),
  },
  'sim-swap-date': {
    path: CAMARA_PROFILE_OPERATIONS['sim-swap-date'].path,
    schema: SimSwapV2Date,
    body: () => ({}),
  },
  'device-connectivity': {
    path: CAMARA_PROFILE_OPERATIONS['device-connectivity'].path,
    schema: ReachabilityV1,
    body: () => ({}),
  },
  'device-roaming': {
    path: CAMARA_PROFILE_OPERATIONS['device-roaming'].path,
    schema: RoamingV1,
    body: () => ({}),
  },
};

export function checkSpecOf(client: VonageClient, operation: CamaraOperation): CheckSpec {
  return (profileOf(client) === 'camara' ? CAMARA_CHECKS : VONAGE_CHECKS)[operation];
}
