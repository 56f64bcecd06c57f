/**
 * Settings that the client, the worker and the CLI read alike: the default task queue and
 * Vonage origin, and the Vonage private key from the environment.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigurationError } from '../domain/errors.js';
import { rawSetting, type Env } from './settings.js';

// The registry (common/settings.ts) owns the defaults; re-exported here where they always were.
export { DEFAULT_API_BASE_URL, DEFAULT_TASK_QUEUE } from './settings.js';

/** Parses a PEM RSA private key; PEM text from an env var may carry literal `\n`. */
export function parsePrivateKey(pem: string, source: string): KeyObject {
  const text = pem.includes('\\n') && !pem.includes('\n') ? pem.replace(/\\n/g, '\n') : pem;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new ConfigurationError([
      `${source} is not a PEM private key (expected the private.key file Vonage gave you).`,
    ]);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ConfigurationError([
      `${source} is a ${key.asymmetricKeyType} key; Vonage applications use RSA keys (RS256).`,
    ]);
  }
  return key;
}

/**
 * Reads VONAGE_PRIVATE_KEY (PEM text) or VONAGE_PRIVATE_KEY_PATH (a file). Adds what is wrong to
 * `problems` (so a caller can report it with its other problems) and returns undefined then.
 */
export function readPrivateKey(env: Env, problems: string[]): KeyObject | undefined {
  const inline = rawSetting('VONAGE_PRIVATE_KEY', env);
  const file = rawSetting('VONAGE_PRIVATE_KEY_PATH', env);
  if (inline && file) {
    problems.push('Set only one of VONAGE_PRIVATE_KEY (PEM text) and VONAGE_PRIVATE_KEY_PATH (a file).');
    return undefined;
  }
  let pem: string;
  let source: string;
  if (inline) {
    pem = inline;
    source = 'VONAGE_PRIVATE_KEY';
  } else if (file) {
    source = `VONAGE_PRIVATE_KEY_PATH (${file})`;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`${source} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`);
      return undefined;
    }
  } else {
    problems.push(
      'No private key: set VONAGE_PRIVATE_KEY_PATH to the private.key file of your Vonage application (or VONAGE_PRIVATE_KEY to its PEM text).',
    );
    return undefined;
  }
  try {
    return parsePrivateKey(pem, source);
  } catch (err) {
    if (err instanceof ConfigurationError) problems.push(...err.problems);
    else throw err;
    return undefined;
  }
}

/** The Vonage private key from VONAGE_PRIVATE_KEY(_PATH), or undefined when neither is set. */
export function loadPrivateKeyFromEnv(env: NodeJS.ProcessEnv = process.env): KeyObject | undefined {
  if (!rawSetting('VONAGE_PRIVATE_KEY', env) && !rawSetting('VONAGE_PRIVATE_KEY_PATH', env)) return undefined;
  const problems: string[] = [];
  const key = readPrivateKey(env, problems);
  if (!key) throw new ConfigurationError(problems);
  return key;
}
