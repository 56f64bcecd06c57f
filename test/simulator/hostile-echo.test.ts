/**
 * faults.echo, the hostile provider: every error answer quotes back the request's number in
 * several spellings, its auth_req_id and its Authorization credential; success answers and the
 * fault sequence are unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoSpellings, hostileEcho, withHostileEcho } from '../../simulator/faults.js';
import { TestSim } from './helpers.js';

const MSISDN = '+447700900871';

describe('the echo text', () => {
  it('spells the number nine ways, none of them the E.164 form alone', () => {
    expect(echoSpellings('+447700900001')).toEqual([
      '+44 7700 900001',
      '44-7700-900-001',
      '+44.7700.900.001',
      '+44 (0) 7700 900001',
      '07700 900001',
      '%2B447700900001',
      'tel:+447700900001',
      '447700900001',
      '7700900001',
    ]);
    expect(hostileEcho({})).toBe('');
    expect(hostileEcho({ authReqId: 'a-1', authorization: 'Bearer t' })).toBe(
      '(echo: auth_req_id a-1; you sent Bearer t)',
    );
  });

  it('goes into the message of every body form, and only into errors', () => {
    const echo = '(echo: x)';
    expect(
      withHostileEcho({ status: 404, body: { status: 404, code: 'NOT_FOUND', message: 'm' } }, echo).body,
    ).toEqual({ status: 404, code: 'NOT_FOUND', message: 'm (echo: x)' });
    expect(withHostileEcho({ status: 400, body: { error: 'access_denied' } }, echo).body).toEqual({
      error: 'access_denied',
      error_description: '(echo: x)',
    });
    expect(withHostileEcho({ status: 400, body: { type: 't', detail: 'd' } }, echo).body).toEqual({
      type: 't',
      detail: 'd (echo: x)',
    });
    expect(withHostileEcho({ status: 502, raw: '<h1>Bad</h1>' }, echo).raw).toBe('<h1>Bad</h1> (echo: x)');
    expect(withHostileEcho({ status: 502, raw: '' }, echo).raw).toBe('');
    const ok = { status: 200, body: { swapped: false } };
    expect(withHostileEcho(ok, echo)).toBe(ok);
  });
});

describe('a simulator with faults.echo', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await TestSim.start({
      faults: { echo: true },
      scenarios: { numbers: { [MSISDN]: { denied: true } } },
    });
  });
  afterAll(() => t.close());

  it('a refused token poll quotes the number, the auth_req_id and the JWT back', async () => {
    const id = await t.authorize(MSISDN, 'sim-swap');
    const jwt = await t.jwt();
    const res = await t.poll(id, {}, jwt);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('access_denied');
    const text = String(res.json.error_description);
    for (const spelling of echoSpellings(MSISDN)) expect(text).toContain(spelling);
    expect(text).toContain(`auth_req_id ${id}`);
    expect(text).toContain(`Bearer ${jwt}`);
  });

  it('a CAMARA call with a bad token quotes the token and the number of the body', async () => {
    const res = await t.camara('sim-swap', { phoneNumber: MSISDN }, 'not-a-real-access-token-0123456789');
    expect(res.status).toBe(401);
    expect(String(res.json.message)).toContain('Bearer not-a-real-access-token-0123456789');
    expect(String(res.json.message)).toContain('44-7700-900-871');
  });

  it('answers that are not errors carry no echo', async () => {
    const res = await t.bcAuthorize({
      login_hint: `tel:${MSISDN}`,
      scope: 'openid dpv:FraudPreventionAndDetection#check-sim-swap',
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain('echo');
  });
});
