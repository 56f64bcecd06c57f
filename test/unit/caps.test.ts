/**
 * Caps (issue 21, item 4), the parts that need no server: execution timeout settings, the rate
 * bounds everywhere a rate is taken, and the batch row cap of the library and the CLI. Every
 * refusal happens before anything is started (the client given here throws if it is touched).
 */
import type { Client } from '@temporalio/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchTooLargeError, MAX_BATCH_ITEMS, startBatch } from '../../client/batch.js';
import { startCheck } from '../../client/index.js';
import { parseBatchInput } from '../../cli/input.js';
import { batchOptionsProblem } from '../../domain/batch-options.js';
import { ConfigurationError, NetcheckError, UsageError } from '../../domain/errors.js';
import {
  DEFAULT_BATCH_TIMEOUT_MS,
  DEFAULT_CHECK_TIMEOUT_MS,
  parseDuration,
  resolveExecutionTimeout,
} from '../../domain/timeouts.js';
import { loadConfig } from '../../worker/config.js';
import { NetcheckPlugin } from '../../worker/plugin.js';
import { QueueRateLimit } from '../../worker/rate-limit.js';
import { makeKeys } from '../support/keys.js';

const keys = makeKeys();
const SUBJECT_KEY = 'caps-test-subject-key-of-at-least-32-bytes';

/** A client that fails the test if anything reaches it: every refusal must come first. */
const untouchable = new Proxy({} as Client, {
  get(_target, property) {
    throw new Error(`the client was used (${String(property)}) before the refusal`);
  },
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('execution timeouts: settings', () => {
  it('reads durations with a unit, and refuses a bare number (seconds or milliseconds?)', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration(' 2 hours ')).toBe(7_200_000);
    expect(parseDuration('7d')).toBe(DEFAULT_BATCH_TIMEOUT_MS);
    expect(parseDuration('3600')).toBeUndefined();
    expect(parseDuration('1e3s')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
  });

  it('the option wins over the variable, the variable over the default', () => {
    expect(resolveExecutionTimeout('check', undefined, {})).toBe(DEFAULT_CHECK_TIMEOUT_MS);
    expect(DEFAULT_CHECK_TIMEOUT_MS).toBe(3_600_000);
    expect(resolveExecutionTimeout('batch', undefined, {})).toBe(7 * 24 * 3_600_000);
    expect(resolveExecutionTimeout('check', undefined, { NETCHECK_CHECK_TIMEOUT: '90m' })).toBe(5_400_000);
    expect(resolveExecutionTimeout('batch', undefined, { NETCHECK_BATCH_TIMEOUT: '36h' })).toBe(
      36 * 3_600_000,
    );
    expect(resolveExecutionTimeout('check', '2m', { NETCHECK_CHECK_TIMEOUT: '90m' })).toBe(120_000);
    expect(resolveExecutionTimeout('check', 5_000, {})).toBe(5_000);
  });

  it.each([
    ['NETCHECK_CHECK_TIMEOUT', 'check', { NETCHECK_CHECK_TIMEOUT: '3600' }, undefined],
    ['NETCHECK_CHECK_TIMEOUT', 'check', { NETCHECK_CHECK_TIMEOUT: '' }, undefined],
    ['NETCHECK_BATCH_TIMEOUT', 'batch', { NETCHECK_BATCH_TIMEOUT: '400d' }, undefined],
    ['NETCHECK_BATCH_TIMEOUT', 'batch', { NETCHECK_BATCH_TIMEOUT: '0s' }, undefined],
    ['executionTimeout', 'check', {}, 'forever'],
    ['executionTimeout', 'check', {}, 10],
  ] as const)('%s of %j is a ConfigurationError naming it', (name, kind, env, explicit) => {
    const err = thrown(() => resolveExecutionTimeout(kind, explicit, env));
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).problems.join('\n')).toContain(name);
  });

  it('startCheck refuses a bad timeout (option or NETCHECK_CHECK_TIMEOUT) before it starts anything', async () => {
    const request = { msisdn: '+447700900001', operation: 'sim-swap' as const };
    await expect(
      startCheck(untouchable, request, { subjectKey: SUBJECT_KEY, executionTimeout: 'a while' }),
    ).rejects.toThrow(/executionTimeout must be a duration/);
    vi.stubEnv('NETCHECK_CHECK_TIMEOUT', '60');
    await expect(startCheck(untouchable, request, { subjectKey: SUBJECT_KEY })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });

  it('startBatch refuses a bad batch or check timeout before it starts anything', async () => {
    const items = [{ msisdn: '+447700900001', operations: ['sim-swap' as const] }];
    const base = { batchId: 'caps-timeouts', subjectKey: SUBJECT_KEY };
    await expect(startBatch(untouchable, items, { ...base, executionTimeout: '1y' })).rejects.toThrow(
      /executionTimeout must be a duration/,
    );
    await expect(startBatch(untouchable, items, { ...base, checkTimeout: '500ms' })).rejects.toThrow(
      /checkTimeout must be from 1s to 366d/,
    );
    vi.stubEnv('NETCHECK_BATCH_TIMEOUT', 'weekly');
    await expect(startBatch(untouchable, items, base)).rejects.toThrow(/NETCHECK_BATCH_TIMEOUT/);
  });

  it('a batch takes checkTimeout as whole milliseconds within bounds, and only without bulk', () => {
    expect(batchOptionsProblem({ checkTimeout: 60_000 })).toBeUndefined();
    expect(batchOptionsProblem({ checkTimeout: 999 })).toMatch(/checkTimeout must be a whole number/);
    expect(batchOptionsProblem({ checkTimeout: '1h' })).toMatch(/checkTimeout must be a whole number/);
    expect(batchOptionsProblem({ checkTimeout: 60_000, bulk: true })).toMatch(
      /checkTimeout applies to per-check batches only/,
    );
  });
});

describe('rate bounds: 0.1 to 10,000 requests per second wherever a rate is taken', () => {
  const workerEnv = {
    VONAGE_APPLICATION_ID: 'app',
    VONAGE_PRIVATE_KEY: keys.privateKeyPem,
  };

  it.each(['0.05', '0.099', '10001', '1e12', '0'])('NETCHECK_RATE_LIMIT=%s is refused', (rate) => {
    const err = thrown(() => loadConfig({ ...workerEnv, NETCHECK_RATE_LIMIT: rate }));
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).problems).toEqual([
      expect.stringMatching(
        /NETCHECK_RATE_LIMIT must be a number of requests per second from 0\.1 to 10,000/,
      ),
    ]);
  });

  it.each([
    ['0.1', 0.1],
    ['10000', 10_000],
    ['50', 50],
  ])('NETCHECK_RATE_LIMIT=%s is taken', (rate, expected) => {
    expect(loadConfig({ ...workerEnv, NETCHECK_RATE_LIMIT: rate }).rateLimit).toBe(expected);
  });

  it.each([
    ['rateLimit', { rateLimit: 0.01 }],
    ['rateLimit', { rateLimit: 1e6 }],
    ['rateLimit', { rateLimit: Infinity }],
    ['http.maxRequestsPerSecond', { http: { maxRequestsPerSecond: 50_000 } }],
    ['http.maxRequestsPerSecond', { http: { maxRequestsPerSecond: 0.001 } }],
  ])('the plugin refuses %s of %j', (name, override) => {
    const vonage = { applicationId: 'app', privateKey: keys.privateKey, baseUrl: 'http://127.0.0.1:9' };
    const err = thrown(() => new NetcheckPlugin({ ...vonage, ...override }));
    expect(err).toBeInstanceOf(ConfigurationError);
    expect(err).toBeInstanceOf(NetcheckError);
    expect((err as Error).message).toContain(`${name} must be a positive number of requests per second`);
    expect((err as Error).message).toContain('from 0.1 to 10,000');
  });

  it('the queue-wide limiter itself refuses an absurd rate', () => {
    expect(thrown(() => new QueueRateLimit(20_000))).toBeInstanceOf(ConfigurationError);
    expect(new QueueRateLimit(0.1).perSecond).toBe(0.1);
  });

  it("a bulk batch's rateLimit is refused outside the bounds (runs already going keep theirs)", () => {
    expect(batchOptionsProblem({ bulk: true, rateLimit: 0.1 })).toBeUndefined();
    expect(batchOptionsProblem({ bulk: true, rateLimit: 10_000 })).toBeUndefined();
    expect(batchOptionsProblem({ bulk: true, rateLimit: 0.05 })).toMatch(
      /rateLimit must be a number of requests per second from 0\.1 to 10,000/,
    );
    expect(batchOptionsProblem({ bulk: true, rateLimit: 50_000 })).toMatch(/from 0\.1 to 10,000/);
    // What a batch started before the bounds may carry on with (workflows/batch.ts).
    expect(batchOptionsProblem({ bulk: true, rateLimit: 50_000 }, { legacyRate: true })).toBeUndefined();
  });

  it('startBatch refuses an absurd bulk rate before it starts anything', async () => {
    const items = [{ msisdn: '+447700900001', operations: ['sim-swap' as const] }];
    const err = await startBatch(untouchable, items, {
      batchId: 'caps-rate',
      subjectKey: SUBJECT_KEY,
      bulk: true,
      rateLimit: 20_000,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /rateLimit must be a number of requests per second from 0\.1 to 10,000/,
    );
  });
});

describe('batch row cap', () => {
  it(`startBatch refuses an array of more than ${MAX_BATCH_ITEMS} items before it starts anything`, async () => {
    const item = { msisdn: '+447700900001', operations: ['sim-swap' as const] };
    const items = new Array<typeof item>(MAX_BATCH_ITEMS + 1).fill(item);
    const err = await startBatch(untouchable, items, { batchId: 'caps-rows', subjectKey: SUBJECT_KEY }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BatchTooLargeError);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as BatchTooLargeError).limit).toBe(1_000_000);
    expect((err as Error).message).toMatch(/more than 1,000,000 items/);
    expect((err as Error).message).toMatch(/Split the input into parts of at most 1,000,000 items/);
  });

  it('maxItems lowers the cap, and never raises it', async () => {
    const items = [1, 2, 3].map(() => ({ msisdn: '+447700900001', operations: ['sim-swap' as const] }));
    const base = { batchId: 'caps-max-items', subjectKey: SUBJECT_KEY };
    await expect(startBatch(untouchable, items, { ...base, maxItems: 2 })).rejects.toThrow(
      /more than 2 items.*\(maxItems\)/,
    );
    await expect(startBatch(untouchable, items, { ...base, maxItems: MAX_BATCH_ITEMS + 1 })).rejects.toThrow(
      /maxItems must be a whole number from 1 to 1000000/,
    );
  });

  it(`the CLI refuses a JSON-lines input of ${MAX_BATCH_ITEMS + 1} rows, naming the cap and how to split`, () => {
    const bytes = Buffer.from('{"msisdn":"+447700900001"}\n'.repeat(MAX_BATCH_ITEMS + 1));
    const err = thrown(() => parseBatchInput(bytes, 'numbers.jsonl', { operations: ['sim-swap'] }));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(
      /^numbers\.jsonl has more than 1,000,000 rows, the most one batch takes: split it into parts of at most 1,000,000 rows/,
    );
  });

  it('the CLI refuses a CSV input of more rows than the cap (the header is not a row), naming the cap', () => {
    // A smaller cap keeps the test fast: CSV rows are counted by the same parser that reads them.
    const bytes = Buffer.from('msisdn\n' + '+447700900001\n'.repeat(1_001));
    const err = thrown(() => parseBatchInput(bytes, '-', { operations: ['sim-swap'] }, 1_000));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^stdin has more than 1,000 rows/);
    expect((err as Error).message).toMatch(/each CSV part with the header line/);
  });

  it('exactly the cap is taken (a lower cap, to keep the test small)', () => {
    const csv = Buffer.from('msisdn\n' + '+447700900001\n'.repeat(3));
    expect(parseBatchInput(csv, 'a.csv', { operations: ['sim-swap'] }, 3).items).toHaveLength(3);
    expect(() => parseBatchInput(csv, 'a.csv', { operations: ['sim-swap'] }, 2)).toThrow(/more than 2 rows/);
    const jsonl = Buffer.from('{"msisdn":"+447700900001"}\n\n'.repeat(3));
    expect(parseBatchInput(jsonl, 'a.jsonl', { operations: ['sim-swap'] }, 3).items).toHaveLength(3);
    expect(() => parseBatchInput(jsonl, 'a.jsonl', { operations: ['sim-swap'] }, 2)).toThrow(
      /more than 2 rows/,
    );
  });
});
