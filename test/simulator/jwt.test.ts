/** Application-JWT checks on both OAuth endpoints (RS256, application_id, iat/exp, 24 h cap). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem401, makeKeys, mintJwt, scopeFor, TestSim } from './helpers.js';

const MSISDN = '+447700900101';
const form = { login_hint: `tel:${MSISDN}`, scope: scopeFor('sim-swap') };

let t: TestSim;
beforeAll(async () => {
  t = await TestSim.start({ fakeClock: true });
});
afterAll(() => t.close());

describe('application JWT', () => {
  it('accepts a valid RS256 JWT for the configured application', async () => {
    const res = await t.bcAuthorize(form);
    expect(res.status).toBe(200);
  });

  it('rejects a missing Authorization header with an RFC 7807 401', async () => {
    expectProblem401(await t.bcAuthorize(form, {}, null), /Missing Authorization/);
  });

  it('rejects a non-Bearer Authorization header', async () => {
    expectProblem401(await t.bcAuthorize(form, { authorization: `Basic ${await t.jwt()}` }, null), /Missing/);
  });

  it('rejects a JWT signed by another key', async () => {
    const other = makeKeys();
    expectProblem401(await t.bcAuthorize(form, {}, await mintJwt(other.privateKey, t.now())), /signature/);
  });

  it('rejects a JWT for another application_id', async () => {
    const jwt = await t.jwt({ applicationId: '00000000-0000-4000-8000-000000000000' });
    expectProblem401(await t.bcAuthorize(form, {}, jwt), /application_id/);
  });

  it('rejects a JWT without exp', async () => {
    expectProblem401(await t.bcAuthorize(form, {}, await t.jwt({ exp: null })), /"exp"/);
  });

  it('rejects a JWT without iat', async () => {
    expectProblem401(
      await t.bcAuthorize(form, {}, await t.jwt({ iat: null, exp: t.now() / 1000 + 60 })),
      /"iat"/,
    );
  });

  it('rejects an expired JWT (exp not in the future), judged by the injected clock', async () => {
    const jwt = await t.jwt();
    expect((await t.bcAuthorize(form, {}, jwt)).status).toBe(200);
    t.advance(900_000); // exactly at exp
    expectProblem401(await t.bcAuthorize(form, {}, jwt), /expired/);
  });

  it('rejects exp - iat over 24 h and accepts exactly 24 h', async () => {
    const iat = Math.floor(t.now() / 1000);
    expectProblem401(await t.bcAuthorize(form, {}, await t.jwt({ iat, exp: iat + 86_401 })), /24 hours/);
    expect((await t.bcAuthorize(form, {}, await t.jwt({ iat, exp: iat + 86_400 }))).status).toBe(200);
  });

  it('rejects a JWT signed with another algorithm', async () => {
    expectProblem401(await t.bcAuthorize(form, {}, await t.jwt({ alg: 'RS512' })), /RS256/);
  });

  it('rejects garbage', async () => {
    expectProblem401(await t.bcAuthorize(form, {}, 'not.a.jwt'), /malformed/);
  });

  it('guards the token endpoint the same way', async () => {
    const id = await t.authorize(MSISDN, 'sim-swap');
    expectProblem401(await t.poll(id, {}, null), /Missing Authorization/);
    expectProblem401(await t.poll(id, {}, await t.jwt({ exp: null })), /"exp"/);
    // The rejected polls did not consume the request.
    expect((await t.poll(id)).status).toBe(200);
  });

  it('counts 401s in the stats of the number', () => {
    expect(t.sim.stats(MSISDN).requests['bc-authorize']?.['401']).toBeGreaterThanOrEqual(9);
  });
});
