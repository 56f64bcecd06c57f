/** The JSON-lines request log: one line per Vonage request, numbers masked, no credentials. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskMsisdn } from '../../domain/msisdn.js';
import { camaraBody, TestSim } from './helpers.js';

const MSISDN = '+447700900901';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'netcheck-log-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('request log', () => {
  it('writes one masked line per request and never a JWT or access token', async () => {
    const logPath = path.join(dir, 'requests.jsonl');
    const t = await TestSim.start({
      requestLog: logPath,
      scenarios: {
        numbers: {
          [MSISDN]: { connectivity: 'CONNECTED_SMS', faults: [{ endpoint: 'camara', status: 503 }] },
        },
      },
    });
    const jwt = await t.jwt();
    const id = await t.authorize(MSISDN, 'device-connectivity');
    const poll = await t.poll(id, {}, jwt);
    const accessToken = poll.json.access_token as string;
    const body = camaraBody('device-connectivity', MSISDN);
    expect((await t.camara('device-connectivity', body, accessToken)).status).toBe(503);
    const ok = await t.camara('device-connectivity', body, accessToken, {
      headers: { 'x-correlator': 'corr-1' },
    });
    expect(ok.status).toBe(200);
    await fetch(`${t.url}/__simulator/stats?msisdn=${encodeURIComponent(MSISDN)}`);
    await t.close();

    const text = await readFile(logPath, 'utf8');
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.method, l.path, l.endpoint, l.status])).toEqual([
      ['POST', '/oauth2/bc-authorize', 'bc-authorize', 200],
      ['POST', '/oauth2/token', 'token', 200],
      ['POST', '/camara/device-status/v050/connectivity', 'device-connectivity', 503],
      ['POST', '/camara/device-status/v050/connectivity', 'device-connectivity', 200],
    ]);
    for (const line of lines) {
      expect(line.msisdn).toBe(maskMsisdn(MSISDN));
      expect(Date.parse(line.time as string)).not.toBeNaN();
      expect(line.latencyMs).toEqual(expect.any(Number));
    }
    expect(lines[2]?.fault).toBe('scripted');
    expect(lines[3]?.xCorrelator).toBe('corr-1');
    expect(text).not.toContain(MSISDN);
    expect(text).not.toContain(MSISDN.slice(1));
    expect(text).not.toContain(jwt);
    expect(text).not.toContain(jwt.split('.')[2]);
    expect(text).not.toContain(accessToken);
    expect(text).not.toContain(id);
    expect(text).not.toMatch(/eyJ/); // no JWT fragment of any kind
  });

  it('records drops and appends to an existing file', async () => {
    const logPath = path.join(dir, 'drops.jsonl');
    for (let run = 0; run < 2; run++) {
      const t = await TestSim.start({ requestLog: logPath, faults: { drop: 1 } });
      await expect(t.bcAuthorize({ login_hint: MSISDN, scope: 'openid' })).rejects.toThrow();
      await t.close();
    }
    const lines = (await readFile(logPath, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.status === 'drop' && l.fault === 'drop')).toBe(true);
  });
});
