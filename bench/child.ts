/**
 * The measured process: either the raw flow or a netcheck worker. The parent forks it, samples
 * its CPU and peak memory from /proc, and talks to it over IPC (messages below).
 */
import { createPrivateKey } from 'node:crypto';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type HttpOptions } from '../activities/index.js';
import { netcheckPlugin } from '../worker/plugin.js';
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
  | { kind: 'raw'; vonage: VonageSettings; count: number; run: number; concurrency: number }
  | {
      kind: 'worker';
      vonage: VonageSettings;
      address: string;
      taskQueue: string;
      bundlePath: string;
      rateLimit?: number;
      tuning: WorkerTuning;
    }
  | { kind: 'stop' };

export type ChildMessage =
  | { kind: 'raw-done'; checks: TimedCheck[] }
  | { kind: 'ready' }
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
    const checks = await runRaw(activities, benchRequests(message.count, message.run), message.concurrency);
    await send({ kind: 'raw-done', checks });
  } finally {
    await activities.close();
  }
}

async function worker(message: Extract<ParentMessage, { kind: 'worker' }>): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: message.address });
  const w = await Worker.create({
    connection,
    taskQueue: message.taskQueue,
    workflowBundle: { codePath: message.bundlePath },
    plugins: [
      netcheckPlugin({
        ...vonageDeps(message.vonage),
        ...(message.rateLimit !== undefined ? { rateLimit: message.rateLimit } : {}),
      }),
    ],
    ...message.tuning,
  });
  process.on('message', (m: ParentMessage) => {
    if (m.kind === 'stop') w.shutdown();
  });
  const running = w.run();
  await send({ kind: 'ready' });
  await running;
  await connection.close();
  await send({ kind: 'stopped' });
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
