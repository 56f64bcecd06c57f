/**
 * Tracing through Temporal's OpenTelemetry interceptors: a client and a worker sharing one
 * in-memory exporter run a check against the simulator; its spans (client start, workflow run,
 * each activity) form one trace. The workflow code is bundled with the tracing plugin the way a
 * prebuilt bundle (the container image) must be.
 */
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkNumber } from '../../client/index.js';
import { netcheckPlugin, netcheckWorkflowsPath } from '../../worker/plugin.js';
import { createTracing, tracesExportersFromEnv, type NetcheckTracing } from '../../worker/tracing.js';
import {
  addScenarios,
  connectTestEnv,
  uniqueNumber,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';

const exporter = new InMemorySpanExporter();
let env: TestEnv;
let tracing: NetcheckTracing;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('tracing');

beforeAll(async () => {
  env = await connectTestEnv();
  tracing = createTracing({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    serviceName: 'netcheck-test',
  })!;
  const { code } = await bundleWorkflowCode({
    workflowsPath: netcheckWorkflowsPath(),
    plugins: [tracing.plugin],
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { code },
    plugins: [netcheckPlugin(env.vonage), tracing.plugin],
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await tracing?.shutdown();
  await env?.close();
});

it('one check is one trace: client start, workflow run and every activity', async () => {
  const msisdn = uniqueNumber();
  await addScenarios(env.simulatorUrl, {
    numbers: { [msisdn]: { interval: 0.2, pendingPolls: 1, connectivity: 'CONNECTED_SMS' } },
  });
  const client = new Client({ connection: env.client.connection, plugins: [tracing.plugin] });
  const result = await checkNumber(
    client,
    { msisdn, operation: 'device-connectivity' },
    { taskQueue, subjectKey: 't' },
  );
  expect(result.status).toBe('ok');

  const startSpan = () => exporter.getFinishedSpans().find((s) => s.name === 'StartWorkflow:networkCheck');
  const names = (spans: ReadableSpan[]) => spans.map((s) => s.name);
  let trace: ReadableSpan[] = [];
  // Workflow spans leave the sandbox through a sink after the workflow task completes.
  await expect
    .poll(
      () => {
        const root = startSpan();
        trace = root
          ? exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === root.spanContext().traceId)
          : [];
        return names(trace);
      },
      { timeout: 10_000, interval: 100 },
    )
    .toEqual(
      expect.arrayContaining([
        'StartWorkflow:networkCheck',
        'RunWorkflow:networkCheck',
        'StartActivity:netcheck.authorize',
        'RunActivity:netcheck.authorize',
        'RunActivity:netcheck.pollToken',
        'StartActivity:netcheck.pollToken',
        'RunActivity:netcheck.getDeviceConnectivity',
      ]),
    );
  // Two polls (pending, then the token) in one polling activity: one span in the same trace.
  expect(result.polls).toBe(2);
  expect(names(trace).filter((n) => n === 'RunActivity:netcheck.pollToken')).toHaveLength(1);
  // Every span but the client's has a parent inside the trace.
  const ids = new Set(trace.map((s) => s.spanContext().spanId));
  const root = startSpan()!;
  expect(root.parentSpanId).toBeUndefined();
  for (const span of trace.filter((s) => s !== root)) expect(ids).toContain(span.parentSpanId);
  expect(root.resource.attributes['service.name']).toBe('netcheck-test');
  // No phone number in span names or attributes.
  const text = JSON.stringify(trace.map((s) => [s.name, s.attributes]));
  expect(text).not.toContain(msisdn);
  expect(text).not.toContain(msisdn.slice(1));
});

it('a client that does not trace still gets one trace per check, rooted at the workflow', async () => {
  const msisdn = uniqueNumber();
  await addScenarios(env.simulatorUrl, {
    numbers: { [msisdn]: { interval: 0.2, lastSimChangeHoursAgo: 1 } },
  });
  const result = await checkNumber(
    env.client,
    { msisdn, operation: 'sim-swap' },
    { taskQueue, subjectKey: 't' },
  );
  expect(result.status).toBe('ok');
  // The only workflow span without a parent is this check's (the first test's has the client's).
  const rootTrace = () => {
    const roots = exporter
      .getFinishedSpans()
      .filter((s) => s.name === 'RunWorkflow:networkCheck' && s.parentSpanId === undefined);
    if (roots.length !== 1) return [];
    const traceId = roots[0]!.spanContext().traceId;
    return exporter
      .getFinishedSpans()
      .filter((s) => s.spanContext().traceId === traceId)
      .map((s) => s.name);
  };
  await expect
    .poll(rootTrace, { timeout: 10_000, interval: 100 })
    .toEqual(
      expect.arrayContaining([
        'RunWorkflow:networkCheck',
        'RunActivity:netcheck.authorize',
        'RunActivity:netcheck.pollToken',
        'RunActivity:netcheck.checkSimSwap',
      ]),
    );
  expect(rootTrace()).not.toContain('StartWorkflow:networkCheck');
});

it('is off unless OTEL_* variables ask for it', () => {
  expect(tracesExportersFromEnv({})).toEqual([]);
  expect(createTracing({}, {})).toBeUndefined();
  expect(tracesExportersFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual(['otlp']);
  expect(tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'console, otlp' })).toEqual(['console', 'otlp']);
  expect(
    tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
  ).toEqual([]);
  expect(tracesExportersFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toEqual([]);
  expect(() => tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/otlp or console/);
  expect(() =>
    tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
  ).toThrow(/http\/protobuf/);
});
