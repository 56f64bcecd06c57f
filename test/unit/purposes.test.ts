/**
 * Purposes per API family: one purpose applies where the family accepts it over the API (so it
 * never breaks the other family), a map names one per family, the default stays Vonage's table.
 * In process (domain, client defaults) and through the CLI's own checks before anything starts.
 */
import { describe, expect, it } from 'vitest';
import { clientDefaults, purposeSettingOf, resolveRequest } from '../../client/index.js';
import {
  defaultPurpose,
  formatPurposeSetting,
  OPERATION_NAMES,
  parsePurposeSetting,
  resolvePurpose,
  type Operation,
} from '../../domain/operations.js';
import { checkRequestProblem, validateCheckRequest } from '../../domain/validate.js';
import { runCli } from '../cli/support.js';

const FRAUD = 'FraudPreventionAndDetection';
const NA = 'NotApplicable';
const msisdn = '+99012345622';

describe('parsePurposeSetting', () => {
  it('reads one purpose, or one per family (`,` or `;`, spaces ignored), and writes it back canonically', () => {
    expect(parsePurposeSetting(' NotApplicable ')).toEqual({ setting: { purpose: NA } });
    const map = parsePurposeSetting(` device-status = ${NA} ; sim-swap=${FRAUD} `);
    expect(map).toEqual({ setting: { purposes: { 'sim-swap': FRAUD, 'device-status': NA } } });
    expect(formatPurposeSetting(map.setting!)).toBe(`sim-swap=${FRAUD},device-status=${NA}`);
    expect(parsePurposeSetting(`device-status=${NA}`).setting).toEqual({ purposes: { 'device-status': NA } });
  });

  it.each([
    [
      'Marketing',
      /"Marketing" is not a Vonage Network API purpose; use the one your Vonage application is registered with: FraudPreventionAndDetection, NotApplicable \(or one per API family: sim-swap=<purpose>,device-status=<purpose>\)/,
    ],
    [`carrier=${FRAUD}`, /"carrier" is not an API family \(sim-swap, device-status\)/],
    ['sim-swap=Marketing', /"Marketing" is not a Vonage Network API purpose/],
    [`sim-swap=${FRAUD},sim-swap=${NA}`, /names sim-swap twice/],
    [`sim-swap=${FRAUD}=x`, /not a Vonage Network API purpose|not an API family/],
    [',;', /is not a Vonage Network API purpose/],
    ['=', /not an API family/],
  ])('refuses %j, saying what to write', (value, problem) => {
    const parsed = parsePurposeSetting(value, '--purpose');
    expect(parsed.setting).toBeUndefined();
    expect(parsed.problem).toMatch(/^--purpose /);
    expect(parsed.problem).toMatch(problem);
  });
});

describe('resolvePurpose: the purpose each check sends', () => {
  const table = (setting: string | undefined) =>
    Object.fromEntries(
      (['camara', 'identity-insights'] as const).flatMap((api) =>
        OPERATION_NAMES.filter((op) => api === 'identity-insights' || op !== 'carrier').map(
          (op: Operation) => [`${api} ${op}`, resolvePurpose(setting, op, api)],
        ),
      ),
    );

  it("none: Vonage's table", () => {
    expect(table(undefined)).toEqual({
      'camara sim-swap': FRAUD,
      'camara sim-swap-date': FRAUD,
      'camara device-connectivity': NA,
      'camara device-roaming': NA,
      'identity-insights sim-swap': FRAUD,
      'identity-insights sim-swap-date': FRAUD,
      'identity-insights device-connectivity': FRAUD,
      'identity-insights device-roaming': FRAUD,
      'identity-insights carrier': undefined,
    });
  });

  it('one purpose applies to every family that accepts it; the other keeps its default, unbroken', () => {
    // Set for SIM swap, Device Status over CIBA still sends NotApplicable …
    expect(table(FRAUD)).toEqual(table(undefined));
    // … and set for Device Status over CIBA, SIM swap over CIBA still sends FraudPreventionAndDetection.
    expect(table(NA)).toEqual({
      'camara sim-swap': FRAUD,
      'camara sim-swap-date': FRAUD,
      'camara device-connectivity': NA,
      'camara device-roaming': NA,
      // Identity Insights takes the purposes of the application's network profile: any of the list.
      'identity-insights sim-swap': NA,
      'identity-insights sim-swap-date': NA,
      'identity-insights device-connectivity': NA,
      'identity-insights device-roaming': NA,
      'identity-insights carrier': undefined,
    });
  });

  it("a map sends each family's entry as written, and the default for a family it does not name", () => {
    expect(table(`sim-swap=${NA}`)).toMatchObject({
      'camara sim-swap': NA,
      'camara device-roaming': NA,
      'identity-insights device-roaming': FRAUD,
      'identity-insights carrier': undefined,
    });
    expect(table(`device-status=${FRAUD}`)).toMatchObject({
      'camara sim-swap-date': FRAUD,
      'camara device-connectivity': FRAUD,
    });
  });
});

describe('check requests and client defaults', () => {
  it('a request may carry a map; the workflow resolves it per operation; a bad one is refused up front', () => {
    const map = `sim-swap=${FRAUD},device-status=${NA}`;
    expect(checkRequestProblem({ msisdn, operation: 'device-roaming', purpose: map })).toBeUndefined();
    expect(validateCheckRequest({ msisdn, operation: 'device-roaming', purpose: map }).purpose).toBe(NA);
    expect(validateCheckRequest({ msisdn, operation: 'sim-swap', purpose: map }).purpose).toBe(FRAUD);
    // One purpose the family does not accept over CIBA: the family's default is sent.
    expect(validateCheckRequest({ msisdn, operation: 'device-roaming', purpose: FRAUD }).purpose).toBe(NA);
    expect(
      checkRequestProblem({ msisdn, operation: 'sim-swap', purpose: 'device-status=Marketing' }),
    ).toMatch(/^purpose "device-status=Marketing": "Marketing" is not a Vonage Network API purpose/);
  });

  it('NETCHECK_PURPOSE takes one purpose or a map; a single one no longer breaks the other family', () => {
    const single = clientDefaults({ NETCHECK_PURPOSE: FRAUD });
    expect(single).toEqual({ purpose: FRAUD });
    // Before: device-roaming over CIBA started with FraudPreventionAndDetection and failed CONFIGURATION.
    expect(resolveRequest({ msisdn, operation: 'device-roaming' }, single)).toMatchObject({
      api: 'camara',
      purpose: NA,
    });
    expect(resolveRequest({ msisdn, operation: 'sim-swap' }, single).purpose).toBe(FRAUD);

    const map = clientDefaults({ NETCHECK_PURPOSE: `device-status=${NA}, sim-swap=${FRAUD}` });
    expect(map).toEqual({ purposes: { 'device-status': NA, 'sim-swap': FRAUD } });
    expect(purposeSettingOf(map)).toBe(`sim-swap=${FRAUD},device-status=${NA}`);
    expect(
      resolveRequest({ msisdn, operation: 'device-roaming', api: 'identity-insights' }, map).purpose,
    ).toBe(NA);
    expect(resolveRequest({ msisdn, operation: 'carrier' }, map)).not.toHaveProperty('purpose');
    // The request's own purpose wins over the default; a map's entry the family does not accept
    // over CIBA keeps its map form so that the workflow, resolving again, sends it as written.
    const forced = resolveRequest({ msisdn, operation: 'sim-swap', purpose: `sim-swap=${NA}` }, map);
    expect(forced.purpose).toBe(`sim-swap=${NA}`);
    expect(validateCheckRequest(forced).purpose).toBe(NA);
    const fromEnv = resolveRequest(
      { msisdn, operation: 'device-roaming' },
      clientDefaults({ NETCHECK_PURPOSE: `device-status=${FRAUD}` }),
    );
    expect(validateCheckRequest(fromEnv).purpose).toBe(FRAUD);
    // Whatever the setting, what the workflow sends is what the client resolved.
    for (const setting of [FRAUD, NA, `sim-swap=${NA}`, `device-status=${FRAUD},sim-swap=${FRAUD}`]) {
      for (const operation of ['sim-swap', 'device-roaming'] as const) {
        for (const api of ['camara', 'identity-insights'] as const) {
          const started = resolveRequest({ msisdn, operation, api, purpose: setting }, {});
          expect(validateCheckRequest(started).purpose, `${setting} ${operation} ${api}`).toBe(
            resolvePurpose(setting, operation, api),
          );
        }
      }
    }

    expect(() => clientDefaults({ NETCHECK_PURPOSE: 'sim-swap=Marketing' })).toThrow(
      /NETCHECK_PURPOSE "sim-swap=Marketing": "Marketing" is not a Vonage Network API purpose/,
    );
  });

  it("the default purpose of each family stays Vonage's", () => {
    expect(defaultPurpose('sim-swap', 'camara')).toBe(FRAUD);
    expect(defaultPurpose('device-roaming', 'camara')).toBe(NA);
  });
});

describe('the CLI, before anything starts', () => {
  const env = { NETCHECK_SUBJECT_KEY: 'k'.repeat(40), TEMPORAL_ADDRESS: '127.0.0.1:1' };

  it('netcheck check refuses a --purpose its check’s family does not take, saying how to force it', async () => {
    const run = await runCli(['check', msisdn, '--op', 'device-roaming', '--purpose', FRAUD], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--purpose FraudPreventionAndDetection does not apply to device-roaming over camara: Vonage takes NotApplicable for device-status there\. Leave --purpose out, or write --purpose device-status=FraudPreventionAndDetection/,
    );
  });

  it('--purpose takes a map, and names the syntax when it is wrong', async () => {
    const run = await runCli(
      ['check', msisdn, '--op', 'device-roaming', '--purpose', 'device=NotApplicable'],
      {
        env,
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--purpose "device=NotApplicable": "device" is not an API family \(sim-swap, device-status\)/,
    );
  });
});
