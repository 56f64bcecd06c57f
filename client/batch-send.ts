/**
 * One input page on the wire: the addPage update, sent again while the batch is busy and, for a
 * while, after transient errors; a batch that closed or vanished ends the send with a
 * BatchClosedError naming why.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  ServiceError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BatchPage } from '../domain/batch.js';
import { BATCH_BUSY } from '../domain/batch-pages.js';
import { innermostMessage } from '../domain/errors.js';
import { addPageUpdate, type batchCheck } from '../workflows/batch.js';
import { BatchClosedError } from './batch-errors.js';

/** How long a page is resent after transient errors (Temporal unavailable, an RPC timeout). */
const TRANSIENT_RETRY_MS = 120_000;

function isBusy(err: unknown): boolean {
  return (
    err instanceof WorkflowUpdateFailedError &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === BATCH_BUSY
  );
}

/** gRPC codes worth another try: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, UNAVAILABLE. */
const TRANSIENT_GRPC = new Set([4, 8, 10, 14]);

function isTransient(err: unknown): boolean {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  if (err instanceof ServiceError) {
    const code = (err.cause as { code?: unknown } | undefined)?.code;
    return typeof code === 'number' && TRANSIENT_GRPC.has(code);
  }
  return false;
}

/** What sendPage waits with; tests pass a fake clock. */
export interface SendClock {
  now(): number;
  sleep(ms: number): Promise<unknown>;
}

const REAL_CLOCK: SendClock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

/**
 * One page, sent again while the batch is busy (its queue is full) and, for a while, after
 * transient errors. A batch that closed or vanished ends the send with a BatchClosedError.
 * The transient window counts unbroken failures only: a busy answer shows Temporal is up, so a
 * blip during a long wait for room (a server restart, a slow update RPC) starts a new window.
 */
/** @internal exported for its test */
export async function sendPage(
  workflow: Pick<WorkflowHandle<typeof batchCheck>, 'executeUpdate' | 'describe' | 'result' | 'workflowId'>,
  page: BatchPage,
  clock: SendClock = REAL_CLOCK,
): Promise<void> {
  let failingSince = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      await workflow.executeUpdate(addPageUpdate, { args: [page] });
      return;
    } catch (err) {
      if (isBusy(err)) {
        failingSince = 0;
        // The batch is working through its queue: wait a little longer each time, up to 2 s.
        await clock.sleep(Math.min(2_000, 250 * 2 ** Math.min(attempt, 3)));
        continue;
      }
      if (err instanceof WorkflowNotFoundError) throw await closedBatch(workflow);
      if (!isTransient(err)) throw err;
      failingSince ||= clock.now();
      if (clock.now() - failingSince > TRANSIENT_RETRY_MS) throw err;
      await clock.sleep(Math.min(5_000, 200 * 2 ** Math.min(attempt, 5)));
    }
  }
}

/** Why the batch no longer takes input: its status and, when it ended badly, the reason. */
async function closedBatch(
  workflow: Pick<WorkflowHandle<typeof batchCheck>, 'describe' | 'result' | 'workflowId'>,
): Promise<Error> {
  let status: string;
  try {
    status = (await workflow.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return new BatchClosedError(workflow.workflowId, 'NOT_FOUND');
    throw err;
  }
  let reason: string | undefined;
  try {
    await workflow.result();
  } catch (err) {
    reason = innermostMessage(err);
  }
  return new BatchClosedError(workflow.workflowId, status, reason);
}
