/** The CIBA poll at /oauth2/token and the access tokens it issues (injected clock throughout). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCamaraError, expectOAuthError, TestSim, camaraBody, post } from './helpers.js';

let t: TestSim;
let n = 0;
/** A fresh number per test, so per-number stats belong to the test alone. */
const fresh = () => `+44770090${(3000 + n++).toString()}`;

beforeAll(async () => {
  t = await TestSim.start({ fakeClock: true, interval: 2, expiresIn: 120, tokenExpiresIn: 3600 });
});
afterAll(() => t.close());

describe('request validation', () => {
  it('needs grant_type', async () => {
    const res = await post(`${t.url}/oauth2/token`, {
      form: { auth_req_id: 'x' },
      headers: { authorization: `Bearer ${await t.jwt()}` },
    });
    expectOAuthError(res, 'invalid_request');
  });

  it('answers unsupported_grant_type for any other grant', async () => {
    expectOAuthError(await t.poll('x', { grant_type: 'client_credentials' }), 'unsupported_grant_type');
  });

  it('needs auth_req_id', async () => {
    const res = await post(`${t.url}/oauth2/token`, {
      form: { grant_type: 'urn:openid:params:grant-type:ciba' },
      headers: { authorization: `Bearer ${await t.jwt()}` },
    });
    expectOAuthError(res, 'invalid_request');
    expect(res.json.error_description).toMatch(/auth_req_id/);
  });

  it('answers invalid_grant for an unknown auth_req_id', async () => {
    expectOAuthError(await t.poll('3b241101-e2bb-4255-8caf-4136c566a962'), 'invalid_grant');
  });
});

describe('polling', () => {
  it('issues a Bearer token on a poll exactly one interval after bc-authorize', async () => {
    const msisdn = fresh();
    const id = await t.authorize(msisdn, 'sim-swap');
    t.advance(2000);
    const res = await t.poll(id);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      access_token: expect.any(String) as unknown,
      token_type: 'Bearer',
      expires_in: 3600,
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(t.sim.stats(msisdn).violations['poll-too-early']).toBe(0);
  });

  it('answers slow_down to an early poll, adds 5 s, and accepts a poll at the new interval', async () => {
    const msisdn = fresh();
    const id = await t.authorize(msisdn, 'sim-swap');
    t.advance(1000);
    const early = await t.poll(id);
    expectOAuthError(early, 'slow_down');
    expect(early.json.error_description).toMatch(/7 s/);
    t.advance(7000);
    expect((await t.poll(id)).status).toBe(200);
    const stats = t.sim.stats(msisdn);
    expect(stats.violations['poll-too-early']).toBe(1);
    expect(stats.requests.token).toEqual({ '400': 1, '200': 1 });
  });

  it('keeps the raised interval: polling again at the old interval is still too early', async () => {
    const msisdn = fresh();
    const id = await t.authorize(msisdn, 'device-roaming');
    t.advance(500);
    expectOAuthError(await t.poll(id), 'slow_down'); // interval now 7 s
    t.advance(2000);
    expectOAuthError(await t.poll(id), 'slow_down'); // interval now 12 s, measured from this poll
    t.advance(11_000);
    expectOAuthError(await t.poll(id), 'slow_down'); // interval now 17 s
    t.advance(17_000);
    expect((await t.poll(id)).status).toBe(200);
    expect(t.sim.stats(msisdn).violations['poll-too-early']).toBe(3);
  });

  it('answers authorization_pending for the configured polls of a number, then the token', async () => {
    const msisdn = fresh();
    t.sim.addScenarios({ numbers: { [msisdn]: { pendingPolls: 3, interval: 1 } } });
    const id = await t.authorize(msisdn, 'device-connectivity');
    for (let i = 0; i < 3; i++) {
      t.advance(1000);
      expectOAuthError(await t.poll(id), 'authorization_pending');
    }
    t.advance(1000);
    expect((await t.poll(id)).status).toBe(200);
    expect(t.sim.stats(msisdn).requests.token).toEqual({ '400': 3, '200': 1 });
  });

  it('uses the global pendingPolls default for numbers without their own', async () => {
    const s = await TestSim.start({ fakeClock: true, interval: 0, pendingPolls: 2 }, t.keys);
    try {
      const id = await s.authorize(fresh(), 'sim-swap');
      expectOAuthError(await s.poll(id), 'authorization_pending');
      expectOAuthError(await s.poll(id), 'authorization_pending');
      expect((await s.poll(id)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('answers expired_token once expires_in has passed since bc-authorize', async () => {
    const msisdn = fresh();
    t.sim.addScenarios({ numbers: { [msisdn]: { pendingPolls: 100, expiresIn: 10 } } });
    const id = await t.authorize(msisdn, 'sim-swap');
    t.advance(9999);
    expectOAuthError(await t.poll(id), 'authorization_pending');
    t.advance(1);
    expectOAuthError(await t.poll(id), 'expired_token');
    t.advance(5000);
    expectOAuthError(await t.poll(id), 'expired_token');
    expect(t.sim.stats(msisdn).violations['poll-after-expiry']).toBe(2);
  });

  it('answers access_denied for a denied number (after its pending polls), then invalid_grant', async () => {
    const msisdn = fresh();
    t.sim.addScenarios({ numbers: { [msisdn]: { denied: true, pendingPolls: 1 } } });
    const id = await t.authorize(msisdn, 'sim-swap');
    t.advance(2000);
    expectOAuthError(await t.poll(id), 'authorization_pending');
    t.advance(2000);
    expectOAuthError(await t.poll(id), 'access_denied');
    t.advance(2000);
    expectOAuthError(await t.poll(id), 'invalid_grant');
    expect(t.sim.stats(msisdn).violations['poll-after-final']).toBe(1);
  });

  it('answers invalid_grant when an auth_req_id is redeemed twice', async () => {
    const msisdn = fresh();
    const id = await t.authorize(msisdn, 'sim-swap');
    t.advance(2000);
    expect((await t.poll(id)).status).toBe(200);
    t.advance(2000);
    const again = await t.poll(id);
    expectOAuthError(again, 'invalid_grant');
    expect(again.json.error_description).toMatch(/redeemed/);
    expect(t.sim.stats(msisdn).violations['poll-after-final']).toBe(1);
  });

  it('uses the number’s tokenExpiresIn', async () => {
    const msisdn = fresh();
    t.sim.addScenarios({ numbers: { [msisdn]: { tokenExpiresIn: 60 } } });
    const id = await t.authorize(msisdn, 'sim-swap');
    t.advance(2000);
    expect((await t.poll(id)).json.expires_in).toBe(60);
  });
});

describe('access tokens', () => {
  async function tokenFor(msisdn: string, operation: Parameters<TestSim['authorize']>[1]): Promise<string> {
    t.sim.addScenarios({ numbers: { [msisdn]: { lastSimChange: null, tokenExpiresIn: 60 } } });
    const id = await t.authorize(msisdn, operation);
    t.advance(2000);
    const res = await t.poll(id);
    expect(res.status).toBe(200);
    return res.json.access_token as string;
  }

  it('is accepted for its own number and operation', async () => {
    const msisdn = fresh();
    const token = await tokenFor(msisdn, 'sim-swap');
    const res = await t.camara('sim-swap', camaraBody('sim-swap', msisdn, 240), token);
    expect(res.status).toBe(200);
  });

  it('is refused with 403 for another number (token-for-other-number)', async () => {
    const msisdn = fresh();
    const other = fresh();
    t.sim.addScenarios({ numbers: { [other]: { lastSimChange: null } } });
    const token = await tokenFor(msisdn, 'sim-swap');
    expectCamaraError(
      await t.camara('sim-swap', camaraBody('sim-swap', other, 240), token),
      403,
      'PERMISSION_DENIED',
    );
    expect(t.sim.stats(msisdn).violations['token-for-other-number']).toBe(1);
  });

  it('is refused with 403 on another API (token-for-other-scope)', async () => {
    const msisdn = fresh();
    const token = await tokenFor(msisdn, 'sim-swap');
    const res = await t.camara('sim-swap-date', camaraBody('sim-swap-date', msisdn), token);
    expectCamaraError(res, 403, 'PERMISSION_DENIED');
    expectCamaraError(
      await t.camara('device-roaming', camaraBody('device-roaming', msisdn), token),
      403,
      'PERMISSION_DENIED',
    );
    expect(t.sim.stats(msisdn).violations['token-for-other-scope']).toBe(2);
  });

  it('is refused with 401 once expired (token-expired)', async () => {
    const msisdn = fresh();
    const token = await tokenFor(msisdn, 'device-connectivity');
    const body = camaraBody('device-connectivity', msisdn);
    t.advance(59_999);
    expect((await t.camara('device-connectivity', body, token)).status).toBe(200);
    t.advance(1);
    expectCamaraError(await t.camara('device-connectivity', body, token), 401, 'UNAUTHENTICATED');
    expect(t.sim.stats(msisdn).violations['token-expired']).toBe(1);
  });

  it('answers 401 for an unknown token and for none', async () => {
    const body = camaraBody('device-roaming', '+447700900001');
    expectCamaraError(await t.camara('device-roaming', body, 'not-a-token'), 401, 'UNAUTHENTICATED');
    expectCamaraError(await t.camara('device-roaming', body, undefined), 401, 'UNAUTHENTICATED');
  });

  it('does not accept the application JWT as an access token', async () => {
    const body = camaraBody('device-roaming', '+447700900001');
    expectCamaraError(await t.camara('device-roaming', body, await t.jwt()), 401, 'UNAUTHENTICATED');
  });
});

describe('access-token lifetime by default', () => {
  it('is 15 minutes (900 s), like the tokens Vonage issues', async () => {
    const s = await TestSim.start({ fakeClock: true, interval: 0 }, t.keys);
    try {
      const msisdn = '+447700903900';
      s.sim.addScenarios({ numbers: { [msisdn]: { connectivity: 'CONNECTED_SMS' } } });
      const res = await s.poll(await s.authorize(msisdn, 'device-connectivity'));
      expect(res.json.expires_in).toBe(900);
      const body = camaraBody('device-connectivity', msisdn);
      const token = res.json.access_token as string;
      s.advance(899_999);
      expect((await s.camara('device-connectivity', body, token)).status).toBe(200);
      s.advance(1);
      expectCamaraError(await s.camara('device-connectivity', body, token), 401, 'UNAUTHENTICATED');
    } finally {
      await s.close();
    }
  });
});
