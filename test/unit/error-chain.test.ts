/** domain/errors.ts: the one cause walk every layer uses for a failure's message and its timeouts. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { hasTimeout, innermostMessage } from '../../domain/errors.js';

const activityFailure = (cause: Error) =>
  new ActivityFailure('Activity task failed', 'netcheck.authorize', '1', undefined, undefined, cause);

describe('innermostMessage', () => {
  it('is the deepest cause, not "Activity task failed"', () => {
    const err = activityFailure(
      ApplicationFailure.create({ type: 'ACCESS_DENIED', message: 'consent refused' }),
    );
    expect(innermostMessage(err)).toBe('consent refused');
  });

  it('follows an AggregateError into its first error', () => {
    expect(
      innermostMessage(new AggregateError([new Error('first'), new Error('second')], 'all failed')),
    ).toBe('first');
  });

  it('is the error itself without a cause, and the text of a thrown non-error', () => {
    expect(innermostMessage(new Error('plain'))).toBe('plain');
    expect(innermostMessage('a string')).toBe('a string');
  });
});

describe('hasTimeout', () => {
  it('finds a TimeoutFailure anywhere in the chain', () => {
    const timeout = new TimeoutFailure('timed out', undefined, TimeoutType.START_TO_CLOSE);
    expect(hasTimeout(timeout)).toBe(true);
    expect(hasTimeout(activityFailure(timeout))).toBe(true);
  });

  it('is false for other failures', () => {
    expect(hasTimeout(activityFailure(ApplicationFailure.create({ message: 'no' })))).toBe(false);
    expect(hasTimeout(undefined)).toBe(false);
  });
});
