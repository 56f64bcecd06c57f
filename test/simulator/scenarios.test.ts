/** Scenario files (validation, loading, runtime additions), scripted faults and per-number stats. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAULT_ENDPOINTS,
  loadScenarioFile,
  parseScenarioFile,
  ScenarioValidationError,
  startSimulator,
  type ScenarioFile,
} from '../../simulator/index.js';
import { ScenarioStore } from '../../simulator/scenarios.js';
import {
  APP_ID,
  camaraBody,
  CIBA_GRANT,
  expectCamaraError,
  expectOAuthError,
  pathOf,
  post,
  scopeFor,
  TestSim,
} from './helpers.js';

let t: TestSim;
let dir: string;
beforeAll(async () => {
  t = await TestSim.start({ interval: 0 });
  dir = await mkdtemp(path.join(tmpdir(), 'netcheck-scenarios-'));
});
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

function issuesOf(value: unknown): string[] {
  try {
    parseScenarioFile(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioValidationError);
    return (err as ScenarioValidationError).issues;
  }
  throw new Error('expected a validation error');
}

describe('validation', () => {
  it('accepts a full file', () => {
    const file: ScenarioFile = {
      description: 'every field',
      noNetworkApplication: false,
      defaults: {
        pendingPolls: 1,
        interval: 0.5,
        expiresIn: 60,
        tokenExpiresIn: 300,
        connectivity: 'CONNECTED_SMS',
      },
      numbers: {
        '+447700900001': {
          lastSimChange: '2024-05-01T10:00:00+02:00',
          connectivity: 'NOT_CONNECTED',
          roaming: { roaming: true, countryCode: 262, countryName: ['DE'] },
          denied: false,
          pendingPolls: 0,
          operatorServes: true,
          allowlistBlocked: false,
          faults: [
            { endpoint: 'token', status: 503 },
            { status: 429, retryAfter: 1, code: 'QUOTA_EXCEEDED' },
            { endpoint: 'bc-authorize', status: 400, error: 'unauthorized_client', message: 'no' },
            { drop: true },
            { timeoutMs: 100, endpoint: 'camara' },
            { delayMs: 5 },
            { endpoint: 'camara', status: 502, body: '<html></html>', contentType: 'text/html' },
            { status: 400, problem: { title: 'Bad Request', detail: 'No' } },
            { status: 429, retryAfter: 'Wed, 21 Oct 2015 07:28:00 GMT' },
            { endpoint: 'identity-insights', status: 503 },
          ],
        },
        '+447700900002': { lastSimChange: null, unknown: false },
      },
    };
    expect(parseScenarioFile(file).numbers?.['+447700900001']?.faults).toHaveLength(10);
  });

  it('lists every problem with its path', () => {
    const issues = issuesOf({
      numbers: {
        '447700900001': {},
        '+447700900002': {
          connectivity: 'ONLINE',
          lastSimChange: 'yesterday',
          pendingPolls: -1,
          roaming: { roaming: 'yes' },
          faults: [
            { status: 503, drop: true },
            { code: 'X' },
            { status: 200 },
            { status: 500, body: 'x', error: 'e' },
            { status: 500, problem: {}, code: 'X' },
            { drop: true, contentType: 'text/html' },
            { status: 500, body: '', message: 'm' },
            { status: 500, problem: { colour: 1 } },
            { endpoint: 'identity', status: 500 },
          ],
          colour: 'red',
          operatorServes: 'no',
          allowlistBlocked: 1,
        },
        '+447700900003': { lastSimChange: null, lastSimChangeHoursAgo: 3 },
      },
      defaults: { interval: -1, allowlistBlocked: true },
      noNetworkApplication: 'yes',
      extra: 1,
    });
    const text = issues.join('\n');
    expect(text).toMatch(/numbers.*447700900001.*E\.164/);
    expect(text).toMatch(/numbers\["\+447700900002"\]\.connectivity: .*CONNECTED_DATA/);
    expect(text).toMatch(/\.lastSimChange: /);
    expect(text).toMatch(/\.pendingPolls: /);
    expect(text).toMatch(/\.roaming\.roaming: /);
    expect(text).toMatch(
      /faults\[0\]: a fault needs exactly one of status, drop, timeoutMs, delayMs \(got status, drop\)/,
    );
    expect(text).toMatch(/faults\[1\]: .*got none/);
    expect(text).toMatch(/faults\[1\]: code only go with status/);
    expect(text).toMatch(/faults\[2\]\.status: /);
    expect(text).toMatch(/faults\[3\]: give at most one of error, problem, body \(got error, body\)/);
    expect(text).toMatch(/faults\[4\]: code goes with a CAMARA body, not with problem/);
    expect(text).toMatch(/faults\[5\]: contentType only go with status/);
    expect(text).toMatch(/faults\[6\]: message does not go with body/);
    expect(text).toMatch(/faults\[7\]\.problem: .*colour/);
    expect(text).toMatch(/faults\[8\]\.endpoint: .*identity-insights/);
    expect(text).toMatch(/\.operatorServes: /);
    expect(text).toMatch(/\.allowlistBlocked: /);
    expect(text).toMatch(/defaults: .*allowlistBlocked/);
    expect(text).toMatch(/noNetworkApplication: /);
    expect(text).toMatch(/colour/);
    expect(text).toMatch(/\+447700900003.*not both/);
    expect(text).toMatch(/defaults\.interval: /);
    expect(text).toMatch(/extra/);
  });

  it('loads a JSON file and names it in errors', async () => {
    const good = path.join(dir, 'good.json');
    await writeFile(
      good,
      JSON.stringify({ numbers: { '+447700900009': { connectivity: 'CONNECTED_SMS' } } }),
    );
    expect((await loadScenarioFile(good)).numbers?.['+447700900009']?.connectivity).toBe('CONNECTED_SMS');

    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ numbers: { '+447700900009': { connectivity: 'SOMETIMES' } } }));
    await expect(loadScenarioFile(bad)).rejects.toThrow(
      new RegExp(`Invalid scenario file ${bad}:\\n  - numbers`),
    );

    const notJson = path.join(dir, 'not.json');
    await writeFile(notJson, '{ numbers: ');
    await expect(loadScenarioFile(notJson)).rejects.toThrow(/not valid JSON/);
  });

  it('the example scenario file of the standalone simulator is valid', async () => {
    const example = await loadScenarioFile(
      new URL('../../simulator/example-scenarios.json', import.meta.url).pathname,
    );
    expect(Object.keys(example.numbers ?? {})).toHaveLength(7);
  });

  it('startSimulator refuses invalid scenarios', async () => {
    await expect(
      startSimulator({
        applicationId: APP_ID,
        publicKey: t.keys.publicKey,
        scenarios: { numbers: { '+447700900001': { pendingPolls: 1.5 } } },
      }),
    ).rejects.toThrow(/options\.scenarios[\s\S]*pendingPolls/);
  });
});

describe('runtime additions over HTTP', () => {
  it('merges numbers posted to /__simulator/scenarios', async () => {
    const msisdn = '+447700900501';
    expectCamaraError(await t.check('device-connectivity', msisdn), 404, 'NOT_FOUND');
    const res = await post(`${t.url}/__simulator/scenarios`, {
      json: { numbers: { [msisdn]: { connectivity: 'CONNECTED_SMS' } } },
    });
    expect(res.json).toEqual({ ok: true, numbers: 1 });
    expect((await t.check('device-connectivity', msisdn)).json).toEqual({
      connectivityStatus: 'CONNECTED_SMS',
    });
    // A later addition replaces the entry of that number and keeps the others.
    await post(`${t.url}/__simulator/scenarios`, {
      json: { numbers: { '+447700900502': { connectivity: 'NOT_CONNECTED' } } },
    });
    expect((await t.check('device-connectivity', msisdn)).json).toEqual({
      connectivityStatus: 'CONNECTED_SMS',
    });
    expect((await t.check('device-connectivity', '+447700900502')).json).toEqual({
      connectivityStatus: 'NOT_CONNECTED',
    });
  });

  it('refuses an invalid addition with the issues', async () => {
    const res = await post(`${t.url}/__simulator/scenarios`, {
      json: { numbers: { '+447700900503': { interval: 'x' } } },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_scenarios');
    expect(res.json.issues).toEqual([expect.stringMatching(/^numbers\["\+447700900503"\]\.interval: /)]);
    const notJson = await post(`${t.url}/__simulator/scenarios`, {
      raw: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
  });

  it('applies defaults to listed numbers that leave a field out, numbers first', async () => {
    const s = await TestSim.start(
      {
        interval: 0,
        scenarios: {
          defaults: { connectivity: 'CONNECTED_SMS', pendingPolls: 1 },
          numbers: {
            '+447700900511': {},
            '+447700900512': { connectivity: 'NOT_CONNECTED', pendingPolls: 0 },
          },
        },
      },
      t.keys,
    );
    try {
      const id = await s.authorize('+447700900511', 'device-connectivity');
      expectOAuthError(await s.poll(id), 'authorization_pending');
      const tok = (await s.poll(id)).json.access_token as string;
      const body = camaraBody('device-connectivity', '+447700900511');
      expect((await s.camara('device-connectivity', body, tok)).json).toEqual({
        connectivityStatus: 'CONNECTED_SMS',
      });
      expect((await s.check('device-connectivity', '+447700900512')).json).toEqual({
        connectivityStatus: 'NOT_CONNECTED',
      });
      // Flow defaults also apply to numbers that are not listed.
      const unlisted = await s.authorize('+447700900513', 'sim-swap');
      expectOAuthError(await s.poll(unlisted), 'authorization_pending');
    } finally {
      await s.close();
    }
  });

  it('answers 404 for unknown admin paths', async () => {
    const res = await fetch(`${t.url}/__simulator/nope`);
    expect(res.status).toBe(404);
  });
});

describe('scripted faults', () => {
  it('are consumed in order by the matching requests of the number', async () => {
    const msisdn = '+447700900601';
    t.sim.addScenarios({
      numbers: {
        [msisdn]: {
          connectivity: 'CONNECTED_DATA',
          faults: [
            { endpoint: 'token', status: 503 },
            { endpoint: 'bc-authorize', status: 400, error: 'unauthorized_client', message: 'not allowed' },
            { endpoint: 'camara', status: 429, retryAfter: 7, code: 'QUOTA_EXCEEDED' },
            { endpoint: 'camara', status: 409 },
          ],
        },
      },
    });
    const scope = scopeFor('device-connectivity');
    // 1st bc-authorize: the bc-authorize fault (the token one waits for a token request).
    const refused = await t.bcAuthorize({ login_hint: msisdn, scope });
    expectOAuthError(refused, 'unauthorized_client');
    expect(refused.json.error_description).toBe('not allowed');
    const id = await t.authorize(msisdn, 'device-connectivity');
    expectCamaraError(await t.poll(id), 503, 'UNAVAILABLE');
    const tok = (await t.poll(id)).json.access_token as string;
    const body = camaraBody('device-connectivity', msisdn);
    const quota = await t.camara('device-connectivity', body, tok);
    expectCamaraError(quota, 429, 'QUOTA_EXCEEDED');
    expect(quota.headers.get('retry-after')).toBe('7');
    expectCamaraError(await t.camara('device-connectivity', body, tok), 409, 'CONFLICT');
    expect((await t.camara('device-connectivity', body, tok)).status).toBe(200);
    expect(t.sim.stats(msisdn).requests).toEqual({
      'bc-authorize': { '400': 1, '200': 1 },
      token: { '503': 1, '200': 1 },
      'device-connectivity': { '429': 1, '409': 1, '200': 1 },
    });
  });

  it('drop, timeoutMs and delayMs', async () => {
    const msisdn = '+447700900602';
    t.sim.addScenarios({
      numbers: { [msisdn]: { faults: [{ drop: true }, { timeoutMs: 150 }, { delayMs: 120 }] } },
    });
    const form = { login_hint: msisdn, scope: scopeFor('sim-swap') };
    await expect(t.bcAuthorize(form)).rejects.toThrow();
    const t0 = Date.now();
    await expect(t.bcAuthorize(form)).rejects.toThrow(); // held 150 ms, then the connection is closed
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    const t1 = Date.now();
    expect((await t.bcAuthorize(form)).status).toBe(200);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(110);
    expect(t.sim.stats(msisdn).requests['bc-authorize']).toEqual({ drop: 1, timeout: 1, '200': 1 });
  });
});

describe('stats', () => {
  it('are kept per number, and the HTTP view matches the programmatic one', async () => {
    const s = await TestSim.start({ interval: 1 }, t.keys);
    try {
      const a = '+447700900701';
      const b = '+447700900702';
      const idA = await s.authorize(a, 'sim-swap');
      await s.authorize(b, 'sim-swap');
      expectOAuthError(await s.poll(idA), 'slow_down');
      const statsA = s.sim.stats(a);
      expect(statsA.violations['poll-too-early']).toBe(1);
      expect(statsA.requests).toEqual({ 'bc-authorize': { '200': 1 }, token: { '400': 1 } });
      expect(statsA.total).toBe(2);
      const statsB = s.sim.stats(b);
      expect(statsB.violations['poll-too-early']).toBe(0);
      expect(statsB.total).toBe(1);
      const all = s.sim.stats();
      expect(all.total).toBe(3);
      expect(all.maxRequestsInAnyWindow1s).toBe(3);
      expect(s.sim.stats('+447700900799')).toEqual({
        ...all,
        requests: {},
        total: 0,
        maxRequestsInAnyWindow1s: 0,
        violations: statsB.violations,
      });

      const viaHttp = await fetch(`${s.url}/__simulator/stats?msisdn=${encodeURIComponent(a)}`);
      expect(await viaHttp.json()).toEqual(statsA);
      expect(await (await fetch(`${s.url}/__simulator/stats`)).json()).toEqual(all);
      const rawPlus = await fetch(`${s.url}/__simulator/stats?msisdn=+447700900701`);
      expect(rawPlus.status).toBe(400);
      // Admin requests are not counted.
      expect(s.sim.stats().total).toBe(3);

      const reset = await post(`${s.url}/__simulator/reset`, {});
      expect(reset.json).toEqual({ ok: true });
      expect(s.sim.stats(a)).toEqual(s.sim.stats('+447700900799'));
      expect(s.sim.stats().total).toBe(0);
      // Reset keeps the flows: the pending auth_req_id still works.
      await new Promise((r) => setTimeout(r, 1000));
      expect((await s.poll(idA)).status).toBe(400); // slow_down raised its interval to 6 s
      s.sim.reset();
      expect(s.sim.stats().total).toBe(0);
    } finally {
      await s.close();
    }
  });
});

describe('scripted answers for error mapping', () => {
  let n = 0;
  /** A fresh number with these faults. */
  function numberWith(faults: NonNullable<NonNullable<ScenarioFile['numbers']>[string]['faults']>): string {
    const msisdn = `+4477009008${(10 + n++).toString()}`;
    t.sim.addScenarios({ numbers: { [msisdn]: { connectivity: 'CONNECTED_DATA', faults } } });
    return msisdn;
  }
  /** A CAMARA request of the number (no token needed: the fault answers first). */
  function camara(msisdn: string) {
    return post(`${t.url}${pathOf('device-connectivity')}`, {
      json: camaraBody('device-connectivity', msisdn),
      headers: { authorization: 'Bearer x' },
    });
  }

  it('a raw body with its content type, HTML by default', async () => {
    const html = '<html><body><h1>502 Bad Gateway</h1></body></html>';
    const msisdn = numberWith([
      { endpoint: 'camara', status: 502, body: html },
      { endpoint: 'camara', status: 503, body: 'upstream gone', contentType: 'text/plain; charset=utf-8' },
      { endpoint: 'camara', status: 500, body: '{"status":500,', contentType: 'application/json' },
    ]);
    const a = await camara(msisdn);
    expect(a.status).toBe(502);
    expect(a.headers.get('content-type')).toBe('text/html');
    expect(a.body).toBe(html);
    const b = await camara(msisdn);
    expect([b.status, b.headers.get('content-type'), b.body]).toEqual([
      503,
      'text/plain; charset=utf-8',
      'upstream gone',
    ]);
    const c = await camara(msisdn);
    expect([c.status, c.headers.get('content-type'), c.body]).toEqual([
      500,
      'application/json',
      '{"status":500,',
    ]);
  });

  it('an empty body, without a content type', async () => {
    const msisdn = numberWith([{ endpoint: 'token', status: 500, body: '' }]);
    const id = await t.authorize(msisdn, 'device-connectivity');
    const res = await fetch(`${t.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Bearer ${await t.jwt()}`,
      },
      body: new URLSearchParams({ grant_type: CIBA_GRANT, auth_req_id: id }).toString(),
    });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBeNull();
    expect(await res.text()).toBe('');
    expect(t.sim.stats(msisdn).requests.token).toEqual({ '500': 1 });
  });

  it('an RFC 7807 body: given fields kept, the others filled in', async () => {
    const msisdn = numberWith([
      {
        endpoint: 'bc-authorize',
        status: 400,
        problem: { type: 'https://example.test/errors#x', title: 'Bad Request', detail: 'No' },
      },
      {
        endpoint: 'bc-authorize',
        status: 409,
        message: 'busy',
        problem: {},
        contentType: 'application/problem+json',
      },
    ]);
    const form = { login_hint: msisdn, scope: scopeFor('device-connectivity') };
    const a = await t.bcAuthorize(form);
    expect(a.status).toBe(400);
    expect(a.headers.get('content-type')).toBe('application/json');
    expect(a.json).toEqual({
      type: 'https://example.test/errors#x',
      title: 'Bad Request',
      detail: 'No',
      instance: expect.any(String) as unknown,
    });
    const b = await t.bcAuthorize(form);
    expect(b.headers.get('content-type')).toBe('application/problem+json');
    expect(b.json).toEqual({
      type: 'https://developer.vonage.com/api-errors#scripted',
      title: 'Conflict',
      detail: 'busy',
      instance: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
    });
  });

  it.each([
    [501, undefined, 'NOT_IMPLEMENTED'],
    [422, 'MISSING_IDENTIFIER', 'MISSING_IDENTIFIER'],
    [422, 'UNNECESSARY_IDENTIFIER', 'UNNECESSARY_IDENTIFIER'],
    [422, 'UNSUPPORTED_IDENTIFIER', 'UNSUPPORTED_IDENTIFIER'],
    [422, 'SERVICE_NOT_APPLICABLE', 'SERVICE_NOT_APPLICABLE'],
    [404, 'IDENTIFIER_NOT_FOUND', 'IDENTIFIER_NOT_FOUND'],
    [422, undefined, 'UNPROCESSABLE_ENTITY'],
  ] as const)('status %i with code %s answers a CAMARA body with %s', async (status, code, expected) => {
    const msisdn = numberWith([{ endpoint: 'camara', status, ...(code ? { code } : {}) }]);
    const res = await t.camara('device-connectivity', camaraBody('device-connectivity', msisdn), 'x');
    expectCamaraError(res, status, expected); // and a valid CAMARA ErrorInfo (checked by t.camara)
  });

  it('Retry-After as given: a huge number of seconds, or a raw value', async () => {
    const date = 'Wed, 21 Oct 2015 07:28:00 GMT';
    const msisdn = numberWith([
      { endpoint: 'camara', status: 429, retryAfter: 99999999 },
      { endpoint: 'camara', status: 503, retryAfter: date, body: '' },
      { endpoint: 'camara', status: 429, retryAfter: 'soon', error: 'slow_down' },
    ]);
    const a = await camara(msisdn);
    expectCamaraError(a, 429, 'TOO_MANY_REQUESTS');
    expect(a.headers.get('retry-after')).toBe('99999999');
    const b = await camara(msisdn);
    expect([b.status, b.headers.get('retry-after')]).toEqual([503, date]);
    const c = await camara(msisdn);
    expect([c.status, c.headers.get('retry-after'), c.json.error]).toEqual([429, 'soon', 'slow_down']);
  });

  it('delayMs on the token endpoint delays that number’s poll only, then answers normally', async () => {
    const msisdn = numberWith([{ endpoint: 'token', delayMs: 300 }]);
    // bc-authorize does not take the token fault.
    const id = await t.authorize(msisdn, 'device-connectivity');
    const started = Date.now();
    const res = await t.poll(id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.status).toBe(200);
    expect(res.json.access_token).toEqual(expect.any(String));
    // Consumed: the next poll of another flow is not delayed by it any more.
    expect((await t.poll(await t.authorize(msisdn, 'device-connectivity'))).status).toBe(200);
    expect(t.sim.stats(msisdn).requests.token).toEqual({ '200': 2 });
  });

  it('identity-insights faults wait for that endpoint class; any takes the first request', async () => {
    const msisdn = numberWith([
      { endpoint: 'identity-insights', status: 503 },
      { endpoint: 'any', status: 502 },
    ]);
    const form = { login_hint: msisdn, scope: scopeFor('device-connectivity') };
    expectCamaraError(await t.bcAuthorize(form), 502, 'BAD_GATEWAY');
    expect((await t.bcAuthorize(form)).status).toBe(200);
    expect((await camara(msisdn)).status).toBe(401);
  });
});

describe('ScenarioStore.takeFault', () => {
  it('matches each endpoint class, identity-insights included, and any matches them all', () => {
    const store = new ScenarioStore();
    const faults = [
      { endpoint: 'identity-insights', status: 500 },
      { endpoint: 'camara', status: 501 },
      { status: 502 },
      { endpoint: 'any', status: 503 },
    ] as const;
    store.add(parseScenarioFile({ numbers: { '+447700900899': { faults: [...faults] } } }));
    expect(FAULT_ENDPOINTS).toEqual(['bc-authorize', 'token', 'camara', 'identity-insights', 'any']);
    expect(store.takeFault('+447700900899', 'token')?.status).toBe(502);
    expect(store.takeFault('+447700900899', 'camara')?.status).toBe(501);
    expect(store.takeFault('+447700900899', 'camara')?.status).toBe(503);
    expect(store.takeFault('+447700900899', 'bc-authorize')).toBeUndefined();
    expect(store.takeFault('+447700900899', 'identity-insights')?.status).toBe(500);
    expect(store.takeFault('+447700900899', 'identity-insights')).toBeUndefined();
  });
});
