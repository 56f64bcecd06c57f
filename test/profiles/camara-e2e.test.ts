/**
 * `--profile camara` end to end: a worker serving the `camara` operator profile (OIDC discovery,
 * private_key_jwt, SIM Swap 2.1.0, Device Reachability/Roaming Status 1.1.0) against the
 * simulator's `camara` profile, reached through the library, the CLI (`netcheck check <n> --op
 * <op> --profile camara`, which finds the profile's default task queue), a batch and a bulk batch.
 * Every result has the operation's one shape and records the profile and API version.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkNumber } from '../../client/index.js';
import { startBatch } from '../../client/batch.js';
import type { BatchItem, BatchRecord } from '../../domain/batch.js';
import { CAMARA_OPERATION_NAMES, type CheckResult } from '../../domain/index.js';
import { profileTaskQueue } from '../../domain/profiles.js';
import type { Worker } from '@temporalio/worker';
import {
  addScenarios,
  connectTestEnv,
  createTestWorker,
  simulatorStats,
  uniqueNumber,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';
import { runCli, sharedStackEnv } from '../cli/support.js';

/** The camara profile's default task queue: the CLI finds it from --profile alone. */
const taskQueue = profileTaskQueue('camara', 'netcheck');
const subjectKey = 'camara-profile-test-subject-key-of-32-bytes';
const VERSIONS = {
  'sim-swap': '2.1.0',
  'sim-swap-date': '2.1.0',
  'device-connectivity': '1.1.0',
  'device-roaming': '1.1.0',
} as const;

let env: TestEnv;
let worker: Worker;
let running: Promise<void>;
const swapped = uniqueNumber();
const unknown = uniqueNumber();

beforeAll(async () => {
  env = await connectTestEnv();
  worker = await createTestWorker(env, taskQueue, {
    vonage: { camara: { issuer: env.simulatorUrl, keyId: 'netcheck-e2e' } },
  });
  running = worker.run();
  await addScenarios(env.simulatorUrl, {
    numbers: {
      [swapped]: {
        pendingPolls: 1,
        lastSimChangeHoursAgo: 3,
        connectivity: 'CONNECTED_DATA',
        roaming: { roaming: true, countryCode: 208, countryName: ['FR'] },
      },
      [unknown]: { unknown: true },
    },
  });
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.close();
});

function expectShape(result: CheckResult): void {
  expect(result).toMatchObject({ status: 'ok', api: 'camara', profile: 'camara' });
  expect(result.apiVersion).toBe(VERSIONS[result.operation as keyof typeof VERSIONS]);
  switch (result.operation) {
    case 'sim-swap':
      expect(result.data).toEqual({ swapped: true });
      break;
    case 'sim-swap-date':
      expect(Date.parse((result.data as { latestSimChange: string }).latestSimChange)).toBeGreaterThan(
        Date.now() - 4 * 3_600_000,
      );
      break;
    case 'device-connectivity':
      expect(result.data).toEqual({ connectivityStatus: 'CONNECTED_DATA' });
      break;
    case 'device-roaming':
      expect(result.data).toEqual({ roaming: true, countryCode: 208, countryName: ['FR'] });
      break;
  }
}

describe('the camara profile end to end', () => {
  it('library: every operation, and IDENTIFIER_NOT_FOUND as UNKNOWN_NUMBER', async () => {
    const results = await Promise.all(
      CAMARA_OPERATION_NAMES.map((operation) =>
        checkNumber(env.client, { msisdn: swapped, operation }, { profile: 'camara', subjectKey }),
      ),
    );
    results.forEach(expectShape);
    const missing = await checkNumber(
      env.client,
      { msisdn: unknown, operation: 'sim-swap' },
      { taskQueue, subjectKey },
    );
    expect(missing).toMatchObject({ status: 'failed', profile: 'camara', error: { code: 'UNKNOWN_NUMBER' } });
    const stats = await simulatorStats(env.simulatorUrl, swapped);
    expect(Object.entries(stats.violations).filter(([, n]) => n > 0)).toEqual([]);
  });

  it('CLI: netcheck check <n> --op <op> --profile camara, for every operation', async () => {
    const cliEnv: Record<string, string | undefined> = { ...sharedStackEnv(uniqueTaskQueue('unused')) };
    delete cliEnv.NETCHECK_TASK_QUEUE; // --profile alone picks the queue
    cliEnv.NETCHECK_SUBJECT_KEY = subjectKey;
    for (const operation of CAMARA_OPERATION_NAMES) {
      const run = await runCli(['check', swapped, '--op', operation, '--profile', 'camara', '--json'], {
        env: cliEnv,
      });
      expect(run.code, run.stderr).toBe(0);
      expectShape(JSON.parse(run.stdout) as CheckResult);
    }
  });

  it('CLI: Identity Insights (Vonage only) with --profile camara is a usage error', async () => {
    const cliEnv: Record<string, string | undefined> = { ...sharedStackEnv(uniqueTaskQueue('unused')) };
    const run = await runCli(['check', swapped, '--op', 'carrier', '--profile', 'camara'], { env: cliEnv });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Vonage's API, not served by the camara profile/);
  });

  for (const bulk of [false, true]) {
    it(`${bulk ? 'bulk' : 'batch'}: one record per operation, each with the profile`, async () => {
      const items: BatchItem[] = [{ msisdn: swapped, operations: [...CAMARA_OPERATION_NAMES], ref: 'x' }];
      // The per-check batch finds the profile's task queue from `profile` alone, as the CLI does.
      vi.stubEnv('NETCHECK_TASK_QUEUE', undefined);
      const handle = await startBatch(env.client, items, {
        batchId: `camara-${bulk ? 'bulk' : 'batch'}-${uniqueTaskQueue('b')}`,
        ...(bulk ? { taskQueue, bulk: true } : { profile: 'camara' as const }),
        subjectKey,
      }).finally(() => vi.unstubAllEnvs());
      const records: BatchRecord[] = [];
      for await (const record of handle.results({ pollIntervalMs: 200 })) records.push(record);
      expect(records).toHaveLength(CAMARA_OPERATION_NAMES.length);
      for (const record of records) {
        expect(record.outcome).toBe('ok');
        expectShape(record.result!);
      }
    });
  }
});
