/** POST /oauth2/bc-authorize: form parsing, login_hint forms, scopes and the answer's number formats. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAMARA_OPERATION_NAMES } from '../../simulator/wire.js';
import { APP_ID, expectOAuthError, post, scopeFor, TestSim, type HttpResult } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MSISDN = '+447700900201';
const SCOPE = scopeFor('device-connectivity');

let t: TestSim;
beforeAll(async () => {
  t = await TestSim.start({ interval: 2, expiresIn: 120 });
});
afterAll(() => t.close());

describe('login_hint', () => {
  it.each([`tel:${MSISDN}`, MSISDN])('accepts %s', async (hint) => {
    const res = await t.bcAuthorize({ login_hint: hint, scope: SCOPE });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      auth_req_id: expect.stringMatching(UUID) as unknown,
      expires_in: 120,
      interval: 2,
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it.each([
    ['no plus', 'tel:447700900201'],
    ['a leading zero', 'tel:+0447700900201'],
    ['too short', '+4477'],
    ['letters', 'tel:+44770090020x'],
    ['another URI scheme', 'sip:+447700900201'],
    ['an empty value', ''],
  ])('rejects %s with invalid_request', async (_what, hint) => {
    expectOAuthError(await t.bcAuthorize({ login_hint: hint, scope: SCOPE }), 'invalid_request');
  });

  it('rejects a raw + (decoded as a space) and counts the unencoded-plus violation', async () => {
    const number = '+447700900299';
    const res = await t.bcAuthorize(`login_hint=tel:${number}&scope=${encodeURIComponent(SCOPE)}`);
    expectOAuthError(res, 'invalid_request');
    expect(res.json.error_description).toMatch(/%2B/);
    expect(t.sim.stats(number).violations['unencoded-plus']).toBe(1);
  });
});

describe('scope', () => {
  it.each(CAMARA_OPERATION_NAMES)('accepts the scope of %s', async (operation) => {
    expect((await t.bcAuthorize({ login_hint: MSISDN, scope: scopeFor(operation) })).status).toBe(200);
  });

  it('accepts openid after the dpv scope', async () => {
    const [openid, dpv] = scopeFor('sim-swap').split(' ');
    expect((await t.bcAuthorize({ login_hint: MSISDN, scope: `${dpv} ${openid}` })).status).toBe(200);
  });

  it.each([
    ['without openid', 'dpv:FraudPreventionAndDetection#check-sim-swap'],
    ['with only openid', 'openid'],
    ['with a purpose from another pair', 'openid dpv:NotApplicable#check-sim-swap'],
    ['with an unknown api-scope', 'openid dpv:FraudPreventionAndDetection#check-sim-swapp'],
    ['with an extra scope', `${scopeFor('sim-swap')} profile`],
    ['with a lowercase purpose', 'openid dpv:notapplicable#device-status:roaming:read'],
    ['empty', ''],
  ])('rejects a scope %s with invalid_scope', async (_what, scope) => {
    const res = await t.bcAuthorize({ login_hint: MSISDN, scope });
    expectOAuthError(res, 'invalid_scope');
    expect(res.json.error_description).toContain(scopeFor('device-roaming'));
  });
});

describe('malformed requests', () => {
  it('needs login_hint', async () => {
    const res = await t.bcAuthorize({ scope: SCOPE });
    expectOAuthError(res, 'invalid_request');
    expect(res.json.error_description).toMatch(/login_hint/);
  });

  it('needs scope', async () => {
    const res = await t.bcAuthorize({ login_hint: MSISDN });
    expectOAuthError(res, 'invalid_request');
    expect(res.json.error_description).toMatch(/scope/);
  });

  it('needs a form body', async () => {
    const res = await post(`${t.url}/oauth2/bc-authorize`, {
      json: { login_hint: MSISDN, scope: SCOPE },
      headers: { authorization: `Bearer ${await t.jwt()}` },
    });
    expectOAuthError(res, 'invalid_request');
    expect(res.json.error_description).toMatch(/x-www-form-urlencoded/);
  });

  it('refuses a repeated parameter', async () => {
    const res = await t.bcAuthorize(
      `login_hint=%2B447700900201&login_hint=%2B447700900202&scope=${encodeURIComponent(SCOPE)}`,
    );
    expectOAuthError(res, 'invalid_request');
    expect(res.json.error_description).toMatch(/repeated/);
  });
});

describe('answer formats', () => {
  it('answers numeric strings when numericStrings is set', async () => {
    const s = await TestSim.start({ numericStrings: true, interval: 2, expiresIn: 120 }, t.keys);
    try {
      const res = await s.bcAuthorize({ login_hint: MSISDN, scope: SCOPE });
      expect(res.json).toEqual({
        auth_req_id: expect.any(String) as unknown,
        expires_in: '120',
        interval: '2',
      });
    } finally {
      await s.close();
    }
  });

  it('leaves interval out when omitInterval is set', async () => {
    const s = await TestSim.start({ omitInterval: true, expiresIn: 30 }, t.keys);
    try {
      const res = await s.bcAuthorize({ login_hint: MSISDN, scope: SCOPE });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ auth_req_id: expect.any(String) as unknown, expires_in: 30 });
      expect('interval' in res.json).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('answers fractional and zero intervals as given', async () => {
    t.sim.addScenarios({
      numbers: { '+447700900210': { interval: 0.25, expiresIn: 5 }, '+447700900211': { interval: 0 } },
    });
    const a = await t.bcAuthorize({ login_hint: '+447700900210', scope: SCOPE });
    expect(a.json).toMatchObject({ expires_in: 5, interval: 0.25 });
    const b = await t.bcAuthorize({ login_hint: '+447700900211', scope: SCOPE });
    expect(b.json).toMatchObject({ expires_in: 120, interval: 0 });
  });
});

/** Asserts a Vonage RFC 7807 answer. */
function expectProblem(
  res: HttpResult,
  status: number,
  kind: string,
  title: string,
  detail: string | RegExp,
) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(res.json).toEqual({
    type: `https://developer.vonage.com/api-errors#${kind}`,
    title,
    detail: typeof detail === 'string' ? detail : (expect.stringMatching(detail) as unknown),
    instance: expect.stringMatching(UUID) as unknown,
  });
}

describe('refusals for a number', () => {
  const NOT_SERVED = '+447700900251';
  const BLOCKED = '+447700900252';
  const BOTH = '+447700900253';

  beforeAll(() => {
    t.sim.addScenarios({
      numbers: {
        [NOT_SERVED]: { operatorServes: false },
        [BLOCKED]: { allowlistBlocked: true },
        [BOTH]: { operatorServes: false, allowlistBlocked: true },
        '+447700900254': { operatorServes: true, allowlistBlocked: false },
      },
    });
  });

  it('operatorServes: false answers 404 with an RFC 7807 body that does not quote the number', async () => {
    const res = await t.bcAuthorize({ login_hint: `tel:${NOT_SERVED}`, scope: SCOPE });
    expectProblem(res, 404, 'not-found', 'Not Found', /not served by any operator/);
    expect(JSON.stringify(res.body)).not.toContain(NOT_SERVED.slice(1));
    expect(t.sim.stats(NOT_SERVED).requests['bc-authorize']).toEqual({ '404': 1 });
  });

  it('allowlistBlocked: true answers 403 with Vonage’s allowlist detail', async () => {
    const res = await t.bcAuthorize({ login_hint: BLOCKED, scope: SCOPE });
    expectProblem(
      res,
      403,
      'forbidden',
      'Forbidden',
      'The Network API application can only be used with verified phone numbers. Blocked by allowlist.',
    );
  });

  it('a number no operator serves gets the 404 even when also blocked', async () => {
    expect((await t.bcAuthorize({ login_hint: BOTH, scope: SCOPE })).status).toBe(404);
  });

  it('other numbers, and the flags at their defaults, are unaffected', async () => {
    for (const msisdn of [MSISDN, '+447700900254']) {
      expect((await t.bcAuthorize({ login_hint: msisdn, scope: SCOPE })).status).toBe(200);
    }
  });

  it('the application JWT and the request are checked first', async () => {
    const badJwt = await t.bcAuthorize({ login_hint: BLOCKED, scope: SCOPE }, {}, 'not-a-jwt');
    expect(badJwt.status).toBe(401);
    expectOAuthError(await t.bcAuthorize({ login_hint: BLOCKED, scope: 'openid' }), 'invalid_scope');
  });
});

describe('an application without a Network Application', () => {
  const detail = `No Network Application associated with Vonage Application: ${APP_ID}`;

  it('noNetworkApplication: every bc-authorize answers 400 invalid-param, Vonage’s body', async () => {
    const s = await TestSim.start({ noNetworkApplication: true }, t.keys);
    try {
      for (const hint of [MSISDN, '+990123400']) {
        expectProblem(
          await s.bcAuthorize({ login_hint: hint, scope: SCOPE }),
          400,
          'invalid-param',
          'Bad Request',
          detail,
        );
      }
      // Even a malformed request: the application is looked at before the form.
      expect((await s.bcAuthorize({ scope: SCOPE })).status).toBe(400);
      expect((await s.bcAuthorize({ scope: SCOPE })).json.detail).toBe(detail);
      // The JWT still comes first.
      expect((await s.bcAuthorize({ login_hint: MSISDN, scope: SCOPE }, {}, null)).status).toBe(401);
    } finally {
      await s.close();
    }
  });

  it('the scenario field turns it on and off at runtime, over the option', async () => {
    const s = await TestSim.start({ noNetworkApplication: true }, t.keys);
    try {
      await post(`${s.url}/__simulator/scenarios`, { json: { noNetworkApplication: false } });
      expect((await s.bcAuthorize({ login_hint: MSISDN, scope: SCOPE })).status).toBe(200);
      await post(`${s.url}/__simulator/scenarios`, { json: { noNetworkApplication: true } });
      expect((await s.bcAuthorize({ login_hint: MSISDN, scope: SCOPE })).json.detail).toBe(detail);
      // A scenario that does not mention it leaves it as it is.
      s.sim.addScenarios({ numbers: { [MSISDN]: {} } });
      expect((await s.bcAuthorize({ login_hint: MSISDN, scope: SCOPE })).status).toBe(400);
    } finally {
      await s.close();
    }
  });
});
