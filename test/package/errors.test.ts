/** The error model users catch, and the one walker of cause chains. No server needed. */
import { ApplicationFailure, ActivityFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { exitCodeOf, EXIT } from '../../cli/errors.js';
import { TemporalCliUnavailableError } from '../../cli/stack/temporal-cli.js';
import {
  causeChain,
  ConfigurationError,
  errorCodeOf,
  InvalidRequestError,
  NetcheckError,
  netcheckFailure,
  UsageError,
} from '../../domain/errors.js';

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
