/**
 * The standalone netcheck worker: configuration from the environment, the Temporal connection
 * from envconfig, and the same plugin an existing worker would add. SIGINT/SIGTERM stop it
 * gracefully (Temporal's runtime drains in-flight tasks before run() resolves).
 *
 * Observability, each off unless its variables are set (docs/observability.md):
 * NETCHECK_METRICS_PORT (Prometheus), OTEL_* (tracing), NETCHECK_HEALTH_PORT (/healthz, /readyz).
 */
import { Worker, type WorkerPlugin } from '@temporalio/worker';
import type { HttpOptions } from '../activities/http.js';
import { bundleEncodesFailures, keylessDataConverter } from '../codec/data-converter.js';
import { loadConfig, type NetcheckConfig } from './config.js';
import { connectWorker } from './connection.js';
import { healthSettingsFromEnv, startHealthServer } from './health.js';
import {
  httpMetricsObserver,
  installMetricsRuntime,
  metricsSettingsFromEnv,
  netcheckMetricsPlugin,
} from './metrics.js';
import { netcheckPlugin } from './plugin.js';
import { prebuiltBundleOptions } from './bundle.js';

/** Printed once by a worker without encryption keys. */
export const CLEARTEXT_WARNING =
  'netcheck: warning: no NETCHECK_ENCRYPTION_KEYS: phone numbers and results are stored in the clear in ' +
  'Temporal workflow histories. Set a key ring on every worker and client (see docs/security.md; `netcheck keygen` makes a key).';

export interface NetcheckWorkerExtras {
  /** More plugins for the worker (metrics, tracing). */
  plugins?: WorkerPlugin[];
  /** HTTP options for the Vonage client beyond the configuration's (e.g. an observer). */
  http?: HttpOptions;
}

/**
 * The prebuilt bundle, unless payloads are encrypted and it lacks the encoding failure converter
 * (its workflow failure messages would be stored in the clear): then the worker bundles at start.
 */
function bundleOptions(config: NetcheckConfig): ReturnType<typeof prebuiltBundleOptions> {
  const prebuilt = prebuiltBundleOptions();
  const codePath = prebuilt.workflowBundle?.codePath;
  if (!config.encryption || !codePath || bundleEncodesFailures(codePath)) return prebuilt;
  console.error(
    `netcheck: the workflow bundle ${codePath} was built without the encrypting failure converter; ` +
      'bundling the workflows at start instead (build it with `npm run build:bundle -- --encrypt-failures`).',
  );
  return {};
}

export async function createNetcheckWorker(
  config: NetcheckConfig = loadConfig(),
  extras: NetcheckWorkerExtras = {},
): Promise<Worker> {
  const { connection, namespace } = await connectWorker();
  return Worker.create({
    connection,
    namespace,
    taskQueue: config.taskQueue,
    // config.rateLimit → the queue's activity rate
    plugins: [
      netcheckPlugin({ ...config, ...(extras.http ? { http: extras.http } : {}) }),
      ...(extras.plugins ?? []),
    ],
    ...bundleOptions(config), // NETCHECK_WORKFLOW_BUNDLE or dist/workflow-bundle.js: no bundling at start
    shutdownGraceTime: '20s', // SIGTERM drains: Vonage requests in flight finish (not cancelled and re-sent)
    // Without keys: a clear error for encrypted payloads (the plugin encrypts when keys are set).
    ...(config.encryption ? {} : { dataConverter: keylessDataConverter() }),
  });
}

export async function runWorker(
  config: NetcheckConfig = loadConfig(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const metrics = metricsSettingsFromEnv(env);
  const health = healthSettingsFromEnv(env);
  // The OpenTelemetry SDK loads only when an OTEL_* variable may turn tracing on.
  const tracing = mayTrace(env)
    ? (await import('./tracing.js')).createTracing({ serviceName: 'netcheck-worker' }, env)
    : undefined;
  const extras: NetcheckWorkerExtras = { plugins: tracing ? [tracing.plugin] : [] };
  if (metrics) {
    installMetricsRuntime(metrics); // before the connection: the runtime is made once per process
    extras.plugins!.push(netcheckMetricsPlugin());
    extras.http = { observer: httpMetricsObserver() };
    console.error(`metrics: http://${metrics.host}:${metrics.port}/metrics`);
  }
  if (tracing) console.error('tracing: OpenTelemetry spans exported as configured by OTEL_* variables');
  try {
    const worker = await createNetcheckWorker(config, extras);
    const healthServer = health ? await startHealthServer(worker, health) : undefined;
    if (healthServer) console.error(`health: ${healthServer.url}/healthz, ${healthServer.url}/readyz`);
    if (!config.encryption) console.error(CLEARTEXT_WARNING);
    console.error(
      `netcheck worker polling task queue "${config.taskQueue}" (Vonage ${config.baseUrl}` +
        `${config.encryption ? `; payloads encrypted with key "${config.encryption.primary}"` : ''})`,
    );
    try {
      await worker.run();
    } finally {
      await healthServer?.close();
    }
  } finally {
    await tracing?.shutdown();
  }
}

function mayTrace(env: NodeJS.ProcessEnv): boolean {
  const names = ['OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  return names.some((name) => env[name]?.trim());
}
