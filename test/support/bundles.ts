/**
 * Worker processes spawned by the tests load the run's prebuilt production bundle (built once in
 * global-setup.ts, as `npm run build:bundle` builds it) instead of each running webpack at start.
 */
import { inject } from 'vitest';

/**
 * NETCHECK_WORKFLOW_BUNDLE for a worker process with this environment: the encrypting bundle
 * when it has encryption keys, the plain one otherwise; nothing when the env names a bundle or
 * configures tracing.
 */
export function prebuiltBundleEnv(env: Record<string, string | undefined>): Record<string, string> {
  if ('NETCHECK_WORKFLOW_BUNDLE' in env) return {};
  // Tracing adds workflow interceptors at start, which a prebuilt bundle cannot take.
  if (Object.keys(env).some((name) => name.startsWith('OTEL_'))) return {};
  const encrypted = Boolean(env.NETCHECK_ENCRYPTION_KEYS || env.NETCHECK_ENCRYPTION_KEYS_FILE);
  return {
    NETCHECK_WORKFLOW_BUNDLE: inject(encrypted ? 'encryptedWorkerBundlePath' : 'workerBundlePath'),
  };
}
