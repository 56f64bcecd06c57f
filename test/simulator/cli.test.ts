/** runSimulatorCli: argument parsing, generated or given keys, and a working simulator. */
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulatorCli } from '../../simulator/cli.js';
import type { Simulator } from '../../simulator/index.js';
import { makeKeys, mintJwt, post, scopeFor } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'netcheck-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ sim: Simulator | undefined; out: string[] }> {
  const out: string[] = [];
  const sim = await runSimulatorCli(argv, { log: (l) => out.push(l), handleSignals: false });
  return { sim, out };
}

function bcAuthorize(url: string, jwt: string) {
  return post(`${url}/oauth2/bc-authorize`, {
    form: { login_hint: '+990123400', scope: scopeFor('device-roaming') },
    headers: { authorization: `Bearer ${jwt}` },
  });
}

describe('runSimulatorCli', () => {
  it('generates a 0600 private key and an app id under the state dir, and reuses them', async () => {
    const stateDir = path.join(dir, 'state');
    const first = await run([
      '--port',
      '0',
      '--state-dir',
      stateDir,
      '--interval',
      '0.5',
      '--expires-in',
      '30',
    ]);
    const sim = first.sim!;
    try {
      const banner = first.out.join('\n');
      expect(banner).toContain(`listening on ${sim.url}`);
      const appId = /VONAGE_APPLICATION_ID=(\S+)/.exec(banner)?.[1];
      const keyPath = /private key.*: (\S+)$/m.exec(banner)?.[1];
      expect(appId).toMatch(/^[0-9a-f-]{36}$/);
      expect(keyPath).toBe(path.resolve(stateDir, 'simulator-private-key.pem'));
      expect((await stat(keyPath!)).mode & 0o777).toBe(0o600);
      const privateKey = createPrivateKey(await readFile(keyPath!, 'utf8'));
      const res = await bcAuthorize(
        sim.url,
        await mintJwt(privateKey, Date.now(), { applicationId: appId! }),
      );
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ expires_in: 30, interval: 0.5 });
      expect(banner).not.toContain('PRIVATE KEY');

      const second = await run(['--port', '0', '--state-dir', stateDir]);
      try {
        expect(second.out.join('\n')).toContain(`VONAGE_APPLICATION_ID=${appId!}`);
        const again = await bcAuthorize(
          second.sim!.url,
          await mintJwt(privateKey, Date.now(), { applicationId: appId! }),
        );
        expect(again.status).toBe(200);
      } finally {
        await second.sim!.close();
      }
    } finally {
      await sim.close();
    }
  });

  it('uses a given public key and app id, with the answer and fault options', async () => {
    const keys = makeKeys();
    const pubPath = path.join(dir, 'pub.pem');
    await writeFile(pubPath, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const scenarios = path.join(dir, 'scenarios.json');
    await writeFile(
      scenarios,
      JSON.stringify({ numbers: { '+447700900001': { connectivity: 'CONNECTED_SMS' } } }),
    );
    const logPath = path.join(dir, 'cli.jsonl');
    // prettier-ignore
    const argv = [
      '--port', '0', '--app-id', 'app-1', '--public-key-file', pubPath, '--numeric-strings', '--omit-interval',
      '--scenarios', scenarios, '--pending-polls', '1', '--token-expires-in', '60', '--seed', '5',
      '--latency-ms', '1-3', '--unavailable', '0', '--too-many-requests', '0', '--retry-after', '2',
      '--timeout', '0', '--drop', '0', '--rate-limit', '100', '--request-log', logPath,
    ];
    const { sim, out } = await run(argv);
    try {
      expect(out.join('\n')).not.toContain('private key');
      const res = await bcAuthorize(
        sim!.url,
        await mintJwt(keys.privateKey, Date.now(), { applicationId: 'app-1' }),
      );
      expect(res.json).toEqual({ auth_req_id: expect.any(String) as unknown, expires_in: '120' });
    } finally {
      await sim!.close();
    }
    expect(await readFile(logPath, 'utf8')).toContain('"endpoint":"bc-authorize"');
  });

  it('--no-network-application: every bc-authorize answers 400 with the app id', async () => {
    const keys = makeKeys();
    const pubPath = path.join(dir, 'pub-nna.pem');
    await writeFile(pubPath, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const { sim } = await run([
      '--port',
      '0',
      '--app-id',
      'app-2',
      '--public-key-file',
      pubPath,
      '--no-network-application',
    ]);
    try {
      const res = await bcAuthorize(
        sim!.url,
        await mintJwt(keys.privateKey, Date.now(), { applicationId: 'app-2' }),
      );
      expect(res.status).toBe(400);
      expect(res.json.detail).toBe('No Network Application associated with Vonage Application: app-2');
    } finally {
      await sim!.close();
    }
  });

  it('prints usage for --help', async () => {
    const { sim, out } = await run(['--help']);
    expect(sim).toBeUndefined();
    expect(out.join('\n')).toMatch(/--public-key-file/);
  });

  it.each([
    [['--bogus'], /Unknown option/],
    [['--interval', 'soon'], /--interval must be a number/],
    [['--latency-ms', '10-'], /--latency-ms must be a number/],
    [['--public-key-file', 'pub.pem'], /--app-id is required/],
    [['--scenarios', '/nonexistent/scenarios.json'], /ENOENT/],
  ])('refuses %j before writing anything', async (argv, message) => {
    await expect(run([...argv, '--state-dir', path.join(dir, 'untouched')])).rejects.toThrow(message);
    await expect(stat(path.join(dir, 'untouched'))).rejects.toThrow(/ENOENT/);
  });
});
