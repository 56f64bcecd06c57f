/**
 * Configuration hardening: plain http:// to Vonage only on loopback or by explicit opt-in (with
 * a warning), the key ring validated with the rest of the worker configuration, and a worker
 * without keys saying — once — that numbers are stored in the clear.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { createVonageClient } from '../../activities/index.js';
import { isLoopbackHost } from '../../common/net.js';
import { startCheck } from '../../client/index.js';
import { bundleEncodesFailures, dataConverterFromEnv, newKeyEntry } from '../../codec/index.js';
import { buildWorkflowBundle, SOURCE_WORKFLOWS_PATH } from '../../scripts/build-bundle.js';
import { ConfigurationError as ConfigError } from '../../domain/errors.js';
import { loadConfig } from '../../worker/config.js';
import { eventually, Running, spawnCli } from '../cli/support.js';
import { makeKeys } from '../support/keys.js';

const { privateKey, privateKeyPem: pem } = makeKeys();
const base = { VONAGE_APPLICATION_ID: randomUUID(), VONAGE_PRIVATE_KEY: pem };

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('the Vonage base URL transport', () => {
  afterEach(() => {
    delete process.env.NETCHECK_ALLOW_INSECURE_HTTP;
    vi.restoreAllMocks();
  });

  it('refuses plain http:// to another host, naming the opt-in', () => {
    const found = problems({ ...base, VONAGE_API_BASE_URL: 'http://api.vonage.example' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/plain http:\/\/ to another host.*unencrypted.*NETCHECK_ALLOW_INSECURE_HTTP=1/);
    // A subdomain of localhost may resolve through DNS to anyone: not loopback.
    expect(problems({ ...base, VONAGE_API_BASE_URL: 'http://vonage.localhost:9090' })).toHaveLength(1);
    expect(() =>
      createVonageClient({ applicationId: 'app', privateKey, baseUrl: 'http://10.1.2.3:9090' }),
    ).toThrow(/NETCHECK_ALLOW_INSECURE_HTTP/);
  });

  it('accepts https, and http on loopback (the simulator)', () => {
    for (const url of [
      'https://api-eu.vonage.com',
      'http://127.0.0.1:9090',
      'http://localhost:1',
      'http://[::1]:9',
    ]) {
      expect(problems({ ...base, VONAGE_API_BASE_URL: url }), url).toEqual([]);
    }
    expect(isLoopbackHost('127.9.9.9')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.example.com')).toBe(false);
    expect(isLoopbackHost('[::1]')).toBe(true);
  });

  it('with NETCHECK_ALLOW_INSECURE_HTTP=1 accepts it, and warns once per origin', async () => {
    expect(
      problems({ ...base, VONAGE_API_BASE_URL: 'http://sim.test:9090', NETCHECK_ALLOW_INSECURE_HTTP: '1' }),
    ).toEqual([]);
    process.env.NETCHECK_ALLOW_INSECURE_HTTP = '1';
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const a = createVonageClient({ applicationId: 'app', privateKey, baseUrl: 'http://sim.test:9090' });
    const b = createVonageClient({ applicationId: 'app', privateKey, baseUrl: 'http://sim.test:9090/' });
    await Promise.all([a.close(), b.close()]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /credentials and phone numbers go to http:\/\/sim\.test:9090 unencrypted/,
    );
  });
});

describe('the key ring in the worker configuration', () => {
  it('is read with the rest, and a bad one is listed with every other problem', () => {
    const config = loadConfig({
      ...base,
      NETCHECK_ENCRYPTION_KEYS: `${newKeyEntry('b')},${newKeyEntry('a')}`,
    });
    expect(config.encryption?.primary).toBe('b');
    expect(loadConfig(base).encryption).toBeUndefined();
    const found = problems({
      VONAGE_PRIVATE_KEY: pem,
      NETCHECK_ENCRYPTION_KEYS: 'k1:c2hvcnQ=',
      VONAGE_API_BASE_URL: 'http://vonage.example',
    });
    expect(found.join('\n')).toMatch(/VONAGE_APPLICATION_ID is not set/);
    expect(found.join('\n')).toMatch(/key "k1"\): the key is 5 bytes/);
    expect(found.join('\n')).toMatch(/openssl rand -base64 32/);
  });
});

describe('a worker without encryption keys', () => {
  it('warns once that numbers are stored in the clear, and names what is missing when it meets an encrypted payload', async () => {
    const taskQueue = `cleartext-${randomUUID()}`;
    const worker = new Running(
      spawnCli(['worker'], {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        VONAGE_APPLICATION_ID: inject('applicationId'),
        VONAGE_PRIVATE_KEY: inject('privateKeyPem'),
        VONAGE_API_BASE_URL: inject('simulatorUrl'),
        NETCHECK_TASK_QUEUE: taskQueue,
      }),
    );
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      await worker.waitFor(/polling task queue/, 150_000);
      // A client with keys starts a check on this keyless worker: its workflow task fails, saying why.
      const client = new Client({
        connection,
        dataConverter: dataConverterFromEnv({ NETCHECK_ENCRYPTION_KEYS: newKeyEntry('client-only') }),
      });
      const handle = await startCheck(
        client,
        { msisdn: '+447700900777', operation: 'sim-swap' },
        { taskQueue, subjectKey: 'hardening-test-subject-key-of-32-bytes' },
      );
      try {
        const message = await eventually(async () => {
          const { events } = await handle.fetchHistory();
          return events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes
            ?.failure?.message;
        }, 120_000);
        expect(message).toMatch(/encrypted \(key "client-only"\), but this process has no key ring/);
      } finally {
        await handle.terminate('test over');
      }
    } finally {
      await worker.stop('SIGINT');
      await connection.close();
    }
    const warnings = (worker.stderr + worker.stdout).match(/stored in the clear/g) ?? [];
    expect(warnings).toHaveLength(1);
    expect(worker.stderr).toMatch(
      /no NETCHECK_ENCRYPTION_KEYS: phone numbers and results are stored in the clear/,
    );
  }, 240_000);
});

describe('prebuilt workflow bundles and encryption', () => {
  it('a bundle built with --encrypt-failures carries the encrypting failure converter; a plain one does not', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'netcheck-bundle-')), 'workflow-bundle.js');
    await buildWorkflowBundle({ workflowsPath: SOURCE_WORKFLOWS_PATH, out, encryptFailures: true });
    expect(bundleEncodesFailures(out)).toBe(true);
    // The test run's shared bundle is built without it (an encrypted worker bundles at start instead).
    expect(bundleEncodesFailures(inject('workflowBundlePath'))).toBe(false);
  }, 180_000);
});
