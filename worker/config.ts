/**
 * Worker configuration from the environment, validated in one step so a bad or missing key
 * fails at start with every problem listed, not at the first check.
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_API_BASE_URL, DEFAULT_TASK_QUEUE, readPrivateKey } from '../common/index.js';
import { ConfigurationError } from '../domain/errors.js';
import { isAcceptedRate, RATE_BOUNDS_TEXT } from '../domain/rate-limit.js';
import { insecureBaseUrlProblem } from '../activities/base-url.js';
import { loadKeyRing, type KeyRing } from '../codec/keyring.js';

export {
  DEFAULT_API_BASE_URL,
  DEFAULT_TASK_QUEUE,
  loadPrivateKeyFromEnv,
  parsePrivateKey,
} from '../common/index.js';
export { ConfigurationError } from '../domain/errors.js';

export interface VonageConfig {
  applicationId: string;
  /** RSA private key of the Vonage application. */
  privateKey: KeyObject;
  /** Origin of the Vonage APIs, e.g. https://api-eu.vonage.com (no trailing slash). */
  baseUrl: string;
  /** VONAGE_IDENTITY_INSIGHTS_PATH: Identity Insights' path under baseUrl (default /identity-insights/v1/requests). */
  identityInsightsPath?: string;
}

export interface NetcheckConfig extends VonageConfig {
  taskQueue: string;
  /** NETCHECK_RATE_LIMIT: requests per second to Vonage across all workers of the task queue. */
  rateLimit?: number;
  /** NETCHECK_ENCRYPTION_KEYS(_FILE): the payload encryption key ring; unset = payloads in the clear. */
  encryption?: KeyRing;
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
  VONAGE_IDENTITY_INSIGHTS_PATH: z
    .string()
    .trim()
    .regex(
      /^\/[^\s?#]*$/,
      'VONAGE_IDENTITY_INSIGHTS_PATH must be a URL path such as /identity-insights/v1/requests or /v0.1/identity-insights.',
    )
    .optional(),
  NETCHECK_TASK_QUEUE: z
    .string()
    .trim()
    .min(1, 'NETCHECK_TASK_QUEUE is empty: unset it or name a task queue.')
    .optional(),
  NETCHECK_RATE_LIMIT: z.coerce
    .number({ error: 'NETCHECK_RATE_LIMIT must be a number of requests per second, e.g. 50.' })
    .refine(
      isAcceptedRate,
      `NETCHECK_RATE_LIMIT must be a number of requests per second ${RATE_BOUNDS_TEXT}, e.g. 50.`,
    )
    .optional(),
});

/** Reads and validates the configuration; throws one ConfigurationError naming every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): NetcheckConfig {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
  const privateKey = readPrivateKey(env, problems); // checked even when other variables are wrong
  let encryption: KeyRing | undefined;
  try {
    encryption = loadKeyRing(env);
  } catch (err) {
    if (err instanceof ConfigurationError) problems.push(...err.problems);
    else throw err;
  }
  const insecure = parsed.success ? insecureBaseUrlProblem(parsed.data.VONAGE_API_BASE_URL, env) : undefined;
  if (insecure) problems.push(insecure);
  if (!parsed.success || !privateKey || problems.length > 0) throw new ConfigurationError(problems);
  return {
    applicationId: parsed.data.VONAGE_APPLICATION_ID,
    privateKey,
    baseUrl: (parsed.data.VONAGE_API_BASE_URL ?? DEFAULT_API_BASE_URL).replace(/\/+$/, ''),
    ...(parsed.data.VONAGE_IDENTITY_INSIGHTS_PATH !== undefined
      ? { identityInsightsPath: parsed.data.VONAGE_IDENTITY_INSIGHTS_PATH }
      : {}),
    taskQueue: parsed.data.NETCHECK_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    ...(parsed.data.NETCHECK_RATE_LIMIT !== undefined ? { rateLimit: parsed.data.NETCHECK_RATE_LIMIT } : {}),
    ...(encryption ? { encryption } : {}),
  };
}
