/**
 * Prometheus metrics for the worker, on one endpoint: the Temporal runtime's own metrics
 * (workers, pollers, task latencies, …) and netcheck's, all recorded through Temporal's metric
 * meter, which the runtime exports.
 *
 * - `installWorkerRuntime({ metrics?, logger? })` installs the process's one Temporal Runtime:
 *   its logger redacts every line (worker/logging.ts) and, with `metrics`, it serves Prometheus.
 *   It must run before the worker's connection is made (worker/main.ts does this always).
 *   `installMetricsRuntime(settings)` is the same with metrics.
 * - `netcheckMetricsPlugin()` adds netcheck's metrics to any worker: a workflow interceptor
 *   (checks by operation, api and outcome; time to authorization) and an activity interceptor
 *   (CIBA polls by outcome). A host application with its own Runtime metrics gets them too.
 * - `httpMetricsObserver()` goes into the Vonage client's HTTP options (`http.observer`):
 *   request latency by endpoint and status, and rate-limit waits.
 *
 * Metric names and labels: docs/observability.md.
 */
import { Context } from '@temporalio/activity';
import type { Logger, MetricHistogram, MetricMeter } from '@temporalio/common';
import { SimplePlugin } from '@temporalio/plugin';
import {
  Runtime,
  type ActivityExecuteInput,
  type ActivityInboundCallsInterceptor,
  type Next,
} from '@temporalio/worker';
import { readSetting } from '../common/settings.js';
import { activityName } from '../domain/activity-names.js';
import { errorCodeOf } from '../domain/errors.js';
import type { PollOutcome } from '../domain/types.js';
import type { HttpObserver } from '../activities/http.js';
import { ConfigurationError } from './config.js';
import { redactingLogger } from './logging.js';
import { workflowModulePath } from './workflow-path.js';

/** netcheck's metric names, as exported (the runtime adds no prefix to them). */
export const METRICS = {
  /** Counter: networkCheck runs finished; labels operation, api, outcome, error_code. */
  checks: 'netcheck_checks_total',
  /** Counter: token-endpoint polls answered; label outcome (pending, slow_down, token, expired, redeemed, error). */
  cibaPolls: 'netcheck_ciba_polls_total',
  /** Histogram (s): check start until the access token was issued; label operation. */
  timeToAuthorization: 'netcheck_time_to_authorization_seconds',
  /** Histogram (s): one HTTP request to Vonage, sent to body read; labels endpoint, status. */
  vonageRequestDuration: 'netcheck_vonage_request_duration_seconds',
  /** Histogram (s): time a request waited for the worker's own rate limit (NETCHECK_RATE_LIMIT). */
  rateLimitWait: 'netcheck_rate_limit_wait_seconds',
} as const;

/** Bucket bounds (seconds) for netcheck's histograms; Temporal's defaults suit milliseconds. */
const BUCKETS: Record<string, number[]> = {
  [METRICS.timeToAuthorization]: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
  [METRICS.vonageRequestDuration]: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  [METRICS.rateLimitWait]: [0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
};

export interface MetricsSettings {
  /** TCP port of the Prometheus endpoint (`/metrics`). */
  port: number;
  /** Address to bind; 127.0.0.1 unless set (0.0.0.0 in a container). */
  host: string;
}

/** Reads `<prefix>_PORT` and `<prefix>_HOST`; undefined when the port is unset (the feature is off). */
export function listenSettingsFromEnv(
  prefix: 'NETCHECK_METRICS' | 'NETCHECK_HEALTH',
  env: NodeJS.ProcessEnv = process.env,
): { port: number; host: string } | undefined {
  const port = readSetting(`${prefix}_PORT`, env);
  if (port === undefined) return undefined;
  return { port, host: readSetting(`${prefix}_HOST`, env) ?? '127.0.0.1' };
}

/** NETCHECK_METRICS_PORT / NETCHECK_METRICS_HOST. */
export function metricsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsSettings | undefined {
  return listenSettingsFromEnv('NETCHECK_METRICS', env);
}

function bindAddress({ host, port }: MetricsSettings): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface RuntimeSettings {
  /** Serve Prometheus at http://host:port/metrics; no metrics endpoint when undefined. */
  metrics?: MetricsSettings;
  /**
   * Where the log lines go once redacted (default: the SDK's DefaultLogger at INFO, on stderr).
   * It is wrapped in `redactingLogger`: pass the logger that writes, not a redacting one.
   */
  logger?: Logger;
}

/**
 * Installs the process's Temporal Runtime: call it once, before any NativeConnection or Worker
 * is created (Temporal allows one Runtime per process, so the logger and the metrics share it).
 * - Its logger is `redactingLogger(settings.logger)`: every message and attribute redacted, task
 *   tokens dropped. The SDK core's own log lines (Rust side) are forwarded to it too (WARN and
 *   up), instead of going to the console unredacted.
 * - With `metrics`, a Prometheus endpoint at http://host:port/metrics.
 */
export function installWorkerRuntime(settings: RuntimeSettings = {}): Runtime {
  try {
    return Runtime.install({
      logger: redactingLogger(settings.logger),
      telemetryOptions: {
        logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
        ...(settings.metrics ? { metrics: prometheusOptions(settings.metrics) } : {}),
      },
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (settings.metrics && /address already in use|address not available|cannot assign/i.test(message)) {
      throw new ConfigurationError([
        `NETCHECK_METRICS_PORT: ${bindAddress(settings.metrics)} is not free on this machine (${message}); choose another port or NETCHECK_METRICS_HOST.`,
      ]);
    }
    throw err;
  }
}

/**
 * Installs the process's Temporal Runtime with a Prometheus endpoint at http://host:port/metrics
 * and the redacting logger (`installWorkerRuntime` with metrics). Call it once, before any
 * NativeConnection or Worker is created.
 */
export function installMetricsRuntime(settings: MetricsSettings, options: { logger?: Logger } = {}): Runtime {
  return installWorkerRuntime({ metrics: settings, ...options });
}

function prometheusOptions(settings: MetricsSettings) {
  return {
    prometheus: {
      bindAddress: bindAddress(settings),
      // Prometheus conventions: counters end in _total, durations in seconds.
      countersTotalSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: BUCKETS,
    },
  };
}

/** The workflow interceptor module with netcheck's workflow metrics (source or compiled). */
export function netcheckWorkflowInterceptorsPath(): string {
  return workflowModulePath('interceptors');
}

/** Counter names are given without `_total`: the exporter adds it (countersTotalSuffix). */
const counterName = (name: string) => name.replace(/_total$/, '');

class PollMetricsInterceptor implements ActivityInboundCallsInterceptor {
  constructor(private readonly meter: MetricMeter) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
    const polls = this.meter.createCounter(
      counterName(METRICS.cibaPolls),
      undefined,
      'CIBA token polls answered, by outcome',
    );
    try {
      const result = (await next(input)) as PollOutcome;
      // A polling loop (keepPolling) answers for every poll it made: the ones before its final
      // answer were pending (a slow_down ends the loop, domain/ciba-flow.ts); one that stood in
      // for a lost attempt may hand back without a poll.
      const made = result.polls ?? 1;
      if (made > 1) polls.add(made - 1, { outcome: 'pending' });
      if (made > 0) polls.add(1, { outcome: result.outcome });
      return result;
    } catch (err) {
      polls.add(1, { outcome: 'error', error_code: errorCodeOf(err) ?? 'UNKNOWN' });
      throw err;
    }
  }
}

/**
 * netcheck's workflow and activity metrics for any worker. With a prebuilt workflow bundle, pass
 * the plugin to `bundleWorkflowCode({ plugins: [netcheckMetricsPlugin()] })` as well, so the
 * workflow interceptor is bundled.
 */
export function netcheckMetricsPlugin(): SimplePlugin {
  return new SimplePlugin({
    name: 'netcheck-metrics',
    workerInterceptors: {
      workflowModules: [netcheckWorkflowInterceptorsPath()],
      activity: [
        (ctx) =>
          activityName(ctx.info.activityType) === 'pollToken' // netcheck.pollToken, or the legacy name
            ? { inbound: new PollMetricsInterceptor(ctx.metricMeter) }
            : {},
      ],
    },
  });
}

/** The activity's meter (tags: namespace, task queue, activity type) or, outside one, the runtime's. */
function currentMeter(): MetricMeter {
  try {
    return Context.current().metricMeter;
  } catch {
    return Runtime.instance().metricMeter;
  }
}

/** Vonage request latency and rate-limit waits, for `HttpOptions.observer`. */
export function httpMetricsObserver(meter: () => MetricMeter = currentMeter): HttpObserver {
  const histogram = (name: string, description: string): MetricHistogram =>
    meter().createHistogram(name, 'float', 's', description);
  return {
    onResponse(endpoint, status, ms) {
      histogram(METRICS.vonageRequestDuration, 'HTTP requests to Vonage, by endpoint and status').record(
        ms / 1000,
        { endpoint, status: String(status) },
      );
    },
    onRateLimitWait(ms) {
      histogram(METRICS.rateLimitWait, "Time requests waited for the worker's Vonage rate limit").record(
        ms / 1000,
      );
    },
  };
}
