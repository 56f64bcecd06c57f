/**
 * Durability: the worker process is killed while the workflow waits out `interval` (inside the
 * heartbeating polling activity); a new worker finishes the same run and CIBA's interval holds.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkStatus, startCheck } from '../client/index.js';
import {
  addScenarios,
  connectTestEnv,
  createTestWorker,
  simulatorStats,
  startWorkerProcess,
  uniqueNumber,
  uniqueTaskQueue,
  type TestEnv,
} from './support/harness.js';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

it('a new worker finishes a run whose worker was killed during the interval wait', async () => {
  const taskQueue = uniqueTaskQueue('restart');
  const msisdn = uniqueNumber();
  await addScenarios(env.simulatorUrl, {
    numbers: { [msisdn]: { interval: 4, connectivity: 'CONNECTED_DATA' } },
  });

  const first = await startWorkerProcess(taskQueue);
  const handle = await startCheck(
    env.client,
    { msisdn, operation: 'device-connectivity' },
    { taskQueue, subjectKey: 'restart-test' },
  );
  for (let i = 0; i < 50; i++) {
    const progress = await checkStatus(handle);
    if (progress.phase === 'waiting') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect((await checkStatus(handle)).phase).toBe('waiting');
  first.kill('SIGKILL');
  await once(first, 'exit');

  const second = await createTestWorker(env, taskQueue);
  const result = await second.runUntil(handle.result());
  expect(result.status).toBe('ok');
  expect(result.polls).toBe(1);
  expect(result.authorizations).toBe(1);
  const stats = await simulatorStats(env.simulatorUrl, msisdn);
  expect(stats.violations['poll-too-early'] ?? 0).toBe(0);
  const history = await handle.fetchHistory();
  const workerIdentities = new Set(
    history.events?.map((e) => e.workflowTaskStartedEventAttributes?.identity).filter(Boolean),
  );
  expect(workerIdentities.size).toBeGreaterThanOrEqual(2);
}, 120_000);

it('SIGTERM shuts the standalone worker down gracefully (exit 0)', async () => {
  const child = await startWorkerProcess(uniqueTaskQueue('sigterm'));
  child.kill('SIGTERM');
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  expect(signal).toBeNull();
  expect(code).toBe(0);
}, 120_000);

it('a worker with a bad key stops at start with exit code 2 and says what to fix', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/run.ts'], {
    env: {
      ...process.env,
      VONAGE_APPLICATION_ID: 'app',
      VONAGE_PRIVATE_KEY: 'not a key',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(2);
  expect(stderr).toMatch(/VONAGE_PRIVATE_KEY is not a PEM private key/);
}, 120_000);
