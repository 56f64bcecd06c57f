/**
 * The measured process: either the raw flow or a netcheck worker. The parent forks it, samples
 * its CPU and peak memory from /proc, and talks to it over IPC (messages below).
 */
import { createPrivateKey } from 'node:crypto';
import { Client } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  type LogLevel,
  Runtime,
  type WorkerOptions,
} from '@temporalio/worker';
import { createActivities, type HttpOptions } from '../activities/index.js';
import { checkNumber } from '../client/index.js';
import { assembleWorker } from '../worker/assemble.js';
import { benchRequests } from './numbers.js';
import { runRaw, type TimedCheck } from './raw.js';

export interface VonageSettings {
  applicationId: string;
  privateKeyPem: string;
  baseUrl: string;
  http?: HttpOptions;
}

/** Worker options the benchmark may tune (the rest are netcheck's / the SDK's defaults). */
export type WorkerTuning = Pick<
  WorkerOptions,
  | 'maxConcurrentActivityTaskExecutions'
  | 'maxConcurrentLocalActivityExecutions'
  | 'maxConcurrentWorkflowTaskExecutions'
  | 'maxCachedWorkflows'
  | 'maxConcurrentWorkflowTaskPolls'
  | 'maxConcurrentActivityTaskPolls'
  | 'nonStickyToStickyPollRatio'
  | 'workflowThreadPoolSize'
  | 'reuseV8Context'
  | 'workflowTaskPollerBehavior'
  | 'activityTaskPollerBehavior'
>;

export type ParentMessage =
  | {
      kind: 'raw';
      vonage: VonageSettings;
      count: number;
      run: number;
      concurrency: number;
      /** Checks run (one at a time) and not timed before the timed ones. */
      warmup?: number;
    }
  | {
      kind: 'worker';
      vonage: VonageSettings;
      address: string;
      taskQueue: string;
      bundlePath: string;
      rateLimit?: number;
      tuning: WorkerTuning;
      /** The worker's log level (default WARN; the fault run's retried 503s and 429s would each log a warning). */
      logLevel?: LogLevel;
    }
  | { kind: 'singles'; count: number; warmup: number; run: number; fast: boolean; eager: boolean }
  | { kind: 'stop' };

export type ChildMessage =
  | { kind: 'raw-done'; checks: TimedCheck[] }
  | { kind: 'ready' }
  | { kind: 'singles-done'; checks: TimedCheck[]; eagerStarts: number }
  | { kind: 'stopped' }
  | { kind: 'error'; message: string };

const send = (message: ChildMessage) =>
  new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));

function vonageDeps(v: VonageSettings) {
  return {
    applicationId: v.applicationId,
    privateKey: createPrivateKey(v.privateKeyPem),
    baseUrl: v.baseUrl,
    ...(v.http ? { http: v.http } : {}),
  };
}

async function raw(message: Extract<ParentMessage, { kind: 'raw' }>): Promise<void> {
  const activities = createActivities(vonageDeps(message.vonage));
  try {
    if (message.warmup) await runRaw(activities, benchRequests(message.warmup, 99), 1);
    const checks = await runRaw(activities, benchRequests(message.count, message.run), message.concurrency);
    await send({ kind: 'raw-done', checks });
  } finally {
    await activities.close();
  }
}

async function worker(message: Extract<ParentMessage, { kind: 'worker' }>): Promise<void> {
  Runtime.install({ logger: new DefaultLogger(message.logLevel ?? 'WARN') });
  const connection = await NativeConnection.connect({ address: message.address });
  const w = await assembleWorker({
    connection,
    taskQueue: message.taskQueue,
    workflowBundle: { codePath: message.bundlePath },
    netcheck: {
      ...vonageDeps(message.vonage),
      ...(message.rateLimit !== undefined ? { rateLimit: message.rateLimit } : {}),
    },
    ...message.tuning,
  });
  // Clients on the worker's own NativeConnection (what eager workflow start needs); the second
  // asks for eager start on every start, so the project's own checkNumber() runs unchanged.
  const client = new Client({ connection });
  let eagerStarts = 0;
  const eagerClient = new Client({
    connection,
    interceptors: {
      workflow: [
        {
          async startWithDetails(input, next) {
            const output = await next({ ...input, options: { ...input.options, requestEagerStart: true } });
            if (output.eagerlyStarted) eagerStarts++;
            return output;
          },
        },
      ],
    },
  });
  process.on('message', (m: ParentMessage) => {
    if (m.kind === 'stop') w.shutdown();
    if (m.kind === 'singles') {
      singles(m.eager ? eagerClient : client, message.taskQueue, m).then(
        (checks) => send({ kind: 'singles-done', checks, eagerStarts }),
        (err: unknown) => send({ kind: 'error', message: String(err) }),
      );
    }
  });
  const running = w.run();
  await send({ kind: 'ready' });
  await running;
  await connection.close();
  await send({ kind: 'stopped' });
}

/** Checks one at a time through the client API: start → result, wall time each. */
async function singles(
  client: Client,
  taskQueue: string,
  m: Extract<ParentMessage, { kind: 'singles' }>,
): Promise<TimedCheck[]> {
  const out: TimedCheck[] = [];
  for (const request of [...benchRequests(m.warmup, 99), ...benchRequests(m.count, m.run)]) {
    const start = Date.now();
    const result = await checkNumber(client, request, {
      taskQueue,
      subjectKey: 'bench',
      fast: m.fast,
    });
    out.push({ start, end: Date.now(), ok: result.status === 'ok' });
  }
  return out.slice(m.warmup);
}

process.once('message', (message: ParentMessage) => {
  const job = message.kind === 'raw' ? raw(message) : message.kind === 'worker' ? worker(message) : undefined;
  job
    ?.catch(async (err: unknown) => {
      await send({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exitCode = 1;
    })
    .finally(() => process.disconnect());
});
