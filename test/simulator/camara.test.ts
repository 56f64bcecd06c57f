/**
 * The four CAMARA endpoints: answers from scenario data, body validation, maxAge bounds,
 * unknown numbers, x-correlator. Every request and answer is checked against the OpenAPI
 * files by the TestSim client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAMARA_OPERATION_NAMES } from '../../simulator/wire.js';
import {
  camaraBody,
  expectCamaraError,
  expectOAuthError,
  pathOf,
  post,
  TestSim,
  type Operation,
} from './helpers.js';

const HOUR = 3_600_000;
const SWAPPED_100H = '+447700900401';
const NEVER_SWAPPED = '+447700900402';
const SMS_ROAMING = '+447700900403';
const UNKNOWN_FLAG = '+447700900404';
const NOT_LISTED = '+447700900405';

let t: TestSim;
const tokens = new Map<string, string>();
/** One token per number and operation, fetched once. */
async function token(msisdn: string, operation: Operation): Promise<string> {
  const key = `${msisdn} ${operation}`;
  let tok = tokens.get(key);
  if (!tok) {
    tok = await t.accessToken(msisdn, operation);
    tokens.set(key, tok);
  }
  return tok;
}

beforeAll(async () => {
  t = await TestSim.start({
    fakeClock: true,
    interval: 0,
    scenarios: {
      numbers: {
        [SWAPPED_100H]: { lastSimChangeHoursAgo: 100, connectivity: 'NOT_CONNECTED' },
        [NEVER_SWAPPED]: { lastSimChange: null },
        [SMS_ROAMING]: {
          lastSimChange: '2030-01-01T00:00:00Z',
          connectivity: 'CONNECTED_SMS',
          roaming: { roaming: true, countryCode: 340, countryName: ['BL', 'GF', 'GP', 'MF', 'MQ'] },
        },
        [UNKNOWN_FLAG]: { unknown: true },
      },
    },
  });
});
afterAll(() => t.close());

describe('SIM Swap check', () => {
  it('answers swapped by comparing the last change with maxAge', async () => {
    const tok = await token(SWAPPED_100H, 'sim-swap');
    const at = async (maxAge: number) =>
      (await t.camara('sim-swap', camaraBody('sim-swap', SWAPPED_100H, maxAge), tok)).json;
    expect(await at(99)).toEqual({ swapped: false });
    expect(await at(100)).toEqual({ swapped: true });
    expect(await at(2400)).toEqual({ swapped: true });
  });

  it('uses maxAge 240 when it is absent', async () => {
    // Changed 2030-01-01T00:00Z, the clock is 2030-01-15T12:00Z: 348 h ago.
    const tok = await token(SMS_ROAMING, 'sim-swap');
    expect((await t.camara('sim-swap', { phoneNumber: SMS_ROAMING }, tok)).json).toEqual({ swapped: false });
    expect((await t.camara('sim-swap', camaraBody('sim-swap', SMS_ROAMING, 348), tok)).json).toEqual({
      swapped: true,
    });
  });

  it('answers swapped false for a number never swapped', async () => {
    const tok = await token(NEVER_SWAPPED, 'sim-swap');
    expect((await t.camara('sim-swap', camaraBody('sim-swap', NEVER_SWAPPED, 2400), tok)).json).toEqual({
      swapped: false,
    });
  });

  it('accepts maxAge at both bounds and refuses 0, 2401, fractions and strings', async () => {
    const tok = await token(SWAPPED_100H, 'sim-swap');
    for (const maxAge of [1, 2400]) {
      expect((await t.camara('sim-swap', camaraBody('sim-swap', SWAPPED_100H, maxAge), tok)).status).toBe(
        200,
      );
    }
    for (const maxAge of [0, 2401, 1.5, '240', -1]) {
      const res = await t.camara('sim-swap', { phoneNumber: SWAPPED_100H, maxAge }, tok, {
        invalidBody: true,
      });
      expectCamaraError(res, 400, 'INVALID_ARGUMENT');
      expect(res.json.message).toMatch(/maxAge/);
    }
  });

  it('accepts a phoneNumber without the +', async () => {
    const tok = await token(SWAPPED_100H, 'sim-swap');
    const res = await t.camara('sim-swap', { phoneNumber: SWAPPED_100H.slice(1), maxAge: 200 }, tok);
    expect(res.json).toEqual({ swapped: true });
  });
});

describe('SIM Swap retrieve-date', () => {
  it('answers the date of the last change', async () => {
    const tok = await token(SWAPPED_100H, 'sim-swap-date');
    const res = await t.camara('sim-swap-date', camaraBody('sim-swap-date', SWAPPED_100H), tok);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      latestSimChange: new Date(t.now() - 100 * HOUR).toISOString().replace('.000Z', 'Z'),
    });
  });

  it('answers a given ISO date unchanged', async () => {
    const tok = await token(SMS_ROAMING, 'sim-swap-date');
    const res = await t.camara('sim-swap-date', camaraBody('sim-swap-date', SMS_ROAMING), tok);
    expect(res.json).toEqual({ latestSimChange: '2030-01-01T00:00:00Z' });
  });

  it('leaves latestSimChange out for a number never swapped (v0.4.0 does not allow null)', async () => {
    const tok = await token(NEVER_SWAPPED, 'sim-swap-date');
    const res = await t.camara('sim-swap-date', camaraBody('sim-swap-date', NEVER_SWAPPED), tok);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
  });
});

describe('Device Status', () => {
  it('answers connectivity from the scenario, CONNECTED_DATA by default', async () => {
    const connectivity = async (msisdn: string) =>
      (
        await t.camara(
          'device-connectivity',
          camaraBody('device-connectivity', msisdn),
          await token(msisdn, 'device-connectivity'),
        )
      ).json;
    expect(await connectivity(SMS_ROAMING)).toEqual({ connectivityStatus: 'CONNECTED_SMS' });
    expect(await connectivity(SWAPPED_100H)).toEqual({ connectivityStatus: 'NOT_CONNECTED' });
    expect(await connectivity(NEVER_SWAPPED)).toEqual({ connectivityStatus: 'CONNECTED_DATA' });
  });

  it('answers roaming with the country from the scenario, not roaming by default', async () => {
    const roaming = async (msisdn: string) =>
      (
        await t.camara(
          'device-roaming',
          camaraBody('device-roaming', msisdn),
          await token(msisdn, 'device-roaming'),
        )
      ).json;
    expect(await roaming(SMS_ROAMING)).toEqual({
      roaming: true,
      countryCode: 340,
      countryName: ['BL', 'GF', 'GP', 'MF', 'MQ'],
    });
    expect(await roaming(NEVER_SWAPPED)).toEqual({ roaming: false });
  });
});

describe('bad request bodies', () => {
  it.each(CAMARA_OPERATION_NAMES)(
    '%s: refuses invalid JSON, a wrong media type and a missing or bad number',
    async (op) => {
      const tok = await token(SMS_ROAMING, op);
      expectCamaraError(
        await t.camara(op, undefined, tok, { raw: '{"phoneNumber":' }),
        400,
        'INVALID_ARGUMENT',
      );
      const wrongType = await post(`${t.url}${pathOf(op)}`, {
        raw: JSON.stringify(camaraBody(op, SMS_ROAMING)),
        headers: { authorization: `Bearer ${tok}`, 'content-type': 'text/plain' },
      });
      expectCamaraError(wrongType, 400, 'INVALID_ARGUMENT');
      expectCamaraError(await t.camara(op, {}, tok, { invalidBody: true }), 400, 'INVALID_ARGUMENT');
      expectCamaraError(
        await t.camara(op, camaraBody(op, '+44-7700'), tok, { invalidBody: true }),
        400,
        'INVALID_ARGUMENT',
      );
    },
  );

  it('refuses a device identified by something other than phoneNumber', async () => {
    const tok = await token(SMS_ROAMING, 'device-roaming');
    // Valid per the spec, but this simulator identifies devices by phone number only.
    const body = { device: { ipv4Address: { publicAddress: '84.125.93.10', publicPort: 59765 } } };
    const res = await t.camara('device-roaming', body, tok);
    expectCamaraError(res, 400, 'INVALID_ARGUMENT');
    expect(res.json.message).toMatch(/phoneNumber/);
    expectCamaraError(
      await t.camara('device-roaming', { device: {} }, tok, { invalidBody: true }),
      400,
      'INVALID_ARGUMENT',
    );
  });
});

describe('unknown numbers', () => {
  it.each([
    ['sim-swap', 'SIM_SWAP.UNKNOWN_PHONE_NUMBER'],
    ['sim-swap-date', 'SIM_SWAP.UNKNOWN_PHONE_NUMBER'],
    ['device-connectivity', 'NOT_FOUND'],
    ['device-roaming', 'NOT_FOUND'],
  ] as const)('%s answers 404 %s for unlisted and unknown-flagged numbers', async (op, code) => {
    for (const msisdn of [NOT_LISTED, UNKNOWN_FLAG]) {
      expectCamaraError(await t.camara(op, camaraBody(op, msisdn, 240), await token(msisdn, op)), 404, code);
    }
  });
});

describe('x-correlator', () => {
  const correlator = 'b4333c46-49c0-4f62-80d7-f0ef930f1c46';

  it('is echoed on success and on errors', async () => {
    const tok = await token(SMS_ROAMING, 'device-roaming');
    const ok = await t.camara('device-roaming', camaraBody('device-roaming', SMS_ROAMING), tok, {
      headers: { 'x-correlator': correlator },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-correlator')).toBe(correlator);
    const bad = await t.camara('device-roaming', {}, tok, {
      invalidBody: true,
      headers: { 'x-correlator': 'a:b;c' },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-correlator')).toBe('a:b;c');
    const unauthenticated = await t.camara('device-roaming', {}, undefined, {
      invalidBody: true,
      headers: { 'x-correlator': correlator },
    });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('x-correlator')).toBe(correlator);
  });

  it('is absent from the answer when the request has none', async () => {
    const tok = await token(SMS_ROAMING, 'device-roaming');
    const res = await t.camara('device-roaming', camaraBody('device-roaming', SMS_ROAMING), tok);
    expect(res.headers.get('x-correlator')).toBeNull();
  });

  it.each([
    ['a space', 'has space'],
    ['a character outside the pattern', 'id#1'],
    ['more than 256 characters', 'a'.repeat(257)],
  ])('is refused with 400 INVALID_ARGUMENT when it has %s (and not echoed)', async (_what, value) => {
    const tok = await token(SMS_ROAMING, 'device-roaming');
    const res = await t.camara('device-roaming', camaraBody('device-roaming', SMS_ROAMING), tok, {
      headers: { 'x-correlator': value },
    });
    expectCamaraError(res, 400, 'INVALID_ARGUMENT');
    expect(res.json.message).toMatch(/x-correlator/);
    expect(res.headers.get('x-correlator')).toBeNull();
  });

  it('is echoed and checked on the OAuth endpoints too', async () => {
    const form = { login_hint: SMS_ROAMING, scope: 'openid dpv:NotApplicable#device-status:roaming:read' };
    const ok = await t.bcAuthorize(form, { 'x-correlator': correlator });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-correlator')).toBe(correlator);
    expectOAuthError(await t.bcAuthorize(form, { 'x-correlator': 'bad value' }), 'invalid_request');
  });
});

describe('routing', () => {
  it('answers 405 to another method on an endpoint and 404 to an unknown path', async () => {
    const get = await fetch(`${t.url}${pathOf('sim-swap')}`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const missing = await post(`${t.url}/camara/sim-swap/v1/check`, { json: {} });
    expectCamaraError(missing, 404, 'NOT_FOUND');
  });

  it('answers 413 to a body over 64 KiB', async () => {
    const big = await post(`${t.url}${pathOf('sim-swap')}`, {
      json: { phoneNumber: 'x'.repeat(70_000) },
    });
    expect(big.status).toBe(413);
    expect(big.json.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
