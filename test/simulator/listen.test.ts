/**
 * Listening beyond loopback: the simulator's admin endpoints have no authentication, so
 * startSimulator and its CLI say so, once, whenever the address is not a loopback one.
 */
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulatorCli } from '../../simulator/cli.js';
import { isLoopbackHost, startSimulator } from '../../simulator/index.js';
import { APP_ID, makeKeys, type TestKeys } from './helpers.js';

let keys: TestKeys;
let dir: string;
beforeAll(async () => {
  keys = makeKeys();
  dir = await mkdtemp(path.join(tmpdir(), 'netcheck-listen-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('isLoopbackHost', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    'localhost',
    'LOCALHOST',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
    '[::ffff:7f00:1]',
  ])('%s is loopback', (host) => expect(isLoopbackHost(host)).toBe(true));

  it.each([
    '0.0.0.0',
    '::',
    '192.168.1.10',
    '10.0.0.1',
    '128.0.0.1',
    'example.com',
    '::ffff:10.0.0.1',
    '::2',
    'foo.localhost',
    '[::ffff:a00:1]',
  ])('%s is not', (host) => expect(isLoopbackHost(host)).toBe(false));
});

describe('startSimulator', () => {
  async function warningsFor(host: string): Promise<string[]> {
    const warnings: string[] = [];
    const sim = await startSimulator({
      applicationId: APP_ID,
      publicKey: keys.publicKey,
      host,
      port: 0,
      onWarning: (m) => warnings.push(m),
    });
    try {
      // Still answers normally.
      expect((await fetch(`${sim.url}/__simulator/health`)).status).toBe(200);
    } finally {
      await sim.close();
    }
    return warnings;
  }

  it('warns once when bound to every interface, naming the unauthenticated admin endpoints', async () => {
    const warnings = await warningsFor('0.0.0.0');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/0\.0\.0\.0/);
    expect(warnings[0]).toMatch(/\/__simulator\/scenarios/);
    expect(warnings[0]).toMatch(/no authentication/);
  });

  it('says nothing on loopback', async () => {
    expect(await warningsFor('127.0.0.1')).toEqual([]);
    expect(await warningsFor('localhost')).toEqual([]);
  });
});

describe('the CLI', () => {
  async function run(host: string) {
    const pubPath = path.join(dir, 'pub.pem');
    await writeFile(pubPath, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const out: string[] = [];
    const warnings: string[] = [];
    const sim = await runSimulatorCli(
      ['--host', host, '--port', '0', '--app-id', APP_ID, '--public-key-file', pubPath],
      { log: (l) => out.push(l), warn: (l) => warnings.push(l), handleSignals: false },
    );
    await sim?.close();
    return { out, warnings };
  }

  it('prints the warning once, apart from the banner, beyond loopback', async () => {
    const { out, warnings } = await run('0.0.0.0');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/beyond loopback/);
    expect(out.join('\n')).not.toMatch(/beyond loopback/);
    expect(out.join('\n')).toMatch(/listening on/);
  });

  it('prints none on loopback', async () => {
    expect((await run('127.0.0.1')).warnings).toEqual([]);
  });
});
