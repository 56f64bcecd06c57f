/** A handle to a batch: its progress, every result record exactly once, its end, cancelling it. */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { BatchProgress, BatchRecord, StoredRecord } from '../domain/batch.js';
import { checkId, resultPageId } from '../domain/batch-pages.js';
import { errorCodeOf, innermostMessage, InvalidRequestError } from '../domain/errors.js';
import type { CheckResult } from '../domain/types.js';
import { batchProgressQuery, type batchCheck, type batchResultPage } from '../workflows/batch.js';
import type { networkCheck } from '../workflows/network-check.js';

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

export function checkBatchId(batchId: unknown): asserts batchId is string {
  if (typeof batchId !== 'string' || !BATCH_ID.test(batchId)) {
    throw new InvalidRequestError(
      `batchId must be 1–200 characters of letters, digits and . _ : - starting with a letter or digit (got ${JSON.stringify(batchId)})`,
    );
  }
}

/** A handle to an existing batch. */
export function getBatch(client: Client, batchId: string): BatchHandle {
  checkBatchId(batchId);
  const workflow = client.workflow.getHandle<typeof batchCheck>(batchId);

  async function progress(): Promise<BatchProgress> {
    const { status } = await workflow.describe();
    if (status.name === 'RUNNING') return workflow.query(batchProgressQuery);
    return workflow.result();
  }

  /**
   * The record a duplicate repeats, read again: from its check's own workflow when the record
   * had a result, else as it was (invalid or cancelled records are small and kept).
   */
  async function originalOf(dup: StoredRecord, kept: BatchRecord | null): Promise<BatchRecord | undefined> {
    if (kept) return kept;
    const base = { index: dup.duplicateOf!, operation: dup.operation };
    try {
      const result: CheckResult = await client.workflow
        .getHandle<typeof networkCheck>(checkId(batchId, base.index, base.operation))
        .result();
      return { ...base, outcome: result.status, result };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      return {
        ...base,
        outcome: 'failed',
        error: { code: errorCodeOf(err) ?? 'INTERNAL', message: innermostMessage(err) },
      };
    }
  }

  async function* results(options: { pollIntervalMs?: number } = {}): AsyncIterable<BatchRecord> {
    const pollIntervalMs = options.pollIntervalMs ?? 1_000;
    // `${index}|${operation}` of every original read → its record while the batch has duplicates
    // (or when it has no result to read again), else null (read it from its check workflow).
    const originals = new Map<string, BatchRecord | null>();
    const waiting = new Map<string, StoredRecord[]>(); // duplicates whose original is not read yet
    const fanOut = (dup: StoredRecord, original: BatchRecord): BatchRecord => {
      const { outcome, result, error } = original;
      return { ...dup, outcome, ...(result ? { result } : {}), ...(error ? { error } : {}) };
    };
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
            const key = `${stored.duplicateOf}|${stored.operation}`;
            if (originals.has(key)) {
              const original = await originalOf(stored, originals.get(key)!);
              if (original) {
                yield fanOut(stored, original);
                continue;
              }
            }
            waiting.set(key, [...(waiting.get(key) ?? []), stored]);
            continue;
          }
          const rec = stored as BatchRecord;
          const key = `${rec.index}|${rec.operation}`;
          // A bulk batch has no check workflow to read a result from again: keep the record.
          originals.set(key, current.duplicates > 0 || current.bulk || !rec.result ? rec : null);
          yield rec;
          for (const dup of waiting.get(key) ?? []) yield fanOut(dup, rec);
          waiting.delete(key);
        }
      }
      if (finished && next >= current.resultPages) break;
      await sleep(pollIntervalMs);
    }
    // A duplicate whose original never got a record.
    for (const dup of [...waiting.values()].flat()) {
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
