/**
 * Batch client API (being implemented). Signatures are final; see domain/batch.ts for the types.
 */
import type { Client } from '@temporalio/client';
import type { BatchItem, BatchOptions, BatchProgress, BatchRecord } from '../domain/batch.js';

export interface StartBatchOptions extends BatchOptions {
  /** Caller-chosen id; starting the same id again attaches to the existing batch. */
  batchId: string;
  /** Task queue of the netcheck workers (default NETCHECK_TASK_QUEUE or "netcheck"). */
  taskQueue?: string;
  /** Key of the subject hash (default NETCHECK_SUBJECT_KEY, else derived from the Vonage private key). */
  subjectKey?: string | Uint8Array;
  /** Items per input page sent to the workflow (default 500). */
  pageSize?: number;
}

export interface BatchHandle {
  readonly batchId: string;
  /** Live counters (total, done, in flight, by outcome and error code). */
  progress(): Promise<BatchProgress>;
  /** Every record exactly once, as results are stored; ends when the batch is complete. */
  results(options?: { pollIntervalMs?: number }): AsyncIterable<BatchRecord>;
  /** Waits for the batch to end; resolves to its final progress summary. */
  result(): Promise<BatchProgress>;
  /** Cancels checks in flight; the rest are recorded as cancelled. */
  cancel(): Promise<void>;
}

export declare function startBatch(
  client: Client,
  items: Iterable<BatchItem> | AsyncIterable<BatchItem>,
  options: StartBatchOptions,
): Promise<BatchHandle>;

export declare function getBatch(client: Client, batchId: string): BatchHandle;
