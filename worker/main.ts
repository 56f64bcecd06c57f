/**
 * The standalone netcheck worker: configuration from the environment, the Temporal connection
 * from envconfig, and the same plugin an existing worker would add. SIGINT/SIGTERM stop it
 * gracefully (Temporal's runtime drains in-flight tasks before run() resolves).
 *
 * Observability, each off unless its variables are set (docs/observability.md):
 * NETCHECK_METRICS_PORT (Prometheus), OTEL_* (tracing), NETCHECK_HEALTH_PORT (/healthz, /readyz).
 */
import { IllegalStateError } from '@temporalio/common';
import { Worker, type Runtime, type WorkerPlugin } from '@temporalio/worker';
import type { HttpOptions } from '../activities/http.js';
import { keylessDataConverter } from '../codec/data-converter.js';
import { simulatorLine } from '../activities/base-url.js';
import { settingText } from '../common/settings.js';
import { loadConfig, type NetcheckConfig } from './config.js';
import { connectWorker } from './connection.js';
import { healthSettingsFromEnv, startHealthServer } from './health.js';
import {
  httpMetricsObserver,
  installWorkerRuntime,
  metricsSettingsFromEnv,
  netcheckMetricsPlugin,
  type MetricsSettings,
} from './metrics.js';
import { assembleWorker } from './assemble.js';

/** Printed once by a worker without encryption keys (not with NETCHECK_ENCRYPTION=off: said on purpose). */
export const CLEARTEXT_WARNING =
  'netcheck: warning: no NETCHECK_ENCRYPTION_KEYS: phone numbers and results are stored in the clear in ' +
  'Temporal workflow histories. Set a key ring on every worker and client (see docs/security.md; `netcheck keygen` makes a key).';

export interface NetcheckWorkerExtras {
  /** More plugins for the worker (metrics, tracing). */
  plugins?: WorkerPlugin[];
  /** HTTP options for the Vonage client beyond the configuration's (e.g. an observer). */
  http?: HttpOptions;
}

export async function createNetcheckWorker(
  config: NetcheckConfig = loadConfig(),
  extras: NetcheckWorkerExtras = {},
): Promise<Worker> {
  const { connection, namespace } = await connectWorker();
  return assembleWorker({
    connection,
    namespace,
    taskQueue: config.taskQueue,
    // config.rateLimit → the queue's activity rate
    netcheck: { ...config, ...(extras.http ? { http: extras.http } : {}) },
    plugins: extras.plugins ?? [],
    // NETCHECK_WORKFLOW_BUNDLE or dist/workflow-bundle.js: no bundling at start. With a key ring,
    // a bundle without the encrypting failure converter is passed over (the workflows are bundled at start).
    workflows: { from: 'prebuilt', encryption: Boolean(config.encryption) },
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
  // Before the connection: one Runtime per process, with the redacting logger (and the metrics).
  const runtime = installRuntime(metrics);
  if (metrics) {
    extras.plugins!.push(netcheckMetricsPlugin());
    extras.http = { observer: httpMetricsObserver() };
    console.error(`metrics: http://${metrics.host}:${metrics.port}/metrics`);
  }
  if (tracing) console.error('tracing: OpenTelemetry spans exported as configured by OTEL_* variables');
  try {
    const worker = await createNetcheckWorker(config, extras);
    const healthServer = health ? await startHealthServer(worker, health) : undefined;
    if (healthServer) console.error(`health: ${healthServer.url}/healthz, ${healthServer.url}/readyz`);
    const declaredOff =
      !config.encryption && settingText('NETCHECK_ENCRYPTION', env)?.toLowerCase() === 'off';
    if (!config.encryption && !declaredOff) console.error(CLEARTEXT_WARNING);
    if (config.simulatorHost) console.error(simulatorLine(config.baseUrl));
    console.error(
      `netcheck worker polling task queue "${config.taskQueue}" (Vonage ${config.baseUrl}` +
        `${config.encryption ? `; payloads encrypted with key "${config.encryption.primary}"` : ''}` +
        `${config.encryption?.allowPlaintextUntil ? `; unencrypted inputs let through until ${config.encryption.allowPlaintextUntil.toISOString()} (NETCHECK_ALLOW_PLAINTEXT_UNTIL)` : ''}` +
        `${declaredOff ? '; payloads in the clear: NETCHECK_ENCRYPTION=off' : ''})`,
    );
    try {
      await worker.run();
    } finally {
      await healthServer?.close();
      // Once idle, the Runtime shuts down (and its log forwarding with it): the process can end.
      await worker.connection?.close();
    }
  } finally {
    await tracing?.shutdown();
    runtime?.flushLogs(); // the SDK buffers log lines for 100 ms: none is lost at exit
  }
}

/** The Runtime with the redacting logger; an embedder's Runtime installed earlier is kept (without metrics). */
function installRuntime(metrics: MetricsSettings | undefined): Runtime | undefined {
  try {
    return installWorkerRuntime(metrics ? { metrics } : {});
  } catch (err) {
    if (metrics || !(err instanceof IllegalStateError)) throw err;
    console.error(
      'netcheck: a Temporal Runtime was installed before runWorker(): its logger is kept as it is ' +
        '(wrap it in redactingLogger() from netcheck/worker so that log lines are redacted).',
    );
    return undefined;
  }
}

function mayTrace(env: NodeJS.ProcessEnv): boolean {
  const names = [
    'OTEL_TRACES_EXPORTER',
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  ] as const;
  return names.some((name) => settingText(name, env) !== undefined);
}
