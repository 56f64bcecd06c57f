/**
 * Where netcheck connects to Temporal comes from @temporalio/envconfig everywhere: TEMPORAL_*
 * variables and the profiles of a TOML file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), for the
 * library (temporalConnectConfig), the worker and every CLI command. The CLI runs as a
 * subprocess with nothing but a config file pointing it at the run's dev server.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { temporalConnectConfig } from '../../common/index.js';
import { addScenarios, uniqueNumber } from '../support/harness.js';
import { Running, runCli, sharedStackEnv, spawnCli } from '../cli/support.js';
import { makeEcKey } from '../support/keys.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'netcheck-envconfig-'));
const DEAD = '127.0.0.1:1';

/** A config file whose default profile points nowhere and whose `team` profile is the run's server. */
function configFile(): string {
  const file = path.join(tmp, `temporal-${randomUUID()}.toml`);
  writeFileSync(
    file,
    [
      '[profile.default]',
      `address = "${DEAD}"`,
      'namespace = "default"',
      '',
      '[profile.team]',
      `address = "${inject('temporalAddress')}"`,
      'namespace = "default"',
      '',
    ].join('\n'),
  );
  return file;
}

/** The shared stack's Vonage and netcheck settings, with the Temporal ones left to the profile. */
function envWithout(taskQueue: string, temporal: Record<string, string>): Record<string, string> {
  const env = sharedStackEnv(taskQueue);
  delete env.TEMPORAL_ADDRESS;
  delete env.TEMPORAL_NAMESPACE;
  return { ...env, ...temporal };
}

describe('the CLI follows the Temporal profile', () => {
  it('TEMPORAL_PROFILE picks the profile; without it the default profile is used', async () => {
    const file = configFile();
    const viaProfile = await runCli(['setup'], {
      env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'team' },
    });
    expect(viaProfile.stderr).toBe('');
    expect(viaProfile.code).toBe(0);
    expect(viaProfile.stdout).toContain(`namespace "default" at ${inject('temporalAddress')}`);

    const viaDefault = await runCli(['find', '+99012345601'], {
      env: {
        TEMPORAL_CONFIG_FILE: file,
        NETCHECK_SUBJECT_KEY: 'envconfig-test-subject-key-of-32-bytes-or-more',
      },
    });
    expect(viaDefault.code).toBe(1);
    expect(viaDefault.stderr).toContain(`Cannot reach Temporal at ${DEAD}`);
  });

  it('TEMPORAL_ADDRESS overrides the profile', async () => {
    const found = await runCli(['find', '+99012345601', '--json'], {
      env: {
        TEMPORAL_CONFIG_FILE: configFile(),
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        NETCHECK_SUBJECT_KEY: 'envconfig-test-subject-key-of-32-bytes-or-more',
      },
    });
    expect(found.stderr).toBe('');
    expect(found.code).toBe(0);
  });

  it(
    'a worker and a check started from a profile meet on the same server',
    { timeout: 120_000 },
    async () => {
      const taskQueue = `envconfig-${randomUUID()}`;
      const env = envWithout(taskQueue, { TEMPORAL_CONFIG_FILE: configFile(), TEMPORAL_PROFILE: 'team' });
      const msisdn = uniqueNumber();
      await addScenarios(inject('simulatorUrl'), {
        numbers: { [msisdn]: { interval: 0.2, connectivity: 'CONNECTED_SMS' } },
      });
      const worker = new Running(spawnCli(['worker'], env));
      try {
        await worker.waitFor(/netcheck worker polling task queue/);
        const check = await runCli(['check', msisdn, '--op', 'device-connectivity', '--json'], { env });
        expect(check.code).toBe(0);
        expect(JSON.parse(check.stdout)).toMatchObject({
          status: 'ok',
          data: { connectivityStatus: 'CONNECTED_SMS' },
        });
      } finally {
        expect(await worker.stop('SIGTERM')).toBe(0);
      }
    },
  );
});

describe('temporalConnectConfig (client API and worker)', () => {
  it('an API key turns TLS on, as Temporal Cloud needs', () => {
    const { connectionOptions, namespace } = temporalConnectConfig({
      disableFile: true,
      overrideEnvVars: {
        TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
        TEMPORAL_NAMESPACE: 'fraud.a1b2c',
        TEMPORAL_API_KEY: 'test-api-key',
      },
    });
    expect(namespace).toBe('fraud.a1b2c');
    expect(connectionOptions.address).toBe('eu-west-1.aws.api.temporal.io:7233');
    expect(connectionOptions.apiKey).toBe('test-api-key');
    expect(connectionOptions.tls).toBeTruthy();
  });

  it('mTLS: the client certificate and key files become the TLS client pair', () => {
    const privateKey = makeEcKey();
    const keyFile = path.join(tmp, 'client.key');
    const certFile = path.join(tmp, 'client.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(certFile, '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n');
    const { connectionOptions, namespace } = temporalConnectConfig({
      disableFile: true,
      overrideEnvVars: {
        TEMPORAL_ADDRESS: 'fraud.a1b2c.tmprl.cloud:7233',
        TEMPORAL_NAMESPACE: 'fraud.a1b2c',
        TEMPORAL_TLS_CLIENT_CERT_PATH: certFile,
        TEMPORAL_TLS_CLIENT_KEY_PATH: keyFile,
      },
    });
    expect(namespace).toBe('fraud.a1b2c');
    const tls = connectionOptions.tls as { clientCertPair?: { crt: Uint8Array; key: Uint8Array } };
    const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
    expect(text(tls.clientCertPair?.crt)).toContain('BEGIN CERTIFICATE');
    expect(text(tls.clientCertPair?.key)).toMatch(/-----BEGIN [A-Z ]*KEY-----/);
  });

  it('with nothing set: localhost and the default namespace', () => {
    const { connectionOptions, namespace } = temporalConnectConfig({
      disableFile: true,
      overrideEnvVars: {},
    });
    expect(namespace).toBe('default');
    expect(connectionOptions.address ?? 'localhost:7233').toMatch(/^localhost:7233$/);
  });
});
