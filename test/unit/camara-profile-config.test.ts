/** The `camara` profile's configuration: the worker's variables, the transport policy and the profile's task queue. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTaskQueue } from '../../common/settings.js';
import { ConfigurationError } from '../../domain/errors.js';
import { loadConfig } from '../../worker/config.js';
import { makeKeys } from '../support/keys.js';

const { privateKeyPem } = makeKeys();
const dir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-camara-'));
const keyFile = path.join(dir, 'assertion.key');
writeFileSync(keyFile, privateKeyPem, { mode: 0o600 });

const CAMARA_ENV = {
  NETCHECK_PROFILE: 'camara',
  NETCHECK_OIDC_ISSUER: 'https://auth.operator.example/',
  NETCHECK_CLIENT_ID: 'netcheck-backend',
  NETCHECK_API_ROOT: 'https://api.operator.example/camara',
  NETCHECK_PRIVATE_KEY_FILE: keyFile,
  NETCHECK_KEY_ID: 'key-2026',
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigurationError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigurationError');
}

describe('NETCHECK_PROFILE=camara', () => {
  it('reads the profile variables; the worker polls netcheck-camara unless told otherwise', () => {
    const config = loadConfig(CAMARA_ENV);
    expect(config).toMatchObject({
      profile: 'camara',
      applicationId: 'netcheck-backend',
      baseUrl: 'https://api.operator.example/camara',
      camara: { issuer: 'https://auth.operator.example', keyId: 'key-2026' },
      taskQueue: 'netcheck-camara',
    });
    expect(loadConfig({ ...CAMARA_ENV, NETCHECK_TASK_QUEUE: 'mine' }).taskQueue).toBe('mine');
  });

  it('the key falls back to the Vonage key variables', () => {
    const { NETCHECK_PRIVATE_KEY_FILE: _, ...rest } = CAMARA_ENV;
    expect(loadConfig({ ...rest, VONAGE_PRIVATE_KEY_PATH: keyFile }).privateKey.type).toBe('private');
  });

  it('names every missing variable at once, and needs no Vonage application id', () => {
    const problems = problemsOf({ NETCHECK_PROFILE: 'camara', NETCHECK_PRIVATE_KEY_PATH: keyFile });
    for (const name of [
      'NETCHECK_OIDC_ISSUER',
      'NETCHECK_CLIENT_ID',
      'NETCHECK_API_ROOT',
      'NETCHECK_KEY_ID',
    ]) {
      expect(problems.join('\n')).toContain(name);
    }
    expect(problems.join('\n')).not.toContain('VONAGE_APPLICATION_ID');
  });

  it('keeps the transport policy: https, or plain http only to loopback', () => {
    const problems = problemsOf({ ...CAMARA_ENV, NETCHECK_OIDC_ISSUER: 'http://auth.operator.example' });
    expect(problems.join('\n')).toMatch(/NETCHECK_OIDC_ISSUER .*plain http/);
    expect(loadConfig({ ...CAMARA_ENV, NETCHECK_API_ROOT: 'http://127.0.0.1:9000' }).baseUrl).toBe(
      'http://127.0.0.1:9000',
    );
  });

  it('refuses both key file variables, and an unknown profile', () => {
    expect(problemsOf({ ...CAMARA_ENV, NETCHECK_PRIVATE_KEY_PATH: keyFile }).join('\n')).toMatch(/only one/);
    expect(problemsOf({ NETCHECK_PROFILE: 'orange' }).join('\n')).toMatch(
      /NETCHECK_PROFILE must be one of vonage, camara/,
    );
  });

  it("clients find the profile's task queue from --profile or NETCHECK_PROFILE", () => {
    expect(resolveTaskQueue(undefined, {}, 'camara')).toBe('netcheck-camara');
    expect(resolveTaskQueue(undefined, { NETCHECK_PROFILE: 'camara' })).toBe('netcheck-camara');
    expect(resolveTaskQueue(undefined, {})).toBe('netcheck');
    expect(resolveTaskQueue(undefined, { NETCHECK_TASK_QUEUE: 'q' }, 'camara')).toBe('q');
    expect(resolveTaskQueue('flag', { NETCHECK_TASK_QUEUE: 'q' }, 'camara')).toBe('flag');
  });
});
