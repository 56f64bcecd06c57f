/**
 * The `identityInsights` activity over real HTTP: against the simulator for every operation and
 * every per-insight status, against a scripted server for the wire form and the answers the
 * simulator never gives. Failures are checked for their code, their retryability and that they
 * carry neither the application JWT nor the phone number.
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createActivities,
  createVonageClient,
  DEFAULT_IDENTITY_INSIGHTS_PATH,
  type NetcheckActivities,
} from '../../activities/index.js';
import { INSIGHT_REASK } from '../../activities/identity-insights.js';
import type { InsightsCallInput, Operation } from '../../domain/index.js';
import { startSimulator, type ScenarioFile, type Simulator } from '../../simulator/index.js';
import { loadConfig } from '../../worker/config.js';
import {
  bearerOf,
  detailsOf,
  failureOf,
  makeKeys,
  serializeFailure,
  startScriptedServer,
  type ScriptedServer,
} from './helpers.js';

const { privateKey, publicKey } = makeKeys();
const applicationId = randomUUID();
const PURPOSE = 'FraudPreventionAndDetection';
const HOUR = 3_600_000;

const SWAPPED_10H = '+447700900201';
const NEVER_SWAPPED = '+447700900202';
const ROAMING_DE = '+447700900203';
const ROAMING_GB = '+447700900204';
const ROAMING_UNKNOWN_COUNTRY = '+447700900205';
const UNKNOWN = '+447700900206';
const PARTIAL_DATE = '+447700900207';
const PARTIAL_NO_ANSWER = '+447700900208';
const UNAUTHORIZED = '+447700900209';
const SUPPLIER_ERROR = '+447700900210';
const INTERNAL_ERROR = '+447700900211';
const CARRIER_FAILS = '+447700900212';
const LIMITED = '+447700900213';
const DOWN = '+447700900214';
const FORBIDDEN = '+447700900215';
const SMS_ONLY = '+447700900216';
const OFFLINE = '+447700900217';
const CARRIER_JP = '+819012345678';
const REACH_NO_KIND = '+447700900218';
const CARRIER_FLAKY_ONCE = '+447700900219';
const FORMAT_FAILS = '+447700900220';
const VIRTUAL_OK = '+990123400';
const VIRTUAL_UNKNOWN = '+990123499';
const OTHER_VIRTUAL = '+99012345601';

const scenarios: ScenarioFile = {
  numbers: {
    [SWAPPED_10H]: { lastSimChangeHoursAgo: 10, connectivity: 'CONNECTED_DATA' },
    [NEVER_SWAPPED]: { lastSimChange: null },
    [ROAMING_DE]: { roaming: { roaming: true, countryCode: 262, countryName: ['DE'] } },
    [ROAMING_GB]: { roaming: { roaming: true, countryCode: 234, countryName: ['GB'] } },
    [ROAMING_UNKNOWN_COUNTRY]: { roaming: { roaming: true } },
    [UNKNOWN]: { unknown: true },
    [PARTIAL_DATE]: { lastSimChangeHoursAgo: 3, insights: { sim_swap: { omit: ['latest_sim_swap_at'] } } },
    [PARTIAL_NO_ANSWER]: {
      insights: { sim_swap: { omit: ['is_swapped'] }, roaming: { omit: ['is_roaming'] } },
    },
    [UNAUTHORIZED]: { insights: { sim_swap: { status: 'UNAUTHORIZED' } } },
    [SUPPLIER_ERROR]: { insights: { reachability: { status: 'SUPPLIER_ERROR' } } },
    [INTERNAL_ERROR]: { insights: { roaming: { status: 'INTERNAL_ERROR' } } },
    [CARRIER_FAILS]: { insights: { current_carrier: { status: 'SUPPLIER_ERROR' } } },
    [CARRIER_FLAKY_ONCE]: {
      insights: {
        current_carrier: { status: 'INTERNAL_ERROR', times: 1 },
        // Answered NOT_FOUND on the first request only: a re-ask that asked for it again would get data.
        original_carrier: { status: 'NOT_FOUND', times: 1 },
      },
    },
    [FORMAT_FAILS]: { insights: { format: { status: 'SUPPLIER_ERROR' } } },
    [LIMITED]: { faults: [{ endpoint: 'identity-insights', status: 429, retryAfter: 3 }] },
    [DOWN]: { faults: [{ endpoint: 'identity-insights', status: 503 }] },
    [FORBIDDEN]: { faults: [{ endpoint: 'identity-insights', status: 403, code: 'FORBIDDEN' }] },
    [SMS_ONLY]: { connectivity: 'CONNECTED_SMS' },
    [OFFLINE]: { connectivity: 'NOT_CONNECTED' },
    [REACH_NO_KIND]: { insights: { reachability: { omit: ['connectivity'] } } },
    [CARRIER_JP]: {
      carrier: {
        countryCode: 'JP',
        countryName: 'Japan',
        original: { name: 'Old Net', networkType: 'MOBILE', networkCode: '44010', countryCode: 'JP' },
        current: { name: 'New Net', networkType: 'MOBILE', networkCode: '44020', countryCode: 'JP' },
      },
    },
  },
};

let sim: Simulator;
let acts: NetcheckActivities;

beforeAll(async () => {
  sim = await startSimulator({ applicationId, publicKey, port: 0, interval: 0, scenarios });
  acts = createActivities(createVonageClient({ applicationId, privateKey, baseUrl: sim.url }));
});
afterAll(async () => {
  await acts.close();
  await sim.close();
});

function call(
  msisdn: string,
  operation: Operation,
  extra: Partial<InsightsCallInput> = {},
  activities: NetcheckActivities = acts,
) {
  const purpose = operation === 'carrier' ? undefined : PURPOSE;
  return activities.identityInsights({
    msisdn,
    operation,
    correlationId: `corr-${randomUUID()}`,
    ...(purpose ? { purpose } : {}),
    ...extra,
  });
}

/** The failure, checked for code and retryability, and free of the number and any JWT. */
async function failing(promise: Promise<unknown>, code: string, msisdn: string, retryable = false) {
  const failure = await failureOf(promise);
  expect(failure.type, failure.message).toBe(code);
  expect(failure.nonRetryable).toBe(!retryable);
  const all = serializeFailure(failure);
  expect(all).not.toContain(msisdn.slice(1));
  expect(all).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  return failure;
}

describe('each operation over Identity Insights', () => {
  it('sim-swap: swapped within maxAge (sim_swap.period), one request and no CIBA', async () => {
    expect(await call(SWAPPED_10H, 'sim-swap', { maxAge: 24 })).toMatchObject({
      data: { swapped: true },
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
    });
    expect((await call(SWAPPED_10H, 'sim-swap', { maxAge: 9 })).data).toEqual({ swapped: false });
    expect((await call(SWAPPED_10H, 'sim-swap')).data).toEqual({ swapped: true }); // 240 h by default
    const stats = sim.stats(SWAPPED_10H);
    expect(stats.requests['identity-insights']).toEqual({ '200': 3 });
    expect(stats.requests['bc-authorize']).toBeUndefined();
  });

  it('sim-swap-date: latestSimChange; a number never swapped answers {} like CAMARA', async () => {
    const { data, missing } = await call(SWAPPED_10H, 'sim-swap-date');
    expect(
      Math.abs(Date.parse((data as { latestSimChange: string }).latestSimChange) - (Date.now() - 10 * HOUR)),
    ).toBeLessThan(5_000);
    expect(missing).toBeUndefined();
    const never = await call(NEVER_SWAPPED, 'sim-swap-date');
    expect(never.data).toEqual({});
    expect(never.missing).toBeUndefined();
  });

  it('device-roaming: alpha-2 countries as countryName, the MCC as countryCode where the country has one', async () => {
    expect((await call(ROAMING_DE, 'device-roaming')).data).toEqual({
      roaming: true,
      countryCode: 262,
      countryName: ['DE'],
    });
    // GB has two MCCs (234, 235): no single countryCode can be given.
    expect((await call(ROAMING_GB, 'device-roaming')).data).toEqual({ roaming: true, countryName: ['GB'] });
    expect((await call(NEVER_SWAPPED, 'device-roaming')).data).toEqual({ roaming: false });
  });

  it('device-connectivity: DATA → CONNECTED_DATA, SMS only → CONNECTED_SMS, unreachable → NOT_CONNECTED', async () => {
    expect((await call(SWAPPED_10H, 'device-connectivity')).data).toEqual({
      connectivityStatus: 'CONNECTED_DATA',
    });
    expect((await call(SMS_ONLY, 'device-connectivity')).data).toEqual({
      connectivityStatus: 'CONNECTED_SMS',
    });
    expect((await call(OFFLINE, 'device-connectivity')).data).toEqual({
      connectivityStatus: 'NOT_CONNECTED',
    });
  });

  it('carrier: validity, country, original and current network, not ported', async () => {
    const { data, missing } = await call('+447700900123', 'carrier');
    expect(data).toEqual({
      valid: true,
      countryCode: 'GB',
      countryName: 'United Kingdom',
      originalCarrier: {
        name: expect.stringMatching(/^GB Mobile/) as unknown,
        networkType: 'MOBILE',
        networkCode: expect.stringMatching(/^234\d\d$/) as unknown,
        countryCode: 'GB',
      },
      currentCarrier: expect.objectContaining({ networkType: 'MOBILE' }) as unknown,
      ported: false,
    });
    expect(missing).toBeUndefined();
  });

  it('carrier: ported when the current network differs; scenario data for any number', async () => {
    expect((await call('+447700900127', 'carrier')).data).toMatchObject({ valid: true, ported: true });
    expect((await call(CARRIER_JP, 'carrier')).data).toEqual({
      valid: true,
      countryCode: 'JP',
      countryName: 'Japan',
      originalCarrier: { name: 'Old Net', networkType: 'MOBILE', networkCode: '44010', countryCode: 'JP' },
      currentCarrier: { name: 'New Net', networkType: 'MOBILE', networkCode: '44020', countryCode: 'JP' },
      ported: true,
    });
  });

  it('carrier: an invalid number is an answer (valid: false), not a failure', async () => {
    expect(await call('+44770090012345', 'carrier')).toMatchObject({
      data: { valid: false, countryCode: 'GB', countryName: 'United Kingdom' },
    });
  });

  it('works at the path Vonage’s API reference shows, when configured', async () => {
    const other = createActivities({
      applicationId,
      privateKey,
      baseUrl: sim.url,
      identityInsightsPath: '/v0.1/identity-insights/',
    });
    try {
      expect((await call(SWAPPED_10H, 'sim-swap', {}, other)).data).toEqual({ swapped: true });
    } finally {
      await other.close();
    }
  });
});

describe('PARTIAL_SUCCESS: the answer without the fields Vonage could not give, named in missing', () => {
  it('sim-swap-date without latest_sim_swap_at → {} with missing latestSimChange', async () => {
    expect(await call(PARTIAL_DATE, 'sim-swap-date')).toMatchObject({
      data: {},
      missing: ['latestSimChange'],
      missingCodes: { latestSimChange: 'PARTIAL_SUCCESS' },
    });
    // The check itself still answers.
    expect(await call(PARTIAL_DATE, 'sim-swap', { maxAge: 5 })).toMatchObject({ data: { swapped: true } });
  });

  it('device-roaming without the country → roaming only, missing countryName', async () => {
    expect(await call(ROAMING_UNKNOWN_COUNTRY, 'device-roaming')).toMatchObject({
      data: { roaming: true },
      missing: ['countryName'],
      missingCodes: { countryName: 'PARTIAL_SUCCESS' },
    });
  });

  it('carrier of a landline: no network codes, named in missing', async () => {
    const { data, missing } = await call('+442079460000', 'carrier');
    expect(data).toMatchObject({
      valid: true,
      originalCarrier: { networkType: 'LANDLINE' },
      currentCarrier: { networkType: 'LANDLINE' },
      ported: false,
    });
    expect(missing).toEqual(['originalCarrier.networkCode', 'currentCarrier.networkCode']);
  });

  it('carrier outside the covered countries: country and networks missing', async () => {
    expect(await call('+81312345678', 'carrier')).toMatchObject({
      data: { valid: true },
      missing: ['countryCode', 'countryName', 'originalCarrier', 'currentCarrier'],
      missingCodes: {
        countryCode: 'PARTIAL_SUCCESS',
        countryName: 'PARTIAL_SUCCESS',
        originalCarrier: 'NO_COVERAGE',
        currentCarrier: 'NO_COVERAGE',
      },
    });
  });

  it('without the field the operation answers with, PARTIAL_SUCCESS is final: NOT_COVERED', async () => {
    await failing(call(PARTIAL_NO_ANSWER, 'sim-swap'), 'NOT_COVERED', PARTIAL_NO_ANSWER);
    await failing(call(PARTIAL_NO_ANSWER, 'device-roaming'), 'NOT_COVERED', PARTIAL_NO_ANSWER);
    await failing(call(REACH_NO_KIND, 'device-connectivity'), 'NOT_COVERED', REACH_NO_KIND);
  });
});

describe('per-insight status codes → netcheck codes', () => {
  it('NOT_FOUND → UNKNOWN_NUMBER (final)', async () => {
    for (const op of ['sim-swap', 'sim-swap-date', 'device-roaming', 'device-connectivity'] as const) {
      const failure = await failing(call(UNKNOWN, op), 'UNKNOWN_NUMBER', UNKNOWN);
      expect(failure.message).toMatch(/answered (sim_swap|roaming|reachability) NOT_FOUND/);
      expect(detailsOf(failure)).toMatchObject({ httpStatus: 200, providerCode: 'NOT_FOUND' });
      expect(detailsOf(failure).requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('INVALID_NUMBER_FORMAT → INVALID_INPUT (fails the run)', async () => {
    const failure = await failing(call('+44770090012345', 'sim-swap'), 'INVALID_INPUT', '+44770090012345');
    expect(failure.message).toMatch(/not one carriers assign/);
  });

  it('NO_COVERAGE and UNSUPPORTED_NETWORK_TYPE → NOT_COVERED (final)', async () => {
    const failure = await failing(call('+81312345678', 'device-roaming'), 'NOT_COVERED', '+81312345678');
    expect(failure.message).toMatch(/no supplier for this number's country/);
    const landline = await failing(call('+442079460000', 'sim-swap'), 'NOT_COVERED', '+442079460000');
    expect(landline.message).toMatch(/type of network/);
  });

  it('UNAUTHORIZED → PERMISSION_DENIED, saying what to register', async () => {
    const failure = await failing(call(UNAUTHORIZED, 'sim-swap'), 'PERMISSION_DENIED', UNAUTHORIZED);
    expect(failure.message).toMatch(/Network Registry/);
    expect(failure.message).toMatch(/SIM Swap/);
  });

  it('INVALID_PURPOSE → CONFIGURATION, naming the purpose sent and the one to use', async () => {
    const failure = await failing(
      call(SWAPPED_10H, 'sim-swap', { purpose: 'NotApplicable' }),
      'CONFIGURATION',
      SWAPPED_10H,
    );
    expect(failure.message).toMatch(/"NotApplicable" is not allowed for SIM Swap/);
    expect(failure.message).toMatch(/FraudPreventionAndDetection/);
    // No purpose at all for a Network Registry insight is refused the same way.
    await failing(
      acts.identityInsights({ msisdn: SWAPPED_10H, operation: 'sim-swap', correlationId: 'c1' }),
      'CONFIGURATION',
      SWAPPED_10H,
    );
  });

  it('SUPPLIER_ERROR and INTERNAL_ERROR → UPSTREAM_UNAVAILABLE, retryable', async () => {
    await failing(call(SUPPLIER_ERROR, 'device-connectivity'), 'UPSTREAM_UNAVAILABLE', SUPPLIER_ERROR, true);
    await failing(call(INTERNAL_ERROR, 'device-roaming'), 'UPSTREAM_UNAVAILABLE', INTERNAL_ERROR, true);
    // Nothing answered: nothing to keep, one request, and Temporal retries the activity.
    expect(sim.stats(SUPPLIER_ERROR).requests['identity-insights']).toEqual({ '200': 1 });
  });
});

describe('a transient per-insight status: asked again alone, answered insights kept', () => {
  it('carrier: the insight that failed is asked again, the others are kept as first answered', async () => {
    const result = await call(CARRIER_FLAKY_ONCE, 'carrier');
    // current_carrier came on the second request; original_carrier stays the first answer's NOT_FOUND
    // (it was not asked again, or it would have answered with data).
    expect(result.data).toMatchObject({
      valid: true,
      countryCode: 'GB',
      currentCarrier: { networkType: 'MOBILE' },
    });
    expect(result.data).not.toHaveProperty('originalCarrier');
    expect(result.missing).toEqual(['originalCarrier']);
    expect(result.missingCodes).toEqual({ originalCarrier: 'NOT_FOUND' });
    expect(sim.stats(CARRIER_FLAKY_ONCE).requests['identity-insights']).toEqual({ '200': 2 });
  });

  it('carrier: when the re-asks run out, the answer is partial — missing, with the code — not a failure', async () => {
    const result = await call(CARRIER_FAILS, 'carrier');
    expect(result.data).toMatchObject({
      valid: true,
      countryCode: 'GB',
      originalCarrier: { networkType: 'MOBILE' },
    });
    expect(result.data).not.toHaveProperty('currentCarrier');
    expect(result.missing).toEqual(['currentCarrier']);
    expect(result.missingCodes).toEqual({ currentCarrier: 'SUPPLIER_ERROR' });
    expect(sim.stats(CARRIER_FAILS).requests['identity-insights']).toEqual({
      '200': 1 + INSIGHT_REASK.times,
    });
  });

  it('carrier: format is what carrier answers first; still failing after the re-asks it fails the attempt (retryable)', async () => {
    await failing(call(FORMAT_FAILS, 'carrier'), 'UPSTREAM_UNAVAILABLE', FORMAT_FAILS, true);
    expect(sim.stats(FORMAT_FAILS).requests['identity-insights']).toEqual({ '200': 1 + INSIGHT_REASK.times });
  });
});

describe("Vonage's Identity Insights Virtual Operator: ten numbers", () => {
  it('+990123400 answers SIM swap (500 h ago), +990123499 is unknown, any other +990 number is invalid', async () => {
    expect((await call(VIRTUAL_OK, 'sim-swap', { maxAge: 240 })).data).toEqual({ swapped: false });
    const date = (await call(VIRTUAL_OK, 'sim-swap-date')).data as { latestSimChange: string };
    expect(Math.abs(Date.parse(date.latestSimChange) - (Date.now() - 500 * HOUR))).toBeLessThan(5_000);
    await failing(call(VIRTUAL_UNKNOWN, 'sim-swap'), 'UNKNOWN_NUMBER', VIRTUAL_UNKNOWN);
    const other = await failing(call(OTHER_VIRTUAL, 'sim-swap'), 'INVALID_INPUT', OTHER_VIRTUAL);
    expect(other.message).toMatch(
      /INVALID_NUMBER_FORMAT: "Invalid number\. Only the following Virtual Operator numbers/,
    );
  });
});

describe('HTTP-level answers, as on the CAMARA road', () => {
  it('429 → RATE_LIMITED after Retry-After; 503 → UPSTREAM_UNAVAILABLE (both retryable)', async () => {
    const limited = await failing(call(LIMITED, 'sim-swap'), 'RATE_LIMITED', LIMITED, true);
    expect(limited.nextRetryDelay).toBe(3000);
    await failing(call(DOWN, 'sim-swap'), 'UPSTREAM_UNAVAILABLE', DOWN, true);
  });

  it('403 and 401 → CONFIGURATION (the application JWT is the credential)', async () => {
    await failing(call(FORBIDDEN, 'carrier'), 'CONFIGURATION', FORBIDDEN);
    const stranger = createActivities({
      applicationId,
      privateKey: makeKeys().privateKey,
      baseUrl: sim.url,
    });
    try {
      const failure = await failing(
        call(SWAPPED_10H, 'sim-swap', {}, stranger),
        'CONFIGURATION',
        SWAPPED_10H,
      );
      expect(failure.message).toMatch(/HTTP 401.*private key belongs/);
    } finally {
      await stranger.close();
    }
  });

  it('404 → CONFIGURATION naming VONAGE_IDENTITY_INSIGHTS_PATH, not UNKNOWN_NUMBER', async () => {
    const lost = createActivities({
      applicationId,
      privateKey,
      baseUrl: sim.url,
      identityInsightsPath: '/v0/insights',
    });
    try {
      const failure = await failing(call(SWAPPED_10H, 'sim-swap', {}, lost), 'CONFIGURATION', SWAPPED_10H);
      expect(failure.message).toMatch(/VONAGE_IDENTITY_INSIGHTS_PATH/);
    } finally {
      await lost.close();
    }
  });
});

describe('wire form and answers the simulator never gives (scripted server)', () => {
  const keys = makeKeys();
  let server: ScriptedServer;
  let scripted: NetcheckActivities;
  const appId = randomUUID();
  const MSISDN = '+447700900299';

  beforeAll(async () => {
    server = await startScriptedServer();
    scripted = createActivities({ applicationId: appId, privateKey: keys.privateKey, baseUrl: server.url });
  });
  afterAll(async () => {
    await scripted.close();
    await server.close();
  });

  const ok = (insights: Record<string, unknown>) => ({ body: { request_id: 'req-1', insights } });
  const okStatus = { code: 'OK', message: 'Success' };

  it('POSTs JSON to the default path with a fresh RS256 application JWT per request', async () => {
    server.reset();
    server.reply(
      ok({ sim_swap: { is_swapped: false, status: okStatus } }),
      ok({ sim_swap: { is_swapped: true, status: okStatus } }),
    );
    await call(MSISDN, 'sim-swap', { maxAge: 12, correlationId: 'corr-wire' }, scripted);
    await call(MSISDN, 'sim-swap', {}, scripted);
    const [first, second] = server.requests;
    expect(first?.path).toBe(DEFAULT_IDENTITY_INSIGHTS_PATH);
    expect(first?.method).toBe('POST');
    expect(first?.headers['content-type']).toMatch(/^application\/json/);
    expect(first?.headers['x-correlator']).toBe('corr-wire');
    expect(JSON.parse(first?.body ?? '')).toEqual({
      phone_number: MSISDN,
      purpose: PURPOSE,
      insights: { sim_swap: { period: 12 } },
    });
    const jwt = bearerOf(first!);
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({ application_id: appId });
    expect(typeof claims.jti).toBe('string');
    expect(decodeJwt(bearerOf(second!)).jti).not.toBe(claims.jti);
  });

  it('sends one insights object per operation; carrier sends no purpose', async () => {
    const bodies: Record<string, unknown> = {};
    for (const op of ['sim-swap-date', 'device-roaming', 'device-connectivity', 'carrier'] as const) {
      server.reset();
      server.reply({ status: 418, body: {} });
      await failureOf(call(MSISDN, op, {}, scripted));
      bodies[op] = JSON.parse(server.requests[0]?.body ?? '');
    }
    expect(bodies).toEqual({
      'sim-swap-date': { phone_number: MSISDN, purpose: PURPOSE, insights: { sim_swap: {} } },
      'device-roaming': { phone_number: MSISDN, purpose: PURPOSE, insights: { roaming: {} } },
      'device-connectivity': { phone_number: MSISDN, purpose: PURPOSE, insights: { reachability: {} } },
      carrier: { phone_number: MSISDN, insights: { format: {}, original_carrier: {}, current_carrier: {} } },
    });
  });

  it('accepts either letter case of DATA/SMS and keeps only the documented fields', async () => {
    server.reset();
    server.reply(
      ok({
        reachability: {
          is_reachable: true,
          connectivity: ['sms', 'data'],
          latest_status_at: 'x',
          extra: 1,
          status: okStatus,
        },
      }),
    );
    expect(await call(MSISDN, 'device-connectivity', {}, scripted)).toEqual({
      data: { connectivityStatus: 'CONNECTED_DATA' },
      requestId: 'req-1',
    });
  });

  it('unknown status codes, missing insights and broken bodies → PROTOCOL_ERROR', async () => {
    server.reset();
    server.reply(
      ok({ sim_swap: { status: { code: 'MAYBE_LATER' } } }),
      ok({ format: { is_format_valid: true, status: okStatus } }),
      ok({ sim_swap: { status: okStatus } }),
      { body: 'not json', headers: { 'content-type': 'text/plain' } },
      ok({ sim_swap: { is_swapped: 'yes', status: okStatus } }),
    );
    for (let i = 0; i < 5; i++)
      await failing(call(MSISDN, 'sim-swap', {}, scripted), 'PROTOCOL_ERROR', MSISDN);
  });

  it('a timestamp without a zone is read as UTC', async () => {
    server.reset();
    server.reply(
      ok({ sim_swap: { latest_sim_swap_at: '2017-11-14T01:07:28', is_swapped: false, status: okStatus } }),
      ok({ sim_swap: { latest_sim_swap_at: '2017-11-14T01:07:28.5', status: okStatus } }),
      ok({ sim_swap: { latest_sim_swap_at: '2017-11-14T02:07:28+01:00', status: okStatus } }),
    );
    expect((await call(MSISDN, 'sim-swap-date', {}, scripted)).data).toEqual({
      latestSimChange: '2017-11-14T01:07:28Z',
    });
    expect((await call(MSISDN, 'sim-swap-date', {}, scripted)).data).toEqual({
      latestSimChange: '2017-11-14T01:07:28.5Z',
    });
    // With a zone: as sent.
    expect((await call(MSISDN, 'sim-swap-date', {}, scripted)).data).toEqual({
      latestSimChange: '2017-11-14T02:07:28+01:00',
    });
  });

  const carrierOk = {
    format: { is_format_valid: true, country_code: 'GB', country_name: 'United Kingdom', status: okStatus },
    original_carrier: {
      name: 'Orig',
      network_type: 'MOBILE',
      network_code: '23410',
      country_code: 'GB',
      status: okStatus,
    },
    current_carrier: {
      name: 'Curr',
      network_type: 'MOBILE',
      network_code: '23420',
      country_code: 'GB',
      status: okStatus,
    },
  };
  const supplierError = { status: { code: 'SUPPLIER_ERROR', message: 'The supplier returned an error.' } };
  const insightsAsked = (i: number) =>
    Object.keys((JSON.parse(server.requests[i]?.body ?? '{}') as { insights: object }).insights);

  it('asks again for the transient insight alone, then answers with everything', async () => {
    server.reset();
    server.reply(
      ok({ ...carrierOk, current_carrier: supplierError }),
      // Whatever else a re-ask says is not asked for and not taken.
      ok({ current_carrier: carrierOk.current_carrier, original_carrier: { status: { code: 'NOT_FOUND' } } }),
    );
    const result = await call(MSISDN, 'carrier', { correlationId: 'corr-reask' }, scripted);
    expect(result).toEqual({
      data: {
        valid: true,
        countryCode: 'GB',
        countryName: 'United Kingdom',
        originalCarrier: { name: 'Orig', networkType: 'MOBILE', networkCode: '23410', countryCode: 'GB' },
        currentCarrier: { name: 'Curr', networkType: 'MOBILE', networkCode: '23420', countryCode: 'GB' },
        ported: true,
      },
      requestId: 'req-1',
    });
    expect(server.requests).toHaveLength(2);
    expect(insightsAsked(0)).toEqual(['format', 'original_carrier', 'current_carrier']);
    expect(JSON.parse(server.requests[1]?.body ?? '')).toEqual({
      phone_number: MSISDN,
      insights: { current_carrier: {} },
    });
    expect(server.requests[1]?.headers['x-correlator']).toBe('corr-reask');
    // A fresh application JWT for the re-ask too.
    expect(decodeJwt(bearerOf(server.requests[1]!)).jti).not.toBe(
      decodeJwt(bearerOf(server.requests[0]!)).jti,
    );
  });

  it('a 503 or 429 on a re-ask uses up one re-ask (after Retry-After); a final answer ends them', async () => {
    server.reset();
    server.reply(
      ok({ ...carrierOk, original_carrier: supplierError, current_carrier: supplierError }),
      { status: 503, body: { status: 503, code: 'UNAVAILABLE', message: 'down' } },
      {
        status: 429,
        body: { status: 429, code: 'TOO_MANY_REQUESTS', message: 'slow' },
        headers: { 'retry-after': '1' },
      },
      ok({ original_carrier: carrierOk.original_carrier, current_carrier: supplierError }),
    );
    const result = await call(MSISDN, 'carrier', {}, scripted);
    expect(server.requests).toHaveLength(1 + INSIGHT_REASK.times);
    expect(insightsAsked(3)).toEqual(['original_carrier', 'current_carrier']);
    expect(result.data).toMatchObject({ originalCarrier: { name: 'Orig' } });
    expect(result.missing).toEqual(['currentCarrier']);
    expect(result.missingCodes).toEqual({ currentCarrier: 'SUPPLIER_ERROR' });

    server.reset();
    server.reply(ok({ ...carrierOk, current_carrier: supplierError }), {
      status: 401,
      body: { type: 'https://developer.vonage.com/api-errors#unauthorized', title: 'Unauthorized' },
    });
    await failing(call(MSISDN, 'carrier', {}, scripted), 'CONFIGURATION', MSISDN);
    expect(server.requests).toHaveLength(2);
  });

  it('a single-insight operation has nothing to keep: a transient status fails the attempt at once', async () => {
    server.reset();
    server.reply(ok({ sim_swap: supplierError }));
    await failing(call(MSISDN, 'sim-swap', {}, scripted), 'UPSTREAM_UNAVAILABLE', MSISDN, true);
    expect(server.requests).toHaveLength(1);
  });

  it('400 → INVALID_ARGUMENT; provider text is cleaned of the number and of JWTs', async () => {
    server.reset();
    server.handle((req) => ({
      status: 400,
      body: {
        type: 'https://developer.vonage.com/api-errors#invalid-params',
        title: 'Bad Request',
        detail: `phone_number ${MSISDN} is odd; you sent ${req.headers.authorization ?? ''}`,
      },
    }));
    const failure = await failing(call(MSISDN, 'sim-swap', {}, scripted), 'INVALID_ARGUMENT', MSISDN);
    expect(failure.message).toContain('[redacted]');
    server.reset();
    server.reply(
      ok({
        sim_swap: {
          status: { code: 'NOT_FOUND', message: `Unknown number ${MSISDN.slice(1)} (also 447700900111)` },
        },
      }),
    );
    const notFound = await failing(call(MSISDN, 'sim-swap', {}, scripted), 'UNKNOWN_NUMBER', MSISDN);
    expect(notFound.message).not.toContain('447700900111');
    expect(notFound.message).toMatch(/\[number\]|\+44\*+111/);
  });
});

describe('input and configuration', () => {
  it('refuses a purpose outside Vonage’s list and a malformed number without quoting it', async () => {
    await failing(call(SWAPPED_10H, 'sim-swap', { purpose: 'Marketing' }), 'INVALID_INPUT', SWAPPED_10H);
    await failing(call('447700900201', 'sim-swap'), 'INVALID_INPUT', '+447700900201');
  });

  it('refuses an Identity Insights path that is not a path', () => {
    for (const identityInsightsPath of ['identity-insights', '/a b', '/x?y=1', '/../etc', '']) {
      expect(() =>
        createVonageClient({ applicationId, privateKey, baseUrl: sim.url, identityInsightsPath }),
      ).toThrow(/Identity Insights path/);
    }
  });

  it('VONAGE_IDENTITY_INSIGHTS_PATH sets the path; absent, the default applies', () => {
    const pem = makeKeys().privateKeyPem;
    const base = { VONAGE_APPLICATION_ID: applicationId, VONAGE_PRIVATE_KEY: pem };
    expect(
      loadConfig({ ...base, VONAGE_IDENTITY_INSIGHTS_PATH: '/v0.1/identity-insights' }).identityInsightsPath,
    ).toBe('/v0.1/identity-insights');
    expect(loadConfig(base).identityInsightsPath).toBeUndefined();
    expect(() => loadConfig({ ...base, VONAGE_IDENTITY_INSIGHTS_PATH: 'https://x/y' })).toThrow(
      /VONAGE_IDENTITY_INSIGHTS_PATH must be a URL path/,
    );
  });
});
