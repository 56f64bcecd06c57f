/** The errors of the batch calls (on the taxonomy of domain/errors.ts): each says what to do next. */
import { NetcheckError, UsageError } from '../domain/errors.js';
import { MAX_BATCH_ITEMS } from '../domain/batch-pages.js';

/**
 * The input holds more items than one batch takes (MAX_BATCH_ITEMS, or the `maxItems` option).
 * An array is refused before anything starts; a stream is found out while it is sent, and the
 * batch is then cancelled (`cancelledBatchId`) so no part of the input runs unnoticed.
 */
export class BatchTooLargeError extends UsageError {
  constructor(
    readonly limit: number,
    readonly cancelledBatchId?: string,
  ) {
    super(
      `the input has more than ${limit.toLocaleString('en-US')} items, the most one batch takes` +
        (limit === MAX_BATCH_ITEMS ? '' : ' (maxItems)') +
        (cancelledBatchId
          ? `; batch ${cancelledBatchId} was cancelled after receiving the first ${limit.toLocaleString('en-US')}`
          : '') +
        `. Split the input into parts of at most ${limit.toLocaleString('en-US')} items and start one batch per part, each under its own batch id.`,
    );
  }
}

/** The batch workflow closed (terminated, failed, timed out) or is gone while its input was being sent. */
export class BatchClosedError extends NetcheckError {
  declare readonly code: 'BATCH_CLOSED';
  constructor(
    readonly batchId: string,
    /** The workflow's status (TERMINATED, FAILED, …), or NOT_FOUND. */
    readonly status: string,
    reason?: string,
  ) {
    super(
      'BATCH_CLOSED',
      status === 'NOT_FOUND'
        ? `batch ${batchId} no longer exists (deleted, or past the namespace's retention): its input cannot be sent. Start it again under another batch id.`
        : `batch ${batchId} is ${status.toLowerCase().replace(/_/g, ' ')}${reason ? ` (${reason})` : ''}: the rest of its input cannot be sent. Read what it did with \`netcheck results ${batchId}\`, then start the rest under another batch id.`,
    );
  }
}

/**
 * The batch id is taken by a batch started with other input: its first page of items (with the
 * api and purpose defaults applied) differs from this call's. Nothing was sent to it.
 */
export class BatchConflictError extends UsageError {
  constructor(readonly batchId: string) {
    super(
      `batch ${batchId} already exists with other input (its first items differ from these): nothing was sent to it. ` +
        `Start this input under another batch id, or read that batch with \`netcheck results ${batchId}\`.`,
    );
  }
}
