/**
 * Worker configuration from the environment, validated in one step so a bad or missing key
 * fails at start with every problem listed, not at the first check.
 */
import type { KeyObject } from 'node:crypto';
import { readPrivateKey } from '../common/index.js';
import { collectSetting, rawSetting } from '../common/settings.js';
import { ConfigurationError } from '../domain/errors.js';
import { insecureBaseUrlProblem, simulatorHostProblem } from '../activities/base-url.js';
import { loadKeyRing, type KeyRing } from '../codec/keyring.js';
import { loadCamaraProfileConfig, type CamaraProfileConfig } from '../activities/profiles/config.js';
import { profileTaskQueue, type Profile } from '../domain/profiles.js';

import { DEFAULT_TASK_QUEUE } from '../common/index.js';

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
  /**
   * NETCHECK_PROFILE=camara: the operator's OIDC issuer and the key id (docs/profiles.md). Then
   * `applicationId` is NETCHECK_CLIENT_ID, `privateKey` the client-assertion key and `baseUrl`
   * NETCHECK_API_ROOT.
   */
  camara?: CamaraProfileConfig;
}

export interface NetcheckConfig extends VonageConfig {
  /** NETCHECK_PROFILE: the profile this worker serves (default `vonage`). */
  profile?: Profile;
  taskQueue: string;
  /** NETCHECK_RATE_LIMIT: requests per second to Vonage across all workers of the task queue. */
  rateLimit?: number;
  /** NETCHECK_ENCRYPTION_KEYS(_FILE): the payload encryption key ring; unset = payloads in the clear. */
  encryption?: KeyRing;
  /**
   * NETCHECK_SIMULATOR_HOST: the base URL is the bundled simulator's, reached over plain http by
   * this explicit opt-in (the worker says so loudly at start).
   */
  simulatorHost?: string;
}

/** The key ring (NETCHECK_ENCRYPTION_KEYS, …), or undefined with its problems added to the others. */
function collectKeyRing(env: NodeJS.ProcessEnv, problems: string[]): KeyRing | undefined {
  try {
    return loadKeyRing(env);
  } catch (err) {
    if (err instanceof ConfigurationError) problems.push(...err.problems);
    else throw err;
    return undefined;
  }
}

/** Reads and validates the configuration; throws one ConfigurationError naming every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): NetcheckConfig {
  // Every value through the registry (common/settings.ts): its schema, its messages, its default.
  const problems: string[] = [];
  const profile = collectSetting('NETCHECK_PROFILE', env, problems);
  if (profile === 'camara') return loadCamaraWorkerConfig(env, problems);
  const applicationId = collectSetting('VONAGE_APPLICATION_ID', env, problems);
  const baseUrl = collectSetting('VONAGE_API_BASE_URL', env, problems);
  const identityInsightsPath = collectSetting('VONAGE_IDENTITY_INSIGHTS_PATH', env, problems);
  const taskQueue = collectSetting('NETCHECK_TASK_QUEUE', env, problems);
  const rateLimit = collectSetting('NETCHECK_RATE_LIMIT', env, problems);
  const simulatorHost = collectSetting('NETCHECK_SIMULATOR_HOST', env, problems);
  const valid = problems.length === 0;
  const privateKey = readPrivateKey(env, problems); // checked even when other variables are wrong
  const encryption = collectKeyRing(env, problems);
  if (valid) {
    const insecure = simulatorHostProblem(baseUrl, env) ?? insecureBaseUrlProblem(baseUrl, env);
    if (insecure) problems.push(insecure);
  }
  if (!privateKey || problems.length > 0 || !applicationId || !baseUrl || !taskQueue) {
    throw new ConfigurationError(problems);
  }
  return {
    applicationId,
    privateKey,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    ...(identityInsightsPath !== undefined ? { identityInsightsPath } : {}),
    taskQueue,
    ...(rateLimit !== undefined ? { rateLimit } : {}),
    ...(encryption ? { encryption } : {}),
    ...(simulatorHost !== undefined ? { simulatorHost } : {}),
  };
}

/** The worker configuration of the `camara` profile (NETCHECK_OIDC_ISSUER, NETCHECK_CLIENT_ID, …). */
function loadCamaraWorkerConfig(env: NodeJS.ProcessEnv, problems: string[]): NetcheckConfig {
  const camara = loadCamaraProfileConfig(env, problems);
  const explicitQueue =
    rawSetting('NETCHECK_TASK_QUEUE', env) === undefined
      ? undefined
      : collectSetting('NETCHECK_TASK_QUEUE', env, problems);
  const taskQueue = explicitQueue ?? profileTaskQueue('camara', DEFAULT_TASK_QUEUE);
  const rateLimit = collectSetting('NETCHECK_RATE_LIMIT', env, problems);
  const encryption = collectKeyRing(env, problems);
  if (!camara || problems.length > 0) throw new ConfigurationError(problems);
  return {
    profile: 'camara',
    applicationId: camara.clientId,
    privateKey: camara.privateKey,
    baseUrl: camara.apiRoot,
    camara: { issuer: camara.issuer, keyId: camara.keyId },
    taskQueue,
    ...(rateLimit !== undefined ? { rateLimit } : {}),
    ...(encryption ? { encryption } : {}),
  };
}
