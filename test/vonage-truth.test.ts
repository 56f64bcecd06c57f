/**
 * Vonage as it answers today, end to end (real dev server, real worker, real HTTP to a
 * simulator): a retired SIM Swap route or a bc-authorize 404 is a configuration error naming the
 * path and the road to take, never an unknown number; a 409 for a concurrent request on the same
 * number is retried; one purpose never breaks the other API family; a carrier insight that keeps
 * failing transiently leaves a partial answer with its code instead of failing the check.
 */
import { createPublicKey } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBatch } from '../client/batch.js';
import { checkNumber } from '../client/index.js';
import type { BatchRecord } from '../domain/batch.js';
import { errorCodeOf } from '../domain/errors.js';
import type { CheckRequest } from '../domain/types.js';
import { startSimulator, type Simulator } from '../simulator/index.js';
import {
  createTestWorker,
  numberWith as numberOn,
  requestCount,
  simulatorStats,
  uniqueTaskQueue,
  useTestWorker,
} from './support/harness.js';

const ctx = useTestWorker('vonage-truth');
const subjectKey = 'vonage-truth-subject-key';

type Entry = Parameters<typeof numberOn>[1];
const numberWith = (entry: Entry) => numberOn(ctx.env.simulatorUrl, { interval: 0.2, ...entry });
const run = (request: CheckRequest, taskQueue = ctx.taskQueue) =>
  checkNumber(ctx.env.client, request, { taskQueue, subjectKey });

/** The messages of a failure chain. */
function serialize(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(e.message ?? '');
  }
  return parts.join(' | ');
}

describe('a simulator serving the SIM Swap routes as Vonage retired them', () => {
  // Its own simulator: the shared one serves the routes for every other test.
  let sim: Simulator;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('retired');

  beforeAll(async () => {
    sim = await startSimulator({
      applicationId: ctx.env.vonage.applicationId,
      publicKey: createPublicKey(ctx.env.vonage.privateKey),
      port: 0,
      interval: 0.2,
      scenarios: { retiredSimSwap: true },
    });
    worker = await createTestWorker(ctx.env, taskQueue, { vonage: { baseUrl: sim.url } });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await sim?.close();
  });

  it('sim-swap over camara fails the run CONFIGURATION: retired on 2025-11-23, use identity-insights', async () => {
    const err = await run({ msisdn: '+990123400', operation: 'sim-swap', api: 'camara' }, taskQueue).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(errorCodeOf(err)).toBe('CONFIGURATION');
    expect(serialize(err)).toMatch(
      /POST \/camara\/sim-swap\/v040\/check\) answered HTTP 404 NOT_FOUND.*Vonage retired its standalone SIM Swap API .* on 2025-11-23.*--api identity-insights/,
    );
    // The same number over Identity Insights answers, and Device Status over CIBA still does.
    expect(
      await run({ msisdn: '+990123400', operation: 'sim-swap', api: 'identity-insights' }, taskQueue),
    ).toMatchObject({ status: 'ok', data: { swapped: false } });
    expect(await run({ msisdn: '+99012345622', operation: 'device-roaming' }, taskQueue)).toMatchObject({
      status: 'ok',
      data: { roaming: true, countryCode: 262 },
    });
  });
});

describe('answers that used to look like data about the number', () => {
  it('a bc-authorize 404 fails the run CONFIGURATION naming the path, not UNKNOWN_NUMBER', async () => {
    const msisdn = await numberWith({ operatorServes: false });
    const err = await run({ msisdn, operation: 'device-roaming' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(errorCodeOf(err)).toBe('CONFIGURATION');
    expect(serialize(err)).toMatch(/POST \/oauth2\/bc-authorize\) answered HTTP 404/);
  });

  it('409 "another request is created for the same MSISDN" is retried, and the check answers', async () => {
    const msisdn = await numberWith({
      lastSimChangeHoursAgo: 2,
      faults: [
        {
          endpoint: 'camara',
          status: 409,
          code: 'CONFLICT',
          message: 'Another request is created for the same MSISDN',
        },
      ],
    });
    const result = await run({ msisdn, operation: 'sim-swap', maxAge: 24 });
    expect(result).toMatchObject({ status: 'ok', data: { swapped: true } });
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(requestCount(stats, 'sim-swap', 409)).toBe(1);
    expect(requestCount(stats, 'sim-swap', 200)).toBe(1);
  });
});

describe('purposes per API family, end to end', () => {
  it('one purpose on an item of both families: each family sends the one it takes, both answer', async () => {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 2, roaming: { roaming: false } });
    const handle = await startBatch(
      ctx.env.client,
      [
        {
          msisdn,
          operations: ['sim-swap', 'device-roaming'],
          maxAge: 24,
          purpose: 'NotApplicable',
          ref: 'one',
        },
        {
          msisdn,
          operations: ['sim-swap-date', 'device-connectivity'],
          purpose: 'sim-swap=FraudPreventionAndDetection,device-status=NotApplicable',
          ref: 'map',
        },
      ],
      { batchId: `purposes-${Date.now()}`, taskQueue: ctx.taskQueue, subjectKey },
    );
    const records: BatchRecord[] = [];
    for await (const record of handle.results({ pollIntervalMs: 200 })) records.push(record);
    expect(records).toHaveLength(4);
    for (const record of records) {
      expect(
        record.outcome,
        `${record.ref} ${record.operation}: ${JSON.stringify(record.error ?? record.result?.error)}`,
      ).toBe('ok');
    }
  });
});

describe('Identity Insights: a carrier insight that keeps failing transiently', () => {
  it('leaves a partial answer — missing, with the code — instead of failing the check', async () => {
    const msisdn = await numberWith({
      carrier: {
        valid: true,
        countryCode: 'GB',
        countryName: 'United Kingdom',
        original: { name: 'Old Net', networkType: 'MOBILE', networkCode: '23410', countryCode: 'GB' },
        current: { name: 'New Net', networkType: 'MOBILE', networkCode: '23420', countryCode: 'GB' },
      },
      insights: { current_carrier: { status: 'SUPPLIER_ERROR' } },
    });
    const partial = {
      status: 'ok',
      api: 'identity-insights',
      data: { valid: true, countryCode: 'GB', originalCarrier: { name: 'Old Net' } },
      missing: ['currentCarrier'],
      missingCodes: { currentCarrier: 'SUPPLIER_ERROR' },
    };
    const result = await run({ msisdn, operation: 'carrier' });
    expect(result).toMatchObject(partial);
    expect(result.data).not.toHaveProperty('currentCarrier');
    // The same in bulk mode, where a chunk runs the activity itself.
    const handle = await startBatch(ctx.env.client, [{ msisdn, operations: ['carrier'], ref: 'bulk' }], {
      batchId: `partial-bulk-${Date.now()}`,
      taskQueue: ctx.taskQueue,
      subjectKey,
      bulk: true,
    });
    const records: BatchRecord[] = [];
    for await (const record of handle.results({ pollIntervalMs: 200 })) records.push(record);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'ok', result: partial });
  });
});
