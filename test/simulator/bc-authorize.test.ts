/** POST /oauth2/bc-authorize: form parsing, login_hint forms, scopes and the answer's number formats. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAMARA_OPERATION_NAMES } from '../../simulator/wire.js';
import { expectOAuthError, post, scopeFor, TestSim } from './helpers.js';

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
