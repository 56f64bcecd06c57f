/** Seeded random faults, latency, the global rate limit and the 1-s window statistic. */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorOptions } from '../../simulator/index.js';
import { SlidingWindowMax } from '../../simulator/stats.js';
import {
  APP_ID,
  camaraBody,
  expectCamaraError,
  expectOAuthError,
  makeKeys,
  pathOf,
  post,
  TestSim,
  type TestKeys,
} from './helpers.js';

const testKeys = makeKeys();

async function withSim<T>(
  options: Partial<SimulatorOptions> & { fakeClock?: boolean },
  fn: (t: TestSim) => Promise<T>,
) {
  const t = await TestSim.start(options, testKeys);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/** One unauthenticated token poll: 401 unless a fault answers first; "error" when the connection fails. */
async function hit(url: string, signal?: AbortSignal): Promise<number | 'error'> {
  try {
    const res = await fetch(`${url}/oauth2/token`, { method: 'POST', ...(signal ? { signal } : {}) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 'error';
  }
}

async function sequence(url: string, n: number): Promise<(number | 'error')[]> {
  const out: (number | 'error')[] = [];
  for (let i = 0; i < n; i++) out.push(await hit(url));
  return out;
}

describe('random faults', () => {
  it('unavailable: 503 UNAVAILABLE on every Vonage endpoint, never on /__simulator', () =>
    withSim({ faults: { unavailable: 1 } }, async (t) => {
      for (const path of ['/oauth2/bc-authorize', '/oauth2/token']) {
        expectCamaraError(await post(`${t.url}${path}`, { form: {} }), 503, 'UNAVAILABLE');
      }
      const res = await t.camara('sim-swap', camaraBody('sim-swap', '+447700900001', 24), undefined);
      expectCamaraError(res, 503, 'UNAVAILABLE'); // and it matches the spec's Generic503
      await t.camara('device-roaming', camaraBody('device-roaming', '+447700900001'), undefined);
      expect((await fetch(`${t.url}/__simulator/stats`)).status).toBe(200);
      expect((await post(`${t.url}/__simulator/scenarios`, { json: {} })).status).toBe(200);
      expect((await post(`${t.url}/__simulator/reset`, {})).status).toBe(200);
    }));

  it('tooManyRequests: 429 TOO_MANY_REQUESTS with Retry-After', () =>
    withSim({ faults: { tooManyRequests: 1, retryAfterSeconds: 3 } }, async (t) => {
      const res = await t.camara(
        'device-connectivity',
        camaraBody('device-connectivity', '+447700900001'),
        'x',
      );
      expectCamaraError(res, 429, 'TOO_MANY_REQUESTS');
      expect(res.headers.get('retry-after')).toBe('3');
      expect(t.sim.stats().requests['device-connectivity']).toEqual({ '429': 1 });
    }));

  it('shares: roughly the configured fraction of requests fail', () =>
    withSim({ faults: { seed: 42, unavailable: 0.2, tooManyRequests: 0.1 } }, async (t) => {
      const statuses = await sequence(t.url, 300);
      const count = (s: number) => statuses.filter((x) => x === s).length;
      expect(count(503)).toBeGreaterThan(0.12 * 300);
      expect(count(503)).toBeLessThan(0.28 * 300);
      expect(count(429)).toBeGreaterThan(0.04 * 300);
      expect(count(429)).toBeLessThan(0.16 * 300);
      expect(count(401) + count(503) + count(429)).toBe(300);
      expect(t.sim.stats().requests.token).toEqual({
        '401': count(401),
        '503': count(503),
        '429': count(429),
      });
    }));

  it('the same seed gives the same fault sequence; another seed another', async () => {
    const faults = { unavailable: 0.25, tooManyRequests: 0.25, drop: 0.15 };
    const run = (seed: number) => withSim({ faults: { ...faults, seed } }, (t) => sequence(t.url, 40));
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    expect(new Set(a)).toEqual(new Set([401, 503, 429, 'error']));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('drop: the connection is destroyed without an answer', () =>
    withSim({ faults: { drop: 1 } }, async (t) => {
      await expect(t.bcAuthorize({ login_hint: '+447700900001', scope: 'openid' })).rejects.toThrow(
        /fetch failed/,
      );
      expect(t.sim.stats('+447700900001').requests['bc-authorize']).toEqual({ drop: 1 });
    }));

  it('timeout: the request is held until the client gives up, and close() still finishes promptly', async () => {
    const t = await TestSim.start({ faults: { timeout: 1 } }, testKeys);
    const started = Date.now();
    expect(await hit(t.url, AbortSignal.timeout(200))).toBe('error');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(t.sim.stats().requests.token).toEqual({ timeout: 1 });
    // A request still held (no client timeout) when the simulator closes.
    const pending = hit(t.url);
    await new Promise((r) => setTimeout(r, 100));
    const closing = Date.now();
    await t.close();
    expect(Date.now() - closing).toBeLessThan(1000);
    expect(await pending).toBe('error');
  });

  it('reset: the connection is reset (ECONNRESET), logged as reset', () =>
    withSim({ faults: { reset: 1 } }, async (t) => {
      const err = await fetch(`${t.url}/oauth2/token`, { method: 'POST' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
      expect(t.sim.stats().requests.token).toEqual({ reset: 1 });
    }));

  it('hangMs: a hung request is cut after that long, not held forever', () =>
    withSim({ faults: { timeout: 1, hangMs: 300 } }, async (t) => {
      const started = Date.now();
      expect(await hit(t.url, AbortSignal.timeout(5_000))).toBe('error');
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(290);
      expect(waited).toBeLessThan(4_000); // the simulator cut it, not the client's 5 s
    }));

  it("slowDown: a flow's first on-time poll gets slow_down (+5 s), counted as no violation", () =>
    withSim({ fakeClock: true, interval: 1, faults: { slowDown: 1 } }, async (t) => {
      const msisdn = '+447700900001';
      const id = await t.authorize(msisdn, 'sim-swap');
      t.advance(1000);
      const first = await t.poll(id);
      expectOAuthError(first, 'slow_down');
      expect(first.json.error_description).toMatch(/6 s/);
      t.advance(6000);
      expect((await t.poll(id)).status).toBe(200); // only the first poll is slowed down
      expect(t.sim.stats(msisdn).violations['poll-too-early']).toBe(0);
    }));

  it('judges a poll by when it arrived: a first poll held 300 ms does not make the next, sent 1 s later, early', () =>
    withSim({ interval: 1, pendingPolls: 2 }, async (t) => {
      const msisdn = '+447700900002';
      t.sim.addScenarios({ numbers: { [msisdn]: { faults: [{ endpoint: 'token', delayMs: 300 }] } } });
      const id = await t.authorize(msisdn, 'sim-swap');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const firstSent = Date.now();
      expectOAuthError(await t.poll(id), 'authorization_pending'); // answered ~300 ms later
      await new Promise((resolve) => setTimeout(resolve, firstSent + 1_000 - Date.now()));
      // One interval after the first poll was sent (CIBA: between requests) — handled 700 ms
      // after the first was handled, which the old clock called early.
      expectOAuthError(await t.poll(id), 'authorization_pending');
      expect(t.sim.stats(msisdn).violations['poll-too-early']).toBe(0);
    }));

  it("slowDown leaves the other faults' sequence as it was", async () => {
    const statuses = async (faults: SimulatorOptions['faults']) =>
      withSim({ faults }, (t) => sequence(t.url, 40));
    const base = { seed: 3, unavailable: 0.3, drop: 0.2 };
    expect(await statuses({ ...base, slowDown: 0.5 })).toEqual(await statuses(base));
  });

  it('stateFile: a restarted simulator goes on with the flows and tokens the old one issued', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-state-'));
    const stateFile = join(dir, 'state.json');
    try {
      const keys = testKeys;
      const a = await TestSim.start({ stateFile }, keys);
      const pendingId = await a.authorize('+99012345601', 'sim-swap');
      const token = await a.accessToken('+99012345602', 'device-roaming');
      await a.close();
      expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
      const b = await TestSim.start({ stateFile }, keys);
      try {
        expect((await b.poll(pendingId)).status).toBe(200); // the auth_req_id survived
        const res = await b.camara('device-roaming', camaraBody('device-roaming', '+99012345602'), token);
        expect(res.status).toBe(200); // so did the access token, still bound to its number
        const other = await b.camara('device-roaming', camaraBody('device-roaming', '+99012345603'), token);
        expect(other.status).not.toBe(200);
      } finally {
        await b.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('latency: fixed and ranged delays', async () => {
    await withSim({ faults: { latencyMs: 150 } }, async (t) => {
      const started = Date.now();
      expect(await hit(t.url)).toBe(401);
      expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    });
    await withSim({ faults: { latencyMs: [40, 90], seed: 3 } }, async (t) => {
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        expect(await hit(t.url)).toBe(401);
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(38);
        // Well above 90 ms only when the machine is starved; the lower bound is the behaviour.
        expect(elapsed).toBeLessThan(2_000);
      }
    });
    // Admin endpoints are never delayed: with a 5-s latency on the API, stats answer at once.
    await withSim({ faults: { latencyMs: 5_000 } }, async (t) => {
      const started = Date.now();
      await fetch(`${t.url}/__simulator/stats`);
      expect(Date.now() - started).toBeLessThan(2_500);
    });
  });

  it('refuses invalid fault and limit options', async () => {
    const keys: TestKeys = testKeys;
    const start = (o: Partial<SimulatorOptions>) =>
      startSimulator({ applicationId: APP_ID, publicKey: keys.publicKey, ...o });
    await expect(start({ faults: { unavailable: 1.5 } })).rejects.toThrow(/unavailable/);
    await expect(start({ faults: { unavailable: 0.6, drop: 0.6 } })).rejects.toThrow(/add up/);
    await expect(start({ faults: { latencyMs: [50, 10] } })).rejects.toThrow(/latencyMs/);
    await expect(start({ rateLimit: 0 })).rejects.toThrow(/rateLimit/);
    await expect(start({ interval: -1 })).rejects.toThrow(/interval/);
    await expect(start({ applicationId: '' })).rejects.toThrow(/applicationId/);
    await expect(start({ publicKey: keys.privateKey })).rejects.toThrow(/public key/);
  });
});

describe('rate limit', () => {
  it('answers 429 TOO_MANY_REQUESTS beyond the limit within 1 s and lets requests through after', () =>
    withSim({ fakeClock: true, rateLimit: 3, faults: { unavailable: 0 } }, async (t) => {
      expect(await sequence(t.url, 5)).toEqual([401, 401, 401, 429, 429]);
      const limited = await post(`${t.url}${pathOf('sim-swap')}`, { json: {} });
      expectCamaraError(limited, 429, 'TOO_MANY_REQUESTS');
      expect(limited.headers.get('retry-after')).toBe('1');
      t.advance(999);
      expect(await hit(t.url)).toBe(429);
      t.advance(1);
      expect(await sequence(t.url, 4)).toEqual([401, 401, 401, 429]);
      const stats = t.sim.stats();
      expect(stats.violations['rate-limit-exceeded']).toBe(5);
      expect(stats.maxRequestsInAnyWindow1s).toBe(7); // 6 at t0 and the one at t0 + 999 ms
      expect(stats.total).toBe(11);
    }));

  it('counts a request when its headers arrive, not when its body has been read', () =>
    withSim({ fakeClock: true, rateLimit: 1, faults: { unavailable: 0 } }, async (t) => {
      const { port } = new URL(t.url);
      // A slow sender: headers at t0, the body 1.5 s later.
      const slow = request({ host: '127.0.0.1', port, path: '/oauth2/token', method: 'POST' });
      slow.setHeader('content-type', 'application/x-www-form-urlencoded');
      slow.flushHeaders();
      const answered = new Promise<number>((resolve, reject) => {
        slow.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        slow.on('error', reject);
      });
      await new Promise((resolve) => setTimeout(resolve, 100)); // the server has the headers
      t.advance(1500);
      slow.end('grant_type=x');
      expect(await answered).toBe(401); // received at t0: within the limit
      // At t0 + 1.5 s the window holds nothing received after t0 + 0.5 s: this one passes too
      // (counted at body-read time, the slow request would have filled the window).
      expect(await hit(t.url)).toBe(401);
      expect(await hit(t.url)).toBe(429);
    }));

  it('is attributed to the number in per-number stats', () =>
    withSim({ fakeClock: true, rateLimit: 1 }, async (t) => {
      const form = { login_hint: '+447700900801', scope: 'openid' };
      await t.bcAuthorize(form);
      const res = await t.bcAuthorize(form);
      expect(res.status).toBe(429);
      expect(t.sim.stats('+447700900801').violations['rate-limit-exceeded']).toBe(1);
    }));
});

describe('maxRequestsInAnyWindow1s', () => {
  it('is the most arrivals in any sliding 1-s span', () => {
    const w = new SlidingWindowMax();
    for (const at of [0, 400, 999, 1000, 1500, 1999, 2999, 3000]) w.add(at);
    // (0, 1000] holds 400, 999, 1000; (999, 1999] holds 1000, 1500, 1999: never more than 3.
    expect(w.max).toBe(3);
    const burst = new SlidingWindowMax();
    for (const at of [0, 0, 0, 0, 1000, 1000]) burst.add(at);
    expect(burst.max).toBe(4);
    const spread = new SlidingWindowMax();
    for (let i = 0; i < 5000; i++) spread.add(i * 250);
    expect(spread.max).toBe(4);
  });

  it('places a receipt time recorded late (its body came later) where it belongs', () => {
    const w = new SlidingWindowMax();
    // 0 arrives second; in time order the spans are {0}, {1000}, {1000, 1100}: never 3.
    for (const at of [1000, 0, 1100]) w.add(at);
    expect(w.max).toBe(2);
  });

  it('counts a real burst', () =>
    withSim({}, async (t) => {
      await Promise.all(Array.from({ length: 20 }, () => hit(t.url)));
      expect(t.sim.stats().maxRequestsInAnyWindow1s).toBe(20);
    }));
});
