/**
 * What a test file needs to talk to the run's shared dev server and simulator (started by
 * global-setup.ts): clients, a worker on the test's own task queue, simulator scenarios and stats.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { createTestWorker as createNetcheckTestWorker } from '../../testing/index.js';
import type { NetcheckPluginOptions } from '../../worker/plugin.js';
import type { ScenarioFile } from '../../simulator/index.js';
import { prebuiltBundleEnv } from './bundles.js';

// Workers in tests log warnings and errors only (activity retries, failures); info lines would bury them.
Runtime.install({
  logger: new DefaultLogger(process.env.NETCHECK_TEST_LOG_LEVEL === 'INFO' ? 'INFO' : 'WARN'),
});

export interface TestEnv {
  client: Client;
  nativeConnection: NativeConnection;
  simulatorUrl: string;
  vonage: Pick<NetcheckPluginOptions, 'applicationId' | 'privateKey' | 'baseUrl'>;
  close(): Promise<void>;
}

export async function connectTestEnv(): Promise<TestEnv> {
  const address = inject('temporalAddress');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const simulatorUrl = inject('simulatorUrl');
  return {
    client: new Client({ connection }),
    nativeConnection,
    simulatorUrl,
    vonage: {
      applicationId: inject('applicationId'),
      privateKey: createPrivateKey(inject('privateKeyPem')),
      baseUrl: simulatorUrl,
    },
    async close() {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

let counter = 0;
/** A fresh number for one test (so tests sharing the simulator never share a number). */
export function uniqueNumber(): string {
  const suffix =
    (Date.now() % 1e6).toString().padStart(6, '0') + (counter++ % 1000).toString().padStart(3, '0');
  return `+44${(process.pid % 100).toString().padStart(2, '0')}${suffix}`;
}

/**
 * A worker with the netcheck plugin, against the shared simulator, using the pre-built workflow
 * bundle: built through `netcheck/testing`'s createTestWorker, as a user's tests build theirs.
 */
export async function createTestWorker(
  env: TestEnv,
  taskQueue: string,
  overrides: Partial<WorkerOptions> & { vonage?: Partial<NetcheckPluginOptions> } = {},
): Promise<Worker> {
  const { vonage = {}, ...workerOptions } = overrides;
  return createNetcheckTestWorker(
    env,
    {
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      ...workerOptions,
    },
    vonage,
  );
}

export async function addScenarios(simulatorUrl: string, scenarios: ScenarioFile): Promise<void> {
  const res = await fetch(`${simulatorUrl}/__simulator/scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(scenarios),
  });
  if (!res.ok) throw new Error(`adding scenarios failed: ${res.status} ${await res.text()}`);
}

export interface NumberStats {
  requests: Record<string, Record<string, number>>;
  violations: Record<string, number>;
  total: number;
}

export async function simulatorStats(simulatorUrl: string, msisdn?: string): Promise<NumberStats> {
  const query = msisdn ? `?msisdn=${encodeURIComponent(msisdn)}` : '';
  const res = await fetch(`${simulatorUrl}/__simulator/stats${query}`);
  if (!res.ok) throw new Error(`stats failed: ${res.status}`);
  return (await res.json()) as NumberStats;
}

/** Requests to one endpoint (all statuses, or one). */
export function requestCount(stats: NumberStats, endpoint: string, status?: number): number {
  const byStatus = Object.entries(stats.requests).find(([name]) => name.includes(endpoint))?.[1] ?? {};
  if (status !== undefined) return byStatus[String(status)] ?? 0;
  return Object.values(byStatus).reduce((a, b) => a + b, 0);
}

/**
 * For a test file: connect in beforeAll, run one worker on a fresh task queue, and stop both in
 * afterAll. Read `env` and `taskQueue` inside tests (they are set once beforeAll has run).
 */
export function useTestWorker(prefix: string): { readonly env: TestEnv; readonly taskQueue: string } {
  const ctx = { env: undefined as unknown as TestEnv, taskQueue: uniqueTaskQueue(prefix) };
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    ctx.env = await connectTestEnv();
    worker = await createTestWorker(ctx.env, ctx.taskQueue);
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await ctx.env?.close();
  });
  return ctx;
}

/** A worker process that has said it is polling, with its exit and everything it printed. */
export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

/**
 * Spawns a worker command and resolves once it prints "polling task queue"; rejects with its
 * output if it exits first.
 */
export async function spawnWorker(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('polling task queue')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`worker exited early (${code}):\n${output}`)));
  });
  return { child, exited, output: () => output };
}

/** The standalone worker (`npm run worker`) as a real child process, configured from the environment. */
export async function startWorkerProcess(
  taskQueue: string,
  baseUrl = inject('simulatorUrl'),
  extraEnv: Record<string, string> = {},
): Promise<ChildProcess> {
  const { child } = await spawnWorker(['--import', 'tsx', 'worker/run.ts'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      VONAGE_APPLICATION_ID: inject('applicationId'),
      VONAGE_PRIVATE_KEY: inject('privateKeyPem'),
      VONAGE_API_BASE_URL: baseUrl,
      NETCHECK_TASK_QUEUE: taskQueue,
      ...prebuiltBundleEnv(extraEnv),
      ...extraEnv,
    },
  });
  return child;
}

/** A fresh number with this scenario entry on the shared simulator. */
export async function numberWith(
  simulatorUrl: string,
  entry: NonNullable<ScenarioFile['numbers']>[string],
): Promise<string> {
  const msisdn = uniqueNumber();
  await addScenarios(simulatorUrl, { numbers: { [msisdn]: entry } });
  return msisdn;
}
