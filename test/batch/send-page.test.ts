/**
 * startBatch's page sender: a busy batch is waited for as long as it takes, transient errors
 * for at most two minutes of unbroken failure. Found by the chaos run: a server restart during
 * a long wait for room started the two minutes, and a later slow update RPC ended the send.
 */
import {
  ServiceError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { sendPage, type SendClock } from '../../client/batch-send.js';
import { BATCH_BUSY } from '../../domain/batch-pages.js';

const busy = () =>
  new WorkflowUpdateFailedError('busy', ApplicationFailure.create({ type: BATCH_BUSY, message: 'full' }));
const unavailable = () =>
  new ServiceError('unavailable', { cause: Object.assign(new Error('connection refused'), { code: 14 }) });
const slowRpc = () => new WorkflowUpdateRPCTimeoutOrCancelledError('timed out', undefined);

/** A workflow whose addPage answers these in turn (undefined = accepted), on a fake clock. */
function scripted(answers: (Error | undefined)[]) {
  const start = 1_000_000;
  let ms = start;
  const clock: SendClock = {
    now: () => ms,
    sleep: (wait) => {
      ms += wait;
      return Promise.resolve();
    },
  };
  let calls = 0;
  const workflow = {
    workflowId: 'b',
    executeUpdate: () => {
      const answer = answers[calls++];
      return answer ? Promise.reject(answer) : Promise.resolve({ accepted: true, nextPageIndex: 1 });
    },
    describe: () => Promise.reject(new Error('not expected')),
    result: () => Promise.reject(new Error('not expected')),
  };
  return {
    workflow: workflow as unknown as Parameters<typeof sendPage>[0],
    clock,
    calls: () => calls,
    now: () => ms - start,
  };
}

const page = { pageIndex: 0, items: [], last: true };

describe('sendPage', () => {
  it('a transient error, then minutes of a busy batch, then another transient error: the page still goes in', async () => {
    const answers = [unavailable(), ...Array.from({ length: 200 }, busy), slowRpc(), undefined];
    const s = scripted(answers);
    await sendPage(s.workflow, page, s.clock);
    expect(s.calls()).toBe(answers.length);
    expect(s.now()).toBeGreaterThan(120_000); // the busy wait alone outlasted the transient window
  });

  it('gives up after two minutes of unbroken transient errors', async () => {
    const s = scripted(Array.from({ length: 100 }, unavailable));
    await expect(sendPage(s.workflow, page, s.clock)).rejects.toBeInstanceOf(ServiceError);
    expect(s.now()).toBeGreaterThan(120_000);
    expect(s.now()).toBeLessThan(130_000);
  });
});
