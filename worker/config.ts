/**
 * Worker configuration from the environment, validated in one step so a bad or missing key
 * fails at start with every problem listed, not at the first check.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { insecureBaseUrlProblem } from '../activities/base-url.js';
import { loadKeyRing, type KeyRing } from '../codec/keyring.js';

export const DEFAULT_API_BASE_URL = 'https://api-eu.vonage.com';
export const DEFAULT_TASK_QUEUE = 'netcheck';

export interface VonageConfig {
  applicationId: string;
  /** RSA private key of the Vonage application. */
  privateKey: KeyObject;
  /** Origin of the Vonage APIs, e.g. https://api-eu.vonage.com (no trailing slash). */
  baseUrl: string;
}

export interface NetcheckConfig extends VonageConfig {
  taskQueue: string;
  /** NETCHECK_RATE_LIMIT: requests per second to Vonage across all workers of the task queue. */
  rateLimit?: number;
  /** NETCHECK_ENCRYPTION_KEYS(_FILE): the payload encryption key ring; unset = payloads in the clear. */
  encryption?: KeyRing;
}

/** A configuration problem: the process should print `message` and exit with code 2. */
export class ConfigError extends Error {
  readonly code = 'CONFIGURATION';
  constructor(readonly problems: string[]) {
    super(`netcheck is not configured correctly:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const envSchema = z.object({
  VONAGE_APPLICATION_ID: z
    .string({ error: 'VONAGE_APPLICATION_ID is not set: use your Vonage application id (a UUID).' })
    .trim()
    .min(1, 'VONAGE_APPLICATION_ID is empty: use your Vonage application id (a UUID).'),
  VONAGE_PRIVATE_KEY: z.string().optional(),
  VONAGE_PRIVATE_KEY_PATH: z.string().optional(),
  VONAGE_API_BASE_URL: z
    .url({
      protocol: /^https?$/,
      error: 'VONAGE_API_BASE_URL must be an http(s) URL such as https://api-eu.vonage.com.',
    })
    .optional(),
  NETCHECK_TASK_QUEUE: z
    .string()
    .trim()
    .min(1, 'NETCHECK_TASK_QUEUE is empty: unset it or name a task queue.')
    .optional(),
  NETCHECK_RATE_LIMIT: z.coerce
    .number({ error: 'NETCHECK_RATE_LIMIT must be a number of requests per second, e.g. 50.' })
    .positive('NETCHECK_RATE_LIMIT must be more than 0 requests per second.')
    .optional(),
});

/** Parses a PEM RSA private key; PEM text from an env var may carry literal `\n`. */
export function parsePrivateKey(pem: string, source: string): KeyObject {
  const text = pem.includes('\\n') && !pem.includes('\n') ? pem.replace(/\\n/g, '\n') : pem;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new ConfigError([
      `${source} is not a PEM private key (expected the private.key file Vonage gave you).`,
    ]);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ConfigError([
      `${source} is a ${key.asymmetricKeyType} key; Vonage applications use RSA keys (RS256).`,
    ]);
  }
  return key;
}

function loadPrivateKey(
  env: { VONAGE_PRIVATE_KEY?: string; VONAGE_PRIVATE_KEY_PATH?: string },
  problems: string[],
): KeyObject | undefined {
  if (env.VONAGE_PRIVATE_KEY && env.VONAGE_PRIVATE_KEY_PATH) {
    problems.push('Set only one of VONAGE_PRIVATE_KEY (PEM text) and VONAGE_PRIVATE_KEY_PATH (a file).');
    return undefined;
  }
  let pem: string;
  let source: string;
  if (env.VONAGE_PRIVATE_KEY) {
    pem = env.VONAGE_PRIVATE_KEY;
    source = 'VONAGE_PRIVATE_KEY';
  } else if (env.VONAGE_PRIVATE_KEY_PATH) {
    source = `VONAGE_PRIVATE_KEY_PATH (${env.VONAGE_PRIVATE_KEY_PATH})`;
    try {
      pem = readFileSync(env.VONAGE_PRIVATE_KEY_PATH, 'utf8');
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
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
    return undefined;
  }
}

/** The Vonage private key from VONAGE_PRIVATE_KEY(_PATH), or undefined when neither is set. */
export function loadPrivateKeyFromEnv(env: NodeJS.ProcessEnv = process.env): KeyObject | undefined {
  if (!env.VONAGE_PRIVATE_KEY && !env.VONAGE_PRIVATE_KEY_PATH) return undefined;
  const problems: string[] = [];
  const key = loadPrivateKey(env, problems);
  if (!key) throw new ConfigError(problems);
  return key;
}

/** Reads and validates the configuration; throws one ConfigError naming every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): NetcheckConfig {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
  const privateKey = loadPrivateKey(env, problems); // checked even when other variables are wrong
  let encryption: KeyRing | undefined;
  try {
    encryption = loadKeyRing(env);
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }
  const insecure = parsed.success ? insecureBaseUrlProblem(parsed.data.VONAGE_API_BASE_URL, env) : undefined;
  if (insecure) problems.push(insecure);
  if (!parsed.success || !privateKey || problems.length > 0) throw new ConfigError(problems);
  return {
    applicationId: parsed.data.VONAGE_APPLICATION_ID,
    privateKey,
    baseUrl: (parsed.data.VONAGE_API_BASE_URL ?? DEFAULT_API_BASE_URL).replace(/\/+$/, ''),
    taskQueue: parsed.data.NETCHECK_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    ...(parsed.data.NETCHECK_RATE_LIMIT !== undefined ? { rateLimit: parsed.data.NETCHECK_RATE_LIMIT } : {}),
    ...(encryption ? { encryption } : {}),
  };
}
