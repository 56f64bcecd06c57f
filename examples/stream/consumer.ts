/**
 * From a stream of numbers to netcheck, with back-pressure (docs/pipelines.md, "From a stream").
 *
 * The stream (Kafka, Kinesis, Pub/Sub, a file…) is cut into windows of `windowSize` offsets,
 * each starting at the first offset after the last commit; each window is one netcheck batch,
 * `<streamId>-<first offset>`, fed through
 * startBatch's page API as the messages are read, and its records go to the sink before the
 * next window is read. So:
 *
 * - back-pressure: messages are pulled only as fast as the batch takes pages (its queue answers
 *   BATCH_BUSY when full and startBatch waits) and the sink takes records: at most one window is
 *   read ahead of what the sink has;
 * - idempotency: a window restarted after a crash (from the last committed offset, always a
 *   window's first) has the same batch id and the same first page, so startBatch attaches to it
 *   and skips the pages it has: no check runs twice; its records are handed to the sink again, so
 *   the sink writes them keyed by (batchId, index, operation). The same number twice in a window
 *   is checked once (the batch's dedupe; both records carry the result); in two windows, twice.
 */
import type { Client } from '@temporalio/client';
import { startBatch } from '../../client/batch.js';
import type { BatchItem, BatchRecord } from '../../domain/batch.js';

/** One message of the stream: its offset (position in the partition) and the item it carries. */
export interface StreamMessage {
  offset: number;
  item: BatchItem;
}

/** A record as the sink gets it: which batch and which stream offset it answers. */
export interface SinkRecord extends BatchRecord {
  batchId: string;
  offset: number;
}

export interface ConsumerOptions {
  /** Names the batches (`<streamId>-<first offset of the window>`): a topic and partition, say. */
  streamId: string;
  /** Messages per batch. Bounds what is read ahead of the sink. */
  windowSize: number;
  /** The offset committed last (`onCommit`): where a restarted consumer resumes. Default 0. */
  fromOffset?: number;
  /** Items per page sent to the batch (default 500). */
  pageSize?: number;
  /** Checks in flight per batch (default 100); the batch's queue refuses pages beyond about twice this. */
  concurrency?: number;
  taskQueue?: string;
  subjectKey?: string | Uint8Array;
  /** Takes each record; may be slow (the stream waits). Must be idempotent by (batchId, index, operation). */
  onRecord: (record: SinkRecord) => Promise<void> | void;
  /** Called once a window's records are all in the sink: commit `nextOffset` to the stream. */
  onCommit?: (nextOffset: number) => Promise<void> | void;
}

export interface ConsumerSummary {
  windows: number;
  records: number;
  nextOffset: number;
}

export async function consume(
  client: Client,
  messages: AsyncIterable<StreamMessage>,
  options: ConsumerOptions,
): Promise<ConsumerSummary> {
  const { streamId, windowSize, fromOffset = 0, onRecord, onCommit } = options;
  if (!Number.isInteger(windowSize) || windowSize < 1)
    throw new TypeError('windowSize must be a whole number ≥ 1');
  const source = messages[Symbol.asyncIterator]();
  let pending: StreamMessage | undefined; // read ahead: the first message of the next window
  let ended = false;
  const summary: ConsumerSummary = { windows: 0, records: 0, nextOffset: fromOffset };

  async function next(): Promise<StreamMessage | undefined> {
    if (pending) {
      const message = pending;
      pending = undefined;
      return message;
    }
    while (!ended) {
      const step = await source.next();
      if (step.done) ended = true;
      else if (step.value.offset >= fromOffset) return step.value; // committed before: skip
    }
    return undefined;
  }

  for (;;) {
    const first = await next();
    if (!first) return summary;
    // A window starts at the first offset after the last commit: a replay cuts the same windows.
    const end = first.offset + windowSize;
    const batchId = `${streamId}-${first.offset}`;
    const offsets: number[] = []; // item index → offset
    // The window's items, pulled only as startBatch sends them.
    async function* items(): AsyncIterable<BatchItem> {
      for (let message: StreamMessage | undefined = first; message; message = await next()) {
        if (message.offset >= end) {
          pending = message;
          return;
        }
        offsets.push(message.offset);
        yield message.item;
        if (message.offset === end - 1) return; // the window is full: read no further
      }
    }
    const windowItems = items();
    const batch = await startBatch(client, windowItems, {
      batchId,
      ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.taskQueue !== undefined ? { taskQueue: options.taskQueue } : {}),
      ...(options.subjectKey !== undefined ? { subjectKey: options.subjectKey } : {}),
    });
    // A batch that had all of this window (a replay) took none of it: read past it all the same.
    for await (const _item of windowItems);
    for await (const record of batch.results({ pollIntervalMs: 250 })) {
      await onRecord({ ...record, batchId, offset: offsets[record.index]! });
      summary.records++;
    }
    summary.windows++;
    summary.nextOffset = offsets.at(-1)! + 1;
    await onCommit?.(summary.nextOffset);
  }
}
