/** Worker configuration: one validation step, every problem named, a bad key fails at start. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig } from '../worker/config.js';
import { makeKeys, makeEcKey } from './support/keys.js';

const rsa = makeKeys().privateKeyPem;
const ec = makeEcKey().export({ type: 'pkcs8', format: 'pem' }).toString();
const appId = '9f6a4a1e-0000-4000-8000-000000000001';

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    return (err as ConfigurationError).problems;
  }
  throw new Error('expected a ConfigurationError');
}

describe('loadConfig', () => {
  it('reads a complete configuration with defaults', () => {
    const config = loadConfig({ VONAGE_APPLICATION_ID: appId, VONAGE_PRIVATE_KEY: rsa });
    expect(config).toMatchObject({
      applicationId: appId,
      baseUrl: 'https://api-eu.vonage.com',
      taskQueue: 'netcheck',
    });
    expect(config.privateKey.asymmetricKeyType).toBe('rsa');
    expect(config.rateLimit).toBeUndefined();
  });

  it('reads the key from a file, a base URL without trailing slash, a queue and a rate', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-config-'));
    const keyPath = path.join(dir, 'private.key');
    writeFileSync(keyPath, rsa, { mode: 0o600 });
    const config = loadConfig({
      VONAGE_APPLICATION_ID: appId,
      VONAGE_PRIVATE_KEY_PATH: keyPath,
      VONAGE_API_BASE_URL: 'http://127.0.0.1:9090/',
      NETCHECK_TASK_QUEUE: 'fraud',
      NETCHECK_RATE_LIMIT: '25',
    });
    expect(config).toMatchObject({ baseUrl: 'http://127.0.0.1:9090', taskQueue: 'fraud', rateLimit: 25 });
  });

  it('accepts PEM text with literal \\n (as env files often carry it)', () => {
    const config = loadConfig({
      VONAGE_APPLICATION_ID: appId,
      VONAGE_PRIVATE_KEY: rsa.replace(/\n/g, '\\n'),
    });
    expect(config.privateKey.asymmetricKeyType).toBe('rsa');
  });

  it('names every problem at once', () => {
    const problems = problemsOf({ VONAGE_API_BASE_URL: 'ftp://example', NETCHECK_RATE_LIMIT: '-3' });
    expect(problems.join('\n')).toMatch(/VONAGE_APPLICATION_ID is not set/);
    expect(problems.join('\n')).toMatch(/No private key: set VONAGE_PRIVATE_KEY_PATH/);
    expect(problems.join('\n')).toMatch(/VONAGE_API_BASE_URL must be an http\(s\) URL/);
    expect(problems.join('\n')).toMatch(/NETCHECK_RATE_LIMIT/);
  });

  it.each([
    ['not a key', { VONAGE_PRIVATE_KEY: 'hello' }, /not a PEM private key/],
    ['an EC key', { VONAGE_PRIVATE_KEY: ec }, /ec key; Vonage applications use RSA/],
    ['a missing file', { VONAGE_PRIVATE_KEY_PATH: '/nonexistent/private.key' }, /cannot be read: ENOENT/],
    ['both forms', { VONAGE_PRIVATE_KEY: rsa, VONAGE_PRIVATE_KEY_PATH: '/x' }, /only one of/],
  ])('rejects %s', (_name, keyEnv, message) => {
    const problems = problemsOf({ VONAGE_APPLICATION_ID: appId, ...keyEnv });
    expect(problems.join('\n')).toMatch(message);
    // The message never quotes the key itself.
    expect(problems.join('\n')).not.toContain('MII');
  });
});
