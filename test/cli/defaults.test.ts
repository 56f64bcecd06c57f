/** The client's defaults (NETCHECK_API, NETCHECK_PURPOSE) and how a request is resolved, in process. */
import { describe, expect, it } from 'vitest';
import { clientDefaults, resolveRequest } from '../../client/index.js';
import { ConfigurationError as ConfigError } from '../../domain/errors.js';

describe('client defaults', () => {
  it('reads NETCHECK_API and NETCHECK_PURPOSE, and refuses values outside their lists', () => {
    expect(clientDefaults({})).toEqual({});
    expect(
      clientDefaults({ NETCHECK_API: ' identity-insights ', NETCHECK_PURPOSE: 'NotApplicable' }),
    ).toEqual({
      api: 'identity-insights',
      purpose: 'NotApplicable',
    });
    let err: unknown;
    try {
      clientDefaults({ NETCHECK_API: 'ciba', NETCHECK_PURPOSE: 'Marketing' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    // Both problems at once, each naming the allowed values.
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(/NETCHECK_API must be one of camara, identity-insights \(got "ciba"\)/),
      expect.stringMatching(/NETCHECK_PURPOSE "Marketing" .*FraudPreventionAndDetection, NotApplicable/),
    ]);
  });

  it('resolves the api and purpose of a request: its own, then the defaults, then the operation', () => {
    const msisdn = '+447700900001';
    expect(resolveRequest({ msisdn, operation: 'sim-swap' }, {})).toEqual({
      msisdn,
      operation: 'sim-swap',
      api: 'camara',
    });
    expect(resolveRequest({ msisdn, operation: 'carrier' }, {})).toMatchObject({ api: 'identity-insights' });
    const defaults = { api: 'identity-insights' as const, purpose: 'NotApplicable' as const };
    expect(resolveRequest({ msisdn, operation: 'device-roaming' }, defaults)).toMatchObject({
      api: 'identity-insights',
      purpose: 'NotApplicable',
    });
    expect(
      resolveRequest(
        { msisdn, operation: 'device-roaming', api: 'camara', purpose: 'NotApplicable' },
        defaults,
      ),
    ).toMatchObject({ api: 'camara', purpose: 'NotApplicable' });
    // carrier sends no purpose: the default purpose is not applied to it.
    expect(resolveRequest({ msisdn, operation: 'carrier' }, defaults)).not.toHaveProperty('purpose');
    // NETCHECK_API=camara is a choice: carrier is then asked over camara (and refused as such).
    expect(resolveRequest({ msisdn, operation: 'carrier' }, { api: 'camara' })).toMatchObject({
      api: 'camara',
    });
  });
});
