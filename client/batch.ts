/**
 * Batch client API: start (or attach to) a batch, stream its input in pages, follow its
 * progress and read every result record exactly once.
 *
 *   const batch = await startBatch(client, items, { batchId: 'nightly-2026-11-28' });
 *   for await (const record of batch.results()) pipeline.write(record);
 *   const summary = await batch.result();
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type {
  BatchItem,
  BatchOptions,
  BatchPage,
  BatchPageItem,
  BatchProgress,
  BatchRecord,
  StoredRecord,
} from '../domain/batch.js';
import { NetcheckBatchId } from '../domain/search-attributes.js';
import { DEFAULT_TASK_QUEUE } from '../common/index.js';
import {
  addPageUpdate,
  batchCheck,
  batchProgressQuery,
  batchResultPage,
  resultPageId,
} from '../workflows/batch.js';
import { isE164 } from '../domain/msisdn.js';
import { resolveSubjectKey } from './index.js';
import { subjectOf } from './subject.js';

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

const BATCH_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const DEFAULT_PAGE_SIZE = 500;

/** Starts the batch (or attaches to the one with this id) and sends every item; returns once all are sent. */
export async function startBatch(
  client: Client,
  items: Iterable<BatchItem> | AsyncIterable<BatchItem>,
  options: StartBatchOptions,
): Promise<BatchHandle> {
  const { batchId, taskQueue, subjectKey, pageSize = DEFAULT_PAGE_SIZE, ...batchOptions } = options;
  if (!BATCH_ID.test(batchId)) {
    throw new TypeError(
      `batchId must be 1–200 characters of letters, digits and . _ : - starting with a letter or digit (got ${JSON.stringify(batchId)})`,
    );
  }
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 5_000) {
    throw new TypeError(`pageSize must be a whole number from 1 to 5000 (got ${pageSize})`);
  }
  const key = resolveSubjectKey(subjectKey);
  let workflow: WorkflowHandle<typeof batchCheck>;
  try {
    workflow = await client.workflow.start(batchCheck, {
      workflowId: batchId,
      taskQueue: taskQueue ?? process.env.NETCHECK_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
      args: [{ batchId, options: batchOptions }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [{ key: NetcheckBatchId, value: batchId }],
      staticSummary: `netcheck batch ${batchId}`,
      staticDetails: `**Batch:** ${batchId}\n\n**Concurrency:** ${batchOptions.concurrency ?? 100}\n\n**Dedupe:** ${batchOptions.dedupe ?? true}`,
    });
  } catch (err) {
    // The batch ran before and is closed: attach to it, send nothing.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return getBatch(client, batchId);
  }
  const handle = getBatch(client, batchId);
  const progress = await handle.progress();
  if (!progress.inputComplete) {
    await sendPages(workflow, items, {
      pageSize,
      from: progress.pagesReceived,
      key,
      dedupe: batchOptions.dedupe ?? true,
    });
  }
  return handle;
}

/** Numbers, hashes and dedupes the items in input order, and sends pages from `from` on. */
async function sendPages(
  workflow: WorkflowHandle<typeof batchCheck>,
  items: Iterable<BatchItem> | AsyncIterable<BatchItem>,
  opts: { pageSize: number; from: number; key: string | Uint8Array; dedupe: boolean },
): Promise<void> {
  const firstSeen = new Map<string, number>();
  let pageIndex = 0;
  const send = async (pageItems: BatchPageItem[], last: boolean) => {
    // Pages the batch already has (an earlier, interrupted start) are skipped, not resent.
    if (pageIndex >= opts.from) await sendPage(workflow, { pageIndex, items: pageItems, last });
    pageIndex++;
  };

  // A full page is held back until the next item shows it is not the last one.
  let ready: BatchPageItem[] | undefined;
  let current: BatchPageItem[] = [];
  let index = 0;
  for await (const item of items) {
    const entry: BatchPageItem = { ...item, index };
    if (isE164(item.msisdn)) {
      entry.subject = subjectOf(item.msisdn, opts.key);
      for (const operation of opts.dedupe && Array.isArray(item.operations) ? item.operations : []) {
        const key = `${operation}|${item.msisdn}`;
        const seenAt = firstSeen.get(key);
        if (seenAt === undefined) firstSeen.set(key, index);
        else (entry.duplicateOf ??= {})[operation] = seenAt;
      }
    }
    current.push(entry);
    index++;
    if (current.length === opts.pageSize) {
      if (ready) await send(ready, false);
      ready = current;
      current = [];
    }
  }
  if (ready && current.length === 0) return send(ready, true);
  if (ready) await send(ready, false);
  await send(current, true);
}

/** One page, retried while the batch is busy (queue full) or a transient error occurs. */
async function sendPage(workflow: WorkflowHandle<typeof batchCheck>, page: BatchPage): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await workflow.executeUpdate(addPageUpdate, { args: [page] });
      return;
    } catch (err) {
      const message =
        err instanceof Error
          ? `${err.message} ${err.cause instanceof Error ? err.cause.message : ''}`
          : String(err);
      const busy = err instanceof WorkflowUpdateFailedError && /BUSY/.test(message);
      if (err instanceof WorkflowUpdateFailedError && !busy) throw err;
      if (attempt >= 600) throw err;
      await sleep(busy ? 250 : Math.min(5_000, 200 * 2 ** Math.min(attempt, 5)));
    }
  }
}

/** A handle to an existing batch. */
export function getBatch(client: Client, batchId: string): BatchHandle {
  const workflow = client.workflow.getHandle<typeof batchCheck>(batchId);

  async function progress(): Promise<BatchProgress> {
    const { status } = await workflow.describe();
    if (status.name === 'RUNNING') return workflow.query(batchProgressQuery);
    return workflow.result();
  }

  async function* results(options: { pollIntervalMs?: number } = {}): AsyncIterable<BatchRecord> {
    const pollIntervalMs = options.pollIntervalMs ?? 1_000;
    const originals = new Map<string, BatchRecord>(); // `${index}|${operation}` → record
    const waiting: StoredRecord[] = []; // duplicates whose original has not been read yet
    let next = 0;
    for (;;) {
      const current = await progress();
      const finished = current.state === 'completed' || current.state === 'cancelled';
      while (next < current.resultPages) {
        const page = await client.workflow
          .getHandle<typeof batchResultPage>(resultPageId(batchId, next))
          .result();
        next++;
        for (const stored of page) {
          if (stored.outcome === 'duplicate') {
            waiting.push(stored);
            continue;
          }
          const rec = stored as BatchRecord;
          // Keep originals only while this batch has duplicates to fan out to.
          if (current.duplicates > 0) originals.set(`${rec.index}|${rec.operation}`, rec);
          yield rec;
        }
        // Fan out: a duplicate gets its original's outcome and result.
        for (let i = waiting.length - 1; i >= 0; i--) {
          const dup = waiting[i]!;
          const original = originals.get(`${dup.duplicateOf}|${dup.operation}`);
          if (!original) continue;
          waiting.splice(i, 1);
          const { outcome, result, error } = original;
          yield { ...dup, outcome, ...(result ? { result } : {}), ...(error ? { error } : {}) };
        }
      }
      if (finished && next >= current.resultPages) break;
      await sleep(pollIntervalMs);
    }
    // A duplicate whose original never got a record (the batch was cancelled first).
    for (const dup of waiting) {
      yield {
        ...dup,
        outcome: 'cancelled',
        error: {
          code: 'CANCELLED',
          message: `Item ${dup.duplicateOf}, which this item repeats, was not checked`,
        },
      };
    }
  }

  return {
    batchId,
    progress,
    results,
    result: () => workflow.result(),
    async cancel() {
      try {
        await workflow.cancel();
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },
  };
}
