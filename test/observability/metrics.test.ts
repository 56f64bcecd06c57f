/**
 * The standalone worker's observability, configured from the environment as in production
 * (`npm run worker` as a real child process with NETCHECK_METRICS_PORT, NETCHECK_HEALTH_PORT and
 * OTEL_EXPORTER_OTLP_ENDPOINT set): checks run against the simulator, then one scrape must show
 * the Temporal runtime's metrics and netcheck's, with the labels of the run and plausible
 * values; the health endpoint answers; spans arrive at an OTLP/HTTP receiver.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkNumber } from '../../client/index.js';
import {
  addScenarios,
  connectTestEnv,
  startWorkerProcess,
  uniqueNumber,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';
import { scrape, total, type Sample } from './prometheus.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let env: TestEnv;
const [okNumber, slowNumber, deniedNumber] = [uniqueNumber(), uniqueNumber(), uniqueNumber()];
let worker: ChildProcess | undefined;
const taskQueue = uniqueTaskQueue('metrics');
let metricsUrl: string;
let healthUrl: string;
/** What the worker exported over OTLP/HTTP: content type and raw protobuf body of each request. */
const otlpRequests: { path: string; contentType: string; body: Buffer }[] = [];
let otlpReceiver: Server;

beforeAll(async () => {
  env = await connectTestEnv();
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  healthUrl = `http://127.0.0.1:${healthPort}`;
  otlpReceiver = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      otlpRequests.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => otlpReceiver.listen(0, '127.0.0.1', resolve));
  const { port: otlpPort } = otlpReceiver.address() as { port: number };
  worker = await startWorkerProcess(taskQueue, inject('simulatorUrl'), {
    NETCHECK_METRICS_PORT: String(metricsPort),
    NETCHECK_HEALTH_PORT: String(healthPort),
    // The worker paces itself, so rate-limit waits are measured.
    NETCHECK_RATE_LIMIT: '50',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
});

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await once(worker, 'exit');
  }
  await new Promise((resolve) => otlpReceiver?.close(resolve));
  await env?.close();
});

describe('the standalone worker with NETCHECK_METRICS_PORT', () => {
  it('serves the runtime metrics and netcheck metrics with the labels of the run', async () => {
    await addScenarios(env.simulatorUrl, {
      numbers: {
        [okNumber]: { interval: 0.2, pendingPolls: 1, lastSimChangeHoursAgo: 5 },
        // The first poll answers slow_down: the workflow adds 5 s to the interval.
        [slowNumber]: {
          interval: 0.2,
          connectivity: 'CONNECTED_DATA',
          faults: [{ endpoint: 'token', status: 400, error: 'slow_down' }],
        },
        [deniedNumber]: { interval: 0.2, denied: true },
      },
    });
    const options = { taskQueue, subjectKey: 'metrics-test' };
    const [ok, slow, denied] = await Promise.all([
      checkNumber(env.client, { msisdn: okNumber, operation: 'sim-swap' }, options),
      checkNumber(env.client, { msisdn: slowNumber, operation: 'device-connectivity' }, options),
      checkNumber(env.client, { msisdn: deniedNumber, operation: 'sim-swap' }, options),
    ]);
    expect(ok.status).toBe('ok');
    expect(slow.status).toBe('ok');
    expect(denied.status).toBe('failed');
    expect(denied.error?.code).toBe('ACCESS_DENIED');

    // Workflow metrics reach the exporter with the workflow task that completes the run.
    let samples: Sample[] = [];
    await expect
      .poll(
        async () => {
          samples = await scrape(metricsUrl);
          return total(samples, 'netcheck_checks_total', { taskQueue });
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBeGreaterThanOrEqual(3);

    // netcheck's metrics carry the SDK's tags for custom metrics (namespace, taskQueue, workflowType
    // or activityType); Temporal's own use snake_case (task_queue).
    const run = { taskQueue, namespace: 'default' };
    const checks = (labels: Record<string, string>) =>
      total(samples, 'netcheck_checks_total', { ...run, ...labels });
    expect(
      checks({ operation: 'sim-swap', api: 'camara', outcome: 'ok', workflowType: 'networkCheck' }),
    ).toBe(1);
    expect(checks({ operation: 'device-connectivity', api: 'camara', outcome: 'ok' })).toBe(1);
    expect(
      checks({ operation: 'sim-swap', api: 'camara', outcome: 'failed', error_code: 'ACCESS_DENIED' }),
    ).toBe(1);

    // CIBA polls by outcome: the ok check polled pending then token, the slow one slow_down then token.
    const polls = (outcome: string) => total(samples, 'netcheck_ciba_polls_total', { ...run, outcome });
    expect(polls('pending')).toBe(1);
    expect(polls('slow_down')).toBe(1);
    expect(polls('token')).toBe(2);
    expect(polls('error')).toBeGreaterThanOrEqual(1); // access_denied
    expect(
      total(samples, 'netcheck_ciba_polls_total', { ...run, outcome: 'error', error_code: 'ACCESS_DENIED' }),
    ).toBe(1);

    // Time to authorization: the two checks that got a token; the slow_down one waited > 5 s.
    expect(total(samples, 'netcheck_time_to_authorization_seconds_count', run)).toBe(2);
    const authSum = total(samples, 'netcheck_time_to_authorization_seconds_sum', run);
    expect(authSum).toBeGreaterThan(5);
    expect(authSum).toBeLessThan(120);
    // A histogram's buckets are cumulative: the +Inf bucket holds every observation.
    expect(
      total(samples, 'netcheck_time_to_authorization_seconds_bucket', {
        ...run,
        operation: 'sim-swap',
        le: '+Inf',
      }),
    ).toBe(1);

    // Vonage HTTP latency by endpoint and status (this worker's only traffic is this test's).
    const http = (suffix: string, labels: Record<string, string>) =>
      total(samples, `netcheck_vonage_request_duration_seconds_${suffix}`, labels);
    expect(http('count', { endpoint: '/oauth2/bc-authorize', status: '200' })).toBe(3);
    expect(
      http('count', { ...run, activityType: 'netcheck.authorize', endpoint: '/oauth2/bc-authorize' }),
    ).toBe(3);
    expect(http('count', { endpoint: '/oauth2/token', status: '200' })).toBe(2);
    expect(http('count', { endpoint: '/oauth2/token', status: '400' })).toBeGreaterThanOrEqual(3);
    const camara = samples.filter(
      (s) =>
        s.name === 'netcheck_vonage_request_duration_seconds_count' &&
        s.labels.endpoint?.startsWith('/camara/'),
    );
    expect(camara.reduce((sum, s) => sum + s.value, 0)).toBe(2);
    expect(camara.every((s) => s.labels.status === '200')).toBe(true);
    expect(http('sum', { endpoint: '/oauth2/bc-authorize' })).toBeGreaterThan(0);

    // Rate-limit waits: every request was paced, so each has one observation.
    const requests = total(samples, 'netcheck_vonage_request_duration_seconds_count', {});
    expect(total(samples, 'netcheck_rate_limit_wait_seconds_count', {})).toBe(requests);
    expect(total(samples, 'netcheck_rate_limit_wait_seconds_sum', {})).toBeGreaterThanOrEqual(0);

    // The Temporal runtime's own metrics on the same endpoint.
    expect(
      total(samples, 'temporal_workflow_completed_total', { task_queue: taskQueue }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      total(samples, 'temporal_activity_execution_latency_count', { task_queue: taskQueue }),
    ).toBeGreaterThan(0);
  });

  it('serves /healthz and /readyz (NETCHECK_HEALTH_PORT) while polling', async () => {
    const live = await fetch(`${healthUrl}/healthz`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${healthUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', state: 'RUNNING' });
  });

  it('exports the spans of the checks over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT)', async () => {
    // Spans are batched; the workflow's reach the exporter after its last workflow task.
    const exported = () => Buffer.concat(otlpRequests.map((r) => r.body)).toString('latin1');
    const names = [
      'RunWorkflow:networkCheck',
      'StartActivity:netcheck.authorize',
      'RunActivity:netcheck.authorize',
    ];
    names.push('RunActivity:netcheck.pollToken', 'RunActivity:netcheck.checkSimSwap');
    names.push('RunActivity:netcheck.getDeviceConnectivity');
    await expect
      .poll(() => names.filter((name) => !exported().includes(name)), { timeout: 15_000, interval: 250 })
      .toEqual([]);
    expect(exported()).toContain('netcheck-worker'); // service.name
    expect(otlpRequests.every((r) => r.path === '/v1/traces')).toBe(true);
    expect(otlpRequests.every((r) => r.contentType === 'application/x-protobuf')).toBe(true);
    // No phone number leaves in a span.
    for (const msisdn of [okNumber, slowNumber, deniedNumber])
      expect(exported()).not.toContain(msisdn.slice(1));
  });
});
