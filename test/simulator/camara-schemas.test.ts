/** The CAMARA OpenAPI validator itself: it must accept the spec's shapes and reject others. */
import { describe, expect, it } from 'vitest';
import {
  camaraSpecsDir,
  definesStatus,
  validateErrorInfo,
  validateRequest,
  validateResponse,
} from '../support/camara-schemas.js';

describe('camara-schemas', () => {
  it('finds the spec files beside the repository, or where NETCHECK_CAMARA_SPECS says', () => {
    const expected = process.env.NETCHECK_CAMARA_SPECS ?? /shared[/\\]specs[/\\]camara$/;
    expect(camaraSpecsDir()).toMatch(expected);
  });

  it('accepts Vonage or spec paths and valid bodies', () => {
    validateRequest('sim-swap', '/camara/sim-swap/v040/check', { phoneNumber: '+447700900000', maxAge: 240 });
    validateRequest('sim-swap', '/retrieve-date', { phoneNumber: '447700900000' });
    validateRequest('device-status', '/roaming', { device: { phoneNumber: '+447700900000' } });
    validateResponse('sim-swap', '/retrieve-date', 200, { latestSimChange: '2019-08-24T14:15:22Z' });
    validateResponse('device-status', '/camara/device-status/v050/roaming', 200, {
      roaming: true,
      countryCode: 901,
      countryName: [],
    });
    validateResponse('device-status', '/connectivity', 404, { status: 404, code: 'NOT_FOUND', message: 'x' });
  });

  it.each([
    [
      'a maxAge above 2400',
      () => validateRequest('sim-swap', '/check', { phoneNumber: '+447700900000', maxAge: 2401 }),
    ],
    [
      'a maxAge that is not an integer',
      () => validateRequest('sim-swap', '/check', { phoneNumber: '+44770090000', maxAge: 1.5 }),
    ],
    [
      'a phone number with spaces',
      () => validateRequest('sim-swap', '/check', { phoneNumber: '+44 7700 900000' }),
    ],
    ['a request without phoneNumber', () => validateRequest('sim-swap', '/retrieve-date', {})],
    ['an empty device', () => validateRequest('device-status', '/connectivity', { device: {} })],
    [
      'a null latestSimChange',
      () => validateResponse('sim-swap', '/retrieve-date', 200, { latestSimChange: null }),
    ],
    [
      'a non-date latestSimChange',
      () => validateResponse('sim-swap', '/retrieve-date', 200, { latestSimChange: 'today' }),
    ],
    [
      'an unknown connectivity status',
      () => validateResponse('device-status', '/connectivity', 200, { connectivityStatus: 'UP' }),
    ],
    [
      'a roaming answer without roaming',
      () => validateResponse('device-status', '/roaming', 200, { countryCode: 262 }),
    ],
    [
      'a string countryCode',
      () => validateResponse('device-status', '/roaming', 200, { roaming: true, countryCode: '262' }),
    ],
    [
      'an error without message',
      () => validateResponse('sim-swap', '/check', 400, { status: 400, code: 'INVALID_ARGUMENT' }),
    ],
    ['an OAuth-style error body', () => validateErrorInfo('sim-swap', { error: 'slow_down' })],
  ])('rejects %s with a readable error', (_what, fn) => {
    expect(fn).toThrow(/does not match the CAMARA spec:\n {2}- /);
  });

  it('knows which statuses each operation defines', () => {
    expect(definesStatus('sim-swap', '/check', 409)).toBe(true);
    expect(definesStatus('device-status', '/connectivity', 409)).toBe(false);
    expect(definesStatus('sim-swap', '/check', 429)).toBe(false);
    expect(() => validateResponse('sim-swap', '/check', 429, {})).toThrow(/status 429 is not defined/);
    expect(() => validateRequest('sim-swap', '/nope', {})).toThrow(/no POST \/nope/);
  });
});
