/**
 * The in-project CAMARA schemas (simulator/camara-schemas.ts) as the tests use them: they must
 * accept the spec's shapes and reject others, with nothing beside the repository. They are
 * compared with the upstream YAML in camara-conformance.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  definesStatus,
  validateErrorInfo,
  validateRequest,
  validateResponse,
} from '../support/camara-schemas.js';
import { camaraBody, pathOf, post, TestSim, type Operation } from './helpers.js';

describe('in-project CAMARA schemas', () => {
  it('accept valid bodies', () => {
    validateRequest('sim-swap', { phoneNumber: '+447700900000', maxAge: 240 });
    validateRequest('sim-swap', { phoneNumber: '447700900000' });
    validateRequest('sim-swap-date', { phoneNumber: '447700900000' });
    validateRequest('device-roaming', { device: { phoneNumber: '+447700900000' } });
    validateRequest('device-connectivity', {
      device: { ipv4Address: { publicAddress: '84.125.93.10', publicPort: 59765 } },
    });
    validateResponse('sim-swap-date', 200, { latestSimChange: '2019-08-24T14:15:22Z' });
    validateResponse('sim-swap-date', 200, {});
    validateResponse('device-roaming', 200, { roaming: true, countryCode: 901, countryName: [] });
    validateResponse('device-connectivity', 404, { status: 404, code: 'NOT_FOUND', message: 'x' });
    validateErrorInfo({ status: 429, code: 'TOO_MANY_REQUESTS', message: 'slow down' });
  });

  it.each([
    [
      'a maxAge above 2400',
      () => validateRequest('sim-swap', { phoneNumber: '+447700900000', maxAge: 2401 }),
    ],
    ['a maxAge of 0', () => validateRequest('sim-swap', { phoneNumber: '+447700900000', maxAge: 0 })],
    [
      'a maxAge that is not an integer',
      () => validateRequest('sim-swap', { phoneNumber: '+44770090000', maxAge: 1.5 }),
    ],
    ['a phone number with spaces', () => validateRequest('sim-swap', { phoneNumber: '+44 7700 900000' })],
    ['a phone number of 4 digits', () => validateRequest('sim-swap-date', { phoneNumber: '+4477' })],
    ['a request without phoneNumber', () => validateRequest('sim-swap-date', {})],
    ['an empty device', () => validateRequest('device-connectivity', { device: {} })],
    ['a request without device', () => validateRequest('device-roaming', {})],
    [
      'an IPv4 device with the public address alone',
      () => validateRequest('device-roaming', { device: { ipv4Address: { publicAddress: '84.125.93.10' } } }),
    ],
    ['a null latestSimChange', () => validateResponse('sim-swap-date', 200, { latestSimChange: null })],
    [
      'a non-date latestSimChange',
      () => validateResponse('sim-swap-date', 200, { latestSimChange: 'today' }),
    ],
    ['a string swapped', () => validateResponse('sim-swap', 200, { swapped: 'true' })],
    [
      'an unknown connectivity status',
      () => validateResponse('device-connectivity', 200, { connectivityStatus: 'UP' }),
    ],
    ['a roaming answer without roaming', () => validateResponse('device-roaming', 200, { countryCode: 262 })],
    [
      'a string countryCode',
      () => validateResponse('device-roaming', 200, { roaming: true, countryCode: '262' }),
    ],
    [
      'an error without message',
      () => validateResponse('sim-swap', 400, { status: 400, code: 'INVALID_ARGUMENT' }),
    ],
    ['an OAuth-style error body', () => validateErrorInfo({ error: 'slow_down' })],
  ])('reject %s with a readable error', (_what, fn) => {
    expect(fn).toThrow(/does not match the CAMARA spec:\n {2}- /);
  });

  it('know which statuses each operation lists', () => {
    expect(definesStatus('sim-swap', 409)).toBe(true);
    expect(definesStatus('sim-swap', 504)).toBe(true);
    expect(definesStatus('device-connectivity', 409)).toBe(false);
    expect(definesStatus('device-roaming', 504)).toBe(false);
    expect(definesStatus('sim-swap', 429)).toBe(false);
    expect(() => validateResponse('sim-swap', 429, {})).toThrow(/status 429 is not defined/);
  });
});

describe('the simulator refuses exactly what the schemas refuse', () => {
  // The simulator validates with zod built from the same schemas; ajv is a second implementation.
  const corpus: [Operation, unknown][] = [
    ['sim-swap', { phoneNumber: '+447700900000', maxAge: 1 }],
    ['sim-swap', { phoneNumber: '+447700900000', maxAge: 2400 }],
    ['sim-swap', { phoneNumber: '+447700900000', maxAge: 2401 }],
    ['sim-swap', { phoneNumber: '+447700900000', maxAge: 0 }],
    ['sim-swap', { phoneNumber: '+447700900000', maxAge: 24.5 }],
    ['sim-swap', { phoneNumber: '+447700900000', maxAge: '24' }],
    ['sim-swap', { phoneNumber: '+447700900000', maxAge: null }],
    ['sim-swap', { phoneNumber: '+447700900000', extra: true }],
    ['sim-swap', { phoneNumber: '+4477' }],
    ['sim-swap', { phoneNumber: '+4477009000001234' }],
    ['sim-swap', { phoneNumber: 447700900000 }],
    ['sim-swap', []],
    ['sim-swap', null],
    ['sim-swap-date', { phoneNumber: '+44-7700' }],
    ['sim-swap-date', { phone: '+447700900000' }],
    ['device-connectivity', { device: {} }],
    ['device-connectivity', { device: { phoneNumber: '+447700900000', ipv6Address: 'nope' } }],
    ['device-connectivity', { device: { phoneNumber: '+447700900000', ipv6Address: '2001:db8::1' } }],
    ['device-roaming', { device: 'x' }],
    ['device-roaming', { device: { phoneNumber: '12345' } }],
  ];

  it('on a corpus of good and bad bodies', async () => {
    const t = await TestSim.start();
    try {
      for (const [op, body] of corpus) {
        let specOk = true;
        try {
          validateRequest(op, body);
        } catch {
          specOk = false;
        }
        // The token check comes before the body check: a token for the number the body names
        // (or any number when it names none), so the only 400 left is the body's.
        const token = await t.accessToken(camaraNumber(body) ?? '+447700900000', op);
        const res = await post(`${t.url}${pathOf(op)}`, {
          json: body,
          headers: { authorization: `Bearer ${token}` },
        });
        const simulatorOk = res.status !== 400;
        expect({ op, body, simulatorOk }).toEqual({ op, body, simulatorOk: specOk });
      }
    } finally {
      await t.close();
    }
  });

  it('answers a device identified otherwise (valid per the spec) with a clear 400', async () => {
    const t = await TestSim.start();
    try {
      const body = { device: { networkAccessIdentifier: '123456789@domain.com' } };
      validateRequest('device-roaming', body);
      const token = await t.accessToken('+447700900000', 'device-roaming');
      const res = await t.camara('device-roaming', body, token);
      expect(res.status).toBe(400);
      expect(res.json.message).toMatch(/device\.phoneNumber only/);
      // Same number, valid body: accepted.
      expect(
        (await t.camara('device-roaming', camaraBody('device-roaming', '+447700900000'), token)).status,
      ).toBe(404);
    } finally {
      await t.close();
    }
  });
});

/** The E.164 number a body names, when it names a well-formed one. */
function camaraNumber(body: unknown): string | undefined {
  const b = body as { phoneNumber?: unknown; device?: { phoneNumber?: unknown } } | null;
  const phone = typeof b === 'object' && b !== null ? (b.phoneNumber ?? b.device?.phoneNumber) : undefined;
  if (typeof phone !== 'string' || !/^\+?[1-9][0-9]{4,14}$/.test(phone)) return undefined;
  return phone.startsWith('+') ? phone : `+${phone}`;
}
