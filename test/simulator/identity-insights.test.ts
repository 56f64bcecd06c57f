/**
 * The simulator's Identity Insights endpoint over real HTTP: both paths, the application JWT
 * (fresh jti), the body, the Playground purpose rule, answers from the same subscribers as the
 * CAMARA endpoints, per-insight statuses, carrier data, scenario overrides, faults, the rate
 * limit, stats and the request log.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskMsisdn } from '../../domain/msisdn.js';
import { CAMARA_OPERATIONS, type CamaraOperation } from '../../domain/operations.js';
import { IDENTITY_INSIGHTS_PATHS } from '../../simulator/identity-insights.js';
import { IDENTITY_INSIGHTS_VIRTUAL_NUMBERS } from '../../simulator/virtual-operator.js';
import { camaraBody, expectProblem401, makeKeys, post, TestSim, type HttpResult } from './helpers.js';

const HOUR = 3_600_000;
const PURPOSE = 'FraudPreventionAndDetection';
const [SDK_PATH, REFERENCE_PATH] = IDENTITY_INSIGHTS_PATHS;

const SWAPPED_100H = '+447700900501';
const NEVER_SWAPPED = '+447700900502';
const SMS_ROAMING = '+447700900503';
const UNKNOWN_FLAG = '+447700900504';
const ROAMING_NO_COUNTRY = '+447700900505';
const OVERRIDES = '+447700900506';
const ONCE = '+447700900507';
const CARRIER_OVERRIDE = '+819012345678';
const NOT_CONNECTED = '+447700900509';

let t: TestSim;

beforeAll(async () => {
  t = await TestSim.start({
    fakeClock: true,
    interval: 0,
    scenarios: {
      numbers: {
        [SWAPPED_100H]: { lastSimChangeHoursAgo: 100, connectivity: 'CONNECTED_DATA' },
        [NEVER_SWAPPED]: { lastSimChange: null },
        [SMS_ROAMING]: {
          connectivity: 'CONNECTED_SMS',
          roaming: { roaming: true, countryCode: 262, countryName: ['DE'] },
        },
        [UNKNOWN_FLAG]: { unknown: true },
        [ROAMING_NO_COUNTRY]: { roaming: { roaming: true } },
        [NOT_CONNECTED]: { connectivity: 'NOT_CONNECTED' },
        [OVERRIDES]: {
          lastSimChangeHoursAgo: 5,
          insights: {
            sim_swap: { omit: ['latest_sim_swap_at'] },
            roaming: { status: 'NO_COVERAGE' },
            reachability: { status: 'UNAUTHORIZED', message: 'Not on the allowlist' },
            current_carrier: { status: 'SUPPLIER_ERROR' },
          },
        },
        [ONCE]: { lastSimChangeHoursAgo: 1, insights: { sim_swap: { status: 'INTERNAL_ERROR', times: 1 } } },
        [CARRIER_OVERRIDE]: {
          carrier: {
            countryCode: 'JP',
            countryName: 'Japan',
            original: { name: 'Old Net', networkType: 'MOBILE', networkCode: '44010', countryCode: 'JP' },
            current: { name: 'New Net', networkType: 'MOBILE', networkCode: '44020', countryCode: 'JP' },
          },
        },
      },
    },
  });
});
afterAll(() => t.close());

interface Options {
  path?: string;
  jwt?: string | null;
  headers?: Record<string, string>;
}

async function insightsRequest(body: unknown, options: Options = {}): Promise<HttpResult> {
  const jwt = options.jwt === undefined ? await t.jwt() : options.jwt;
  return post(`${t.url}${options.path ?? SDK_PATH}`, {
    json: body,
    headers: { ...(jwt === null ? {} : { authorization: `Bearer ${jwt}` }), ...options.headers },
  });
}

/** One insight of a 200 answer. */
async function insight(
  msisdn: string,
  name: string,
  params: Record<string, unknown> = {},
  purpose: string | null = PURPOSE,
): Promise<Record<string, unknown>> {
  const res = await insightsRequest({
    phone_number: msisdn,
    ...(purpose !== null ? { purpose } : {}),
    insights: { [name]: params },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.json.insights as Record<string, Record<string, unknown>>)[name] ?? {};
}

const codeOf = (answer: Record<string, unknown>) => (answer.status as { code: string }).code;

/** The CAMARA answer for the same number (the whole CIBA flow; no spec files needed). */
async function camara(operation: CamaraOperation, msisdn: string, maxAge?: number) {
  const token = await t.accessToken(msisdn, operation);
  const res = await post(`${t.url}${CAMARA_OPERATIONS[operation].path}`, {
    json: camaraBody(operation, msisdn, maxAge),
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.json;
}

describe('request and authentication', () => {
  it.each(IDENTITY_INSIGHTS_PATHS)(
    'answers at %s with a request_id and one object per insight',
    async (p) => {
      const res = await insightsRequest(
        { phone_number: SWAPPED_100H, purpose: PURPOSE, insights: { sim_swap: { period: 240 }, format: {} } },
        { path: p },
      );
      expect(res.status).toBe(200);
      expect(res.json.request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Object.keys(res.json.insights as object).sort()).toEqual(['format', 'sim_swap']);
    },
  );

  it('refuses a missing, foreign, expired or replayed application JWT (RFC 7807 401)', async () => {
    const body = { phone_number: SWAPPED_100H, insights: { format: {} } };
    expectProblem401(await insightsRequest(body, { jwt: null }), /Missing Authorization/);
    expectProblem401(
      await insightsRequest(body, { jwt: await t.jwt({ applicationId: 'someone-else' }) }),
      /application_id/,
    );
    const nowS = Math.floor(t.now() / 1000);
    expectProblem401(
      await insightsRequest(body, { jwt: await t.jwt({ iat: nowS - 1000, exp: nowS - 10 }) }),
      /expired/,
    );
    const jwt = await t.jwt();
    expect((await insightsRequest(body, { jwt })).status).toBe(200);
    expectProblem401(await insightsRequest(body, { jwt }), /already used \(jti\)/);
    // The other path shares the same memory of used jtis.
    expectProblem401(await insightsRequest(body, { jwt, path: REFERENCE_PATH }), /already used/);
  });

  it('answers 400 with an RFC 7807 body for bodies it cannot take', async () => {
    const bad = async (body: unknown, raw?: string) => {
      const res = raw
        ? await post(`${t.url}${SDK_PATH}`, {
            raw,
            headers: { authorization: `Bearer ${await t.jwt()}`, 'content-type': 'application/json' },
          })
        : await insightsRequest(body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.json).toMatchObject({ type: expect.stringMatching(/#invalid-/) as unknown });
      return res.json.detail as string;
    };
    await bad(undefined, '{not json');
    expect(await bad({ phone_number: SWAPPED_100H, insights: {} })).toMatch(/at least one insight/);
    expect(await bad({ phone_number: SWAPPED_100H, insights: { subscriber_match: {} } })).toMatch(
      /subscriber_match/,
    );
    expect(await bad({ phone_number: SWAPPED_100H, insights: { sim_swap: { period: 2401 } } })).toMatch(
      /period/,
    );
    expect(await bad({ insights: { format: {} } })).toMatch(/phone_number/);
  });

  it('reads the number the way Vonage does: + optional, other characters ignored, never 00', async () => {
    for (const form of ['447700900501', '+44 (7700) 900-501']) {
      const answer = await insight(form, 'sim_swap', { period: 200 });
      expect(answer).toMatchObject({ is_swapped: true, status: { code: 'OK' } });
    }
    expect(codeOf(await insight('00447700900501', 'sim_swap'))).toBe('INVALID_NUMBER_FORMAT');
  });
});

describe('Network Registry insights: the Playground purpose rule', () => {
  it.each([['NotApplicable'], [null]])(
    'purpose %s → INVALID_PURPOSE on sim_swap, roaming, reachability',
    async (purpose) => {
      for (const name of ['sim_swap', 'roaming', 'reachability']) {
        expect(codeOf(await insight(SWAPPED_100H, name, {}, purpose))).toBe('INVALID_PURPOSE');
      }
      // Format and carriers need no purpose.
      expect(codeOf(await insight('+447700900123', 'format', {}, purpose))).toBe('OK');
    },
  );
});

describe('Network Registry insights: the CAMARA subscribers', () => {
  it('sim_swap: is_swapped by period (boundary included), latest_sim_swap_at in seconds', async () => {
    expect(await insight(SWAPPED_100H, 'sim_swap', { period: 99 })).toEqual({
      latest_sim_swap_at: new Date(t.now() - 100 * HOUR).toISOString().replace('.000Z', 'Z'),
      is_swapped: false,
      status: { code: 'OK', message: 'Success' },
    });
    expect((await insight(SWAPPED_100H, 'sim_swap', { period: 100 })).is_swapped).toBe(true);
    expect((await insight(SWAPPED_100H, 'sim_swap')).is_swapped).toBe(true); // period 240 by default
  });

  it('sim_swap of a number never swapped: not swapped, no date', async () => {
    expect(await insight(NEVER_SWAPPED, 'sim_swap')).toEqual({
      is_swapped: false,
      status: { code: 'OK', message: 'Success' },
    });
  });

  it('roaming: is_roaming and the alpha-2 countries; PARTIAL_SUCCESS when the country is unknown', async () => {
    expect(await insight(SMS_ROAMING, 'roaming')).toMatchObject({
      is_roaming: true,
      country_codes: ['DE'],
      latest_status_at: expect.any(String) as unknown,
      status: { code: 'OK' },
    });
    const partial = await insight(ROAMING_NO_COUNTRY, 'roaming');
    expect(partial).toMatchObject({ is_roaming: true, status: { code: 'PARTIAL_SUCCESS' } });
    expect(partial).not.toHaveProperty('country_codes');
    expect(await insight(NEVER_SWAPPED, 'roaming')).toMatchObject({ is_roaming: false });
  });

  it('reachability: CAMARA connectivity as is_reachable + DATA/SMS', async () => {
    expect(await insight(SWAPPED_100H, 'reachability')).toMatchObject({
      is_reachable: true,
      connectivity: ['DATA', 'SMS'],
    });
    expect(await insight(SMS_ROAMING, 'reachability')).toMatchObject({
      is_reachable: true,
      connectivity: ['SMS'],
    });
    const off = await insight(NOT_CONNECTED, 'reachability');
    expect(off).toMatchObject({ is_reachable: false, status: { code: 'OK' } });
    expect(off).not.toHaveProperty('connectivity');
  });

  it('a scenario number marked unknown answers NOT_FOUND', async () => {
    for (const name of ['sim_swap', 'roaming', 'reachability']) {
      expect(codeOf(await insight(UNKNOWN_FLAG, name))).toBe('NOT_FOUND');
    }
  });

  it('agrees with the CAMARA endpoint for the same number', async () => {
    const ii = await insight(SWAPPED_100H, 'sim_swap', { period: 150 });
    expect(ii.is_swapped).toBe((await camara('sim-swap', SWAPPED_100H, 150)).swapped);
    const date = await camara('sim-swap-date', SWAPPED_100H);
    expect(Date.parse(ii.latest_sim_swap_at as string)).toBe(Date.parse(date.latestSimChange as string));
  });

  it('Virtual Operator numbers: last swap 500 h ago, …99 unknown, roaming by the last digits', async () => {
    expect((await insight('+990123400', 'sim_swap', { period: 501 })).is_swapped).toBe(true);
    expect((await insight('+990123400', 'sim_swap', { period: 499 })).is_swapped).toBe(false);
    expect(codeOf(await insight('+990123499', 'sim_swap'))).toBe('NOT_FOUND');
    const roaming = await camara('device-roaming', '+990123422');
    const ii = await insight('+990123422', 'roaming');
    expect(ii.is_roaming).toBe(roaming.roaming);
    expect(ii.country_codes).toEqual(roaming.countryName);
  });

  it("Vonage's Identity Insights Virtual Operator: exactly the ten documented numbers", async () => {
    for (const msisdn of IDENTITY_INSIGHTS_VIRTUAL_NUMBERS) {
      const answer = await insight(msisdn, 'sim_swap');
      if (msisdn === '+990123499') {
        expect(answer).toEqual({ status: { code: 'NOT_FOUND', message: 'Unknown phone number.' } });
      } else {
        expect(codeOf(answer)).toBe('OK');
        expect(Date.parse(answer.latest_sim_swap_at as string)).toBe(t.now() - 500 * HOUR);
        expect(answer.is_swapped).toBe(false); // the default period, 240 h < 500 h
      }
    }
  });

  it.each(['+99012345601', '+99012345699', '+9901234500', '+990123401', '+99088888888'])(
    'any other +990 number (%s) answers INVALID_NUMBER_FORMAT for every insight, naming the ten',
    async (msisdn) => {
      const res = await insightsRequest({
        phone_number: msisdn,
        purpose: PURPOSE,
        insights: { sim_swap: {}, roaming: {}, reachability: {}, format: {}, current_carrier: {} },
      });
      expect(res.status).toBe(200);
      for (const answer of Object.values(res.json.insights as Record<string, Record<string, unknown>>)) {
        expect(answer).toEqual({
          status: {
            code: 'INVALID_NUMBER_FORMAT',
            message: expect.stringMatching(
              /^Invalid number\. Only the following Virtual Operator numbers are allowed: 990123400, 990123411, .*990123499\.$/,
            ) as unknown,
          },
        });
      }
      // The CIBA road still answers it by its own Virtual Operator rules.
      expect((await camara('device-roaming', msisdn)).roaming).toBeTypeOf('boolean');
    },
  );

  it('numbers in no scenario: NO_COVERAGE, INVALID_NUMBER_FORMAT, UNSUPPORTED_NETWORK_TYPE or NOT_FOUND', async () => {
    expect(codeOf(await insight('+81312345678', 'sim_swap'))).toBe('NO_COVERAGE'); // Japan: not simulated
    expect(codeOf(await insight('+44770090012345', 'sim_swap'))).toBe('INVALID_NUMBER_FORMAT'); // too long for GB
    expect(codeOf(await insight('+442079460000', 'roaming'))).toBe('UNSUPPORTED_NETWORK_TYPE'); // a London landline
    expect(codeOf(await insight('+447700900999', 'reachability'))).toBe('NOT_FOUND');
  });
});

describe('format and carriers', () => {
  it('a GB mobile number: format OK, original and current carrier with MCC+MNC', async () => {
    const res = await insightsRequest({
      phone_number: '+447700900123',
      insights: { format: {}, original_carrier: {}, current_carrier: {} },
    });
    const insights = res.json.insights as Record<string, Record<string, unknown>>;
    expect(insights.format).toMatchObject({
      country_code: 'GB',
      country_name: 'United Kingdom',
      country_prefix: '44',
      number_international: '+447700900123',
      is_format_valid: true,
      status: { code: 'OK' },
    });
    for (const name of ['original_carrier', 'current_carrier']) {
      expect(insights[name]).toMatchObject({
        name: expect.stringMatching(/^GB Mobile [ABC] \(simulated\)$/) as unknown,
        network_type: 'MOBILE',
        country_code: 'GB',
        network_code: expect.stringMatching(/^2340[123]$/) as unknown,
        status: { code: 'OK' },
      });
    }
    expect(insights.original_carrier?.network_code).toBe(insights.current_carrier?.network_code);
  });

  it('numbers ending in 7 have moved to another network (ported)', async () => {
    const original = await insight('+447700900127', 'original_carrier');
    const current = await insight('+447700900127', 'current_carrier');
    expect(original.network_code).not.toBe(current.network_code);
  });

  it('a landline: carriers PARTIAL_SUCCESS without a network code', async () => {
    const answer = await insight('+442079460000', 'current_carrier');
    expect(answer).toMatchObject({ network_type: 'LANDLINE', status: { code: 'PARTIAL_SUCCESS' } });
    expect(answer).not.toHaveProperty('network_code');
  });

  it('a wrong length: format says not valid, carriers INVALID_NUMBER_FORMAT', async () => {
    expect(await insight('+44770090012345', 'format')).toMatchObject({
      country_code: 'GB',
      is_format_valid: false,
      status: { code: 'OK' },
    });
    expect(codeOf(await insight('+44770090012345', 'original_carrier'))).toBe('INVALID_NUMBER_FORMAT');
  });

  it('a calling code the simulator does not know: format PARTIAL_SUCCESS, carriers NO_COVERAGE', async () => {
    const format = await insight('+81312345678', 'format');
    expect(format).toMatchObject({ is_format_valid: true, status: { code: 'PARTIAL_SUCCESS' } });
    expect(format).not.toHaveProperty('country_code');
    expect(codeOf(await insight('+81312345678', 'current_carrier'))).toBe('NO_COVERAGE');
  });

  it('a scenario sets the carrier data of any number', async () => {
    expect(await insight(CARRIER_OVERRIDE, 'format')).toMatchObject({
      country_code: 'JP',
      country_name: 'Japan',
      status: { code: 'OK' },
    });
    expect(await insight(CARRIER_OVERRIDE, 'current_carrier')).toEqual({
      name: 'New Net',
      network_type: 'MOBILE',
      country_code: 'JP',
      network_code: '44020',
      status: { code: 'OK', message: 'Success' },
    });
  });
});

describe('scenario overrides of insight answers', () => {
  it('status, message and omitted fields (PARTIAL_SUCCESS), per insight in one answer', async () => {
    const res = await insightsRequest({
      phone_number: OVERRIDES,
      purpose: PURPOSE,
      insights: { sim_swap: {}, roaming: {}, reachability: {}, original_carrier: {}, current_carrier: {} },
    });
    const insights = res.json.insights as Record<string, Record<string, unknown>>;
    expect(insights.sim_swap).toEqual({
      is_swapped: true,
      status: { code: 'PARTIAL_SUCCESS', message: expect.any(String) as unknown },
    });
    expect(insights.roaming).toEqual({
      status: { code: 'NO_COVERAGE', message: expect.any(String) as unknown },
    });
    expect(insights.reachability).toEqual({
      status: { code: 'UNAUTHORIZED', message: 'Not on the allowlist' },
    });
    expect(codeOf(insights.original_carrier ?? {})).toBe('OK'); // one insight fails, another answers
    expect(codeOf(insights.current_carrier ?? {})).toBe('SUPPLIER_ERROR');
  });

  it('times: n applies to the first n requests only', async () => {
    expect(codeOf(await insight(ONCE, 'sim_swap'))).toBe('INTERNAL_ERROR');
    expect(await insight(ONCE, 'sim_swap')).toMatchObject({ is_swapped: true, status: { code: 'OK' } });
  });

  it('rejects unknown insight names and status codes in scenario files', async () => {
    const res = await post(`${t.url}/__simulator/scenarios`, {
      json: {
        numbers: { '+447700900599': { insights: { sim_swap: { status: 'MAYBE' } }, carrier: { x: 1 } } },
      },
    });
    expect(res.status).toBe(400);
    const issues = (res.json.issues as string[]).join('\n');
    expect(issues).toMatch(/insights\.sim_swap\.status: Invalid option/);
    expect(issues).toMatch(/carrier: Unrecognized key/);
  });
});

describe('faults, rate limit, stats and the request log', () => {
  const keys = makeKeys();

  it('scripted faults for identity-insights hit only that endpoint; stats are kept under identity-insights', async () => {
    const msisdn = '+447700900601';
    const sim = await TestSim.start(
      {
        interval: 0,
        scenarios: {
          numbers: { [msisdn]: { faults: [{ endpoint: 'identity-insights', status: 503, retryAfter: 2 }] } },
        },
      },
      keys,
    );
    try {
      const jwt = await sim.jwt();
      const body = { phone_number: msisdn, insights: { format: {} } };
      // bc-authorize does not take the fault …
      expect(
        (
          await sim.bcAuthorize({
            login_hint: `tel:${msisdn}`,
            scope: 'openid dpv:FraudPreventionAndDetection#check-sim-swap',
          })
        ).status,
      ).toBe(200);
      // … Identity Insights does, once.
      const failed = await post(`${sim.url}${SDK_PATH}`, {
        json: body,
        headers: { authorization: `Bearer ${jwt}` },
      });
      expect(failed.status).toBe(503);
      expect(failed.headers.get('retry-after')).toBe('2');
      const ok = await post(`${sim.url}${REFERENCE_PATH}`, {
        json: body,
        headers: { authorization: `Bearer ${await sim.jwt()}` },
      });
      expect(ok.status).toBe(200);
      expect(sim.sim.stats(msisdn).requests['identity-insights']).toEqual({ '503': 1, '200': 1 });
    } finally {
      await sim.close();
    }
  });

  it('the global rate limit and random faults apply to Identity Insights too', async () => {
    const sim = await TestSim.start({ interval: 0, rateLimit: 1, faults: { retryAfterSeconds: 1 } }, keys);
    try {
      const send = async () =>
        post(`${sim.url}${SDK_PATH}`, {
          json: { phone_number: '+447700900602', insights: { format: {} } },
          headers: { authorization: `Bearer ${await sim.jwt()}` },
        });
      expect((await send()).status).toBe(200);
      const limited = await send();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(sim.sim.stats().violations['rate-limit-exceeded']).toBe(1);
    } finally {
      await sim.close();
    }
    const faulty = await TestSim.start({ interval: 0, faults: { unavailable: 1 } }, keys);
    try {
      const res = await post(`${faulty.url}${SDK_PATH}`, { json: {}, headers: {} });
      expect(res.status).toBe(503);
    } finally {
      await faulty.close();
    }
  });

  it('logs one masked line per request, never the JWT or the number', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'netcheck-ii-log-'));
    const logPath = path.join(dir, 'requests.jsonl');
    const msisdn = '+447700900603';
    const sim = await TestSim.start({ interval: 0, requestLog: logPath }, keys);
    const jwt = await sim.jwt();
    try {
      const res = await post(`${sim.url}${SDK_PATH}`, {
        json: { phone_number: msisdn, insights: { format: {} } },
        headers: { authorization: `Bearer ${jwt}`, 'x-correlator': 'ii-1' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-correlator')).toBe('ii-1');
    } finally {
      await sim.close();
    }
    const text = await readFile(logPath, 'utf8');
    await rm(dir, { recursive: true, force: true });
    const line = JSON.parse(text.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      method: 'POST',
      path: SDK_PATH,
      endpoint: 'identity-insights',
      status: 200,
      msisdn: maskMsisdn(msisdn),
      xCorrelator: 'ii-1',
    });
    expect(text).not.toContain(msisdn.slice(1));
    expect(text).not.toContain(jwt);
  });
});
