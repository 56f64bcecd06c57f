/**
 * The error model users catch, and the one walker of cause chains. No server needed: every
 * public entry refuses bad input before it talks to Temporal (the client below connects lazily
 * and never does).
 */
import { generateKeyPairSync } from 'node:crypto';
import { Client } from '@temporalio/client';
import {
  ApplicationFailure,
  ActivityFailure,
  ChildWorkflowFailure,
  RetryState,
  type SearchAttributePair,
} from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as netcheck from '../../index.js';
import { exitCodeOf, EXIT, explainCommandError } from '../../cli/errors.js';
import { TemporalCliUnavailableError } from '../../cli/stack/temporal-cli.js';
import { explainMissingPackage, importOptional, OPTIONAL_PACKAGES } from '../../common/optional.js';
import {
  causeChain,
  ConfigurationError,
  errorCodeOf,
  InvalidRequestError,
  MissingPackageError,
  NetcheckError,
  netcheckFailure,
  UsageError,
} from '../../domain/errors.js';
import { NetcheckSubject } from '../../domain/search-attributes.js';

describe('NetcheckError and its subclasses', () => {
  it.each([
    [
      new ConfigurationError(['Set VONAGE_APPLICATION_ID.', 'Set VONAGE_PRIVATE_KEY_PATH.']),
      'CONFIGURATION',
      'ConfigurationError',
    ],
    [new InvalidRequestError('msisdn must be E.164'), 'INVALID_INPUT', 'InvalidRequestError'],
    [new UsageError('--op needs an operation'), 'USAGE', 'UsageError'],
  ])('%s has a stable code and its class name', (err, code, name) => {
    expect(err).toBeInstanceOf(NetcheckError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(err.name).toBe(name);
    expect(exitCodeOf(err)).toBe(EXIT.USAGE);
  });

  it('a ConfigurationError lists every problem in its message', () => {
    const err = new ConfigurationError(['first thing to set', 'second thing to set']);
    expect(err.problems).toEqual(['first thing to set', 'second thing to set']);
    expect(err.message).toMatch(/first thing to set\n.*second thing to set/);
  });

  it('the CLI exits 2 on a missing Temporal CLI too, 1 on anything else', () => {
    expect(exitCodeOf(new TemporalCliUnavailableError('install Go or set TEMPORAL_CLI_PATH'))).toBe(
      EXIT.USAGE,
    );
    expect(exitCodeOf(new Error('connection refused'))).toBe(EXIT.ERROR);
    expect(exitCodeOf('a string')).toBe(EXIT.ERROR);
  });
});

describe('causeChain and errorCodeOf', () => {
  it('walks cause links, and the first error of an AggregateError', () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const aggregate = new AggregateError([socket], 'all attempts failed');
    const top = new TypeError('fetch failed', { cause: aggregate });
    expect(causeChain(top)).toEqual([top, aggregate, socket]);
  });

  it('stops at the limit and at a cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(causeChain(b)).toEqual([b, a]);
    let deep: Error = new Error('0');
    for (let i = 1; i < 20; i++) deep = new Error(String(i), { cause: deep });
    expect(causeChain(deep)).toHaveLength(8);
    expect(causeChain(deep, 3)).toHaveLength(3);
  });

  it('finds the netcheck code under Temporal wrappers', () => {
    const failure = netcheckFailure('ACCESS_DENIED', 'the subscriber refused');
    const activity = new ActivityFailure(
      'activity failed',
      'authorize',
      '1',
      RetryState.NON_RETRYABLE_FAILURE,
      'id',
      failure,
    );
    const child = new ChildWorkflowFailure(
      'default',
      { workflowId: 'w', runId: 'r' },
      'networkCheck',
      RetryState.NON_RETRYABLE_FAILURE,
      activity,
    );
    expect(errorCodeOf(child)).toBe('ACCESS_DENIED');
    expect(errorCodeOf(ApplicationFailure.create({ type: 'SOMETHING_ELSE' }))).toBeUndefined();
    expect(errorCodeOf(undefined)).toBeUndefined();
  });
});

describe('every public entry refuses bad input with a NetcheckError and a stable code', () => {
  // Never connected: each call below must throw before it would talk to Temporal.
  const client = new Client();
  const key = 'errors-test-subject-key-of-at-least-32-bytes';
  const good = { msisdn: '+447700900001', operation: 'sim-swap' } as const;
  const previousKey = process.env.NETCHECK_SUBJECT_KEY;
  beforeAll(() => {
    process.env.NETCHECK_SUBJECT_KEY = key;
  });
  afterAll(() => {
    if (previousKey === undefined) delete process.env.NETCHECK_SUBJECT_KEY;
    else process.env.NETCHECK_SUBJECT_KEY = previousKey;
  });

  const cases: Array<[string, () => unknown, new (...args: never[]) => NetcheckError, string, RegExp]> = [
    [
      'startCheck: a number that is not E.164',
      () => netcheck.startCheck(client, { msisdn: '07700 900001', operation: 'sim-swap' }),
      InvalidRequestError,
      'INVALID_INPUT',
      /msisdn must be E\.164/,
    ],
    [
      'checkNumber: an unknown operation',
      () => netcheck.checkNumber(client, { msisdn: '+447700900001', operation: 'sim-swop' as 'sim-swap' }),
      InvalidRequestError,
      'INVALID_INPUT',
      /operation must be one of/,
    ],
    [
      "startCheck: one of netcheck's own search attributes",
      () =>
        netcheck.startCheck(client, good, { typedSearchAttributes: [{ key: NetcheckSubject, value: 'x' }] }),
      InvalidRequestError,
      'INVALID_INPUT',
      /NetcheckSubject is netcheck's own search attribute/,
    ],
    [
      'startCheck: a search attribute that is not a { key, value } pair',
      () =>
        netcheck.startCheck(client, good, {
          typedSearchAttributes: [{ AppTenant: 'acme' }] as unknown as SearchAttributePair[],
        }),
      InvalidRequestError,
      'INVALID_INPUT',
      /typedSearchAttributes\[0\] must be \{ key, value \}/,
    ],
    [
      'startCheck: a priority key of 0',
      () => netcheck.startCheck(client, good, { priority: { priorityKey: 0 } }),
      InvalidRequestError,
      'INVALID_INPUT',
      /priorityKey must be a whole number from 1/,
    ],
    [
      'startCheck: an id reuse policy netcheck does not take',
      () =>
        netcheck.startCheck(client, good, {
          workflowIdReusePolicy: 'TERMINATE_IF_RUNNING' as 'REJECT_DUPLICATE',
        }),
      InvalidRequestError,
      'INVALID_INPUT',
      /workflowIdReusePolicy must be one of/,
    ],
    [
      'checkNumber: a memo that is not an object',
      () => netcheck.checkNumber(client, good, { memo: 'note' as unknown as Record<string, unknown> }),
      InvalidRequestError,
      'INVALID_INPUT',
      /memo must be an object/,
    ],
    [
      'startBatch: a batch id with a space',
      () => netcheck.startBatch(client, [], { batchId: 'bad id!' }),
      InvalidRequestError,
      'INVALID_INPUT',
      /batchId must be 1–200 characters/,
    ],
    [
      'startBatch: items that are not iterable',
      () => netcheck.startBatch(client, 42 as unknown as [], { batchId: 'errors-test' }),
      InvalidRequestError,
      'INVALID_INPUT',
      /items must be an array, an iterable or an async iterable/,
    ],
    [
      'startBatch: a page size of 0',
      () => netcheck.startBatch(client, [], { batchId: 'errors-test', pageSize: 0 }),
      InvalidRequestError,
      'INVALID_INPUT',
      /pageSize must be a whole number/,
    ],
    [
      'startBatch: a concurrency out of bounds',
      () => netcheck.startBatch(client, [], { batchId: 'errors-test', concurrency: 0 }),
      InvalidRequestError,
      'INVALID_INPUT',
      /Invalid batch options: .*concurrency/,
    ],
    [
      "startBatch: netcheck's own memo key",
      () => netcheck.startBatch(client, [], { batchId: 'errors-test', memo: { netcheckInput: 'x' } }),
      InvalidRequestError,
      'INVALID_INPUT',
      /memo key netcheckInput is netcheck's own/,
    ],
    [
      'getBatch: a batch id with a slash',
      () => netcheck.getBatch(client, 'a/b'),
      InvalidRequestError,
      'INVALID_INPUT',
      /batchId must be/,
    ],
    [
      'NetcheckPlugin: an unknown searchAttributeCheck',
      () =>
        new netcheck.NetcheckPlugin({
          applicationId: '00000000-0000-4000-8000-000000000000',
          privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
          baseUrl: 'https://api-eu.vonage.com',
          searchAttributeCheck: 'sometimes' as 'warn',
        }),
      ConfigurationError,
      'CONFIGURATION',
      /searchAttributeCheck must be warn, fail or off/,
    ],
  ];

  it.each(cases)('%s', async (_name, call, errorClass, code, message) => {
    let caught: unknown;
    try {
      await call();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(errorClass);
    expect(caught).toBeInstanceOf(NetcheckError);
    expect((caught as NetcheckError).code).toBe(code);
    expect((caught as Error).message).toMatch(message);
    // The CLI exits 2 on bad input and configuration: the message says what to fix.
    expect(exitCodeOf(caught)).toBe(EXIT.USAGE);
  });

  it('the root exports the batch errors, and they are NetcheckErrors with stable codes', () => {
    const closed = new netcheck.BatchClosedError('nightly', 'TERMINATED', 'terminated by an operator');
    expect(closed).toBeInstanceOf(NetcheckError);
    expect(closed.code).toBe('BATCH_CLOSED');
    expect(closed.name).toBe('BatchClosedError');
    expect(closed.message).toMatch(/batch nightly is terminated .*netcheck results nightly/);
    // Not the caller's mistake: the CLI exits 1, as it did before the class had a code.
    expect(exitCodeOf(closed)).toBe(EXIT.ERROR);
    const conflict = new netcheck.BatchConflictError('nightly');
    expect(conflict).toBeInstanceOf(NetcheckError);
    expect(conflict.code).toBe('USAGE');
    expect(exitCodeOf(conflict)).toBe(EXIT.USAGE);
    expect(netcheck.BatchTooLargeError.prototype).toBeInstanceOf(NetcheckError);
  });
});

describe('a missing optional package', () => {
  // What Node throws when `import('@temporalio/worker')` finds no such package.
  const notFound = (name: string) =>
    Object.assign(new Error(`Cannot find package '${name}' imported from /app/dist/worker/index.js`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });

  it('becomes a MissingPackageError naming what to install, and the CLI exits 2 on it', () => {
    const raw = notFound('@temporalio/worker');
    expect(exitCodeOf(raw)).toBe(EXIT.USAGE);
    const explained = explainCommandError(raw, 'worker');
    expect(explained).toBeInstanceOf(MissingPackageError);
    expect(explained).toBeInstanceOf(ConfigurationError);
    expect((explained as MissingPackageError).packages).toEqual([
      `@temporalio/worker@${OPTIONAL_PACKAGES['@temporalio/worker']}`,
    ]);
    expect((explained as Error).message).toMatch(
      /`netcheck worker` needs @temporalio\/worker, which is not installed here\. .*npm install '@temporalio\/worker@\^1\.24\.0'/,
    );
  });

  it('names every package of the feature: tracing needs the OpenTelemetry SDK as well', async () => {
    const load = () => Promise.reject(notFound('@opentelemetry/sdk-trace-node'));
    const err = await importOptional('tracing', load).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPackageError);
    const names = (err as MissingPackageError).packages.map((spec) => spec.replace(/@[^@]*$/, ''));
    expect(names[0]).toBe('@opentelemetry/sdk-trace-node');
    expect(names).toEqual(
      expect.arrayContaining([
        '@temporalio/interceptors-opentelemetry',
        '@opentelemetry/exporter-trace-otlp-proto',
      ]),
    );
  });

  it('leaves other errors alone', () => {
    const other = Object.assign(new Error("Cannot find package 'left-pad'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    expect(explainMissingPackage(other)).toBe(other);
    expect(exitCodeOf(other)).toBe(EXIT.ERROR);
  });
});
