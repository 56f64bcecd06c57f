/**
 * Bulk mode's part of the batch state: which queued checks go into the next chunk activity,
 * each chunk's share of the batch's rate and concurrency, the records of a chunk that ended,
 * and the chunks' lines in the batch's current details. The queue, counters, records and
 * continue-as-new stay BatchState's (batch-state.ts): a chunk's checks count in flight like
 * launched children, and every one ends with exactly one record.
 *
 * Workflow-safe: deterministic, no I/O, no workflow APIs.
 */
import type { BatchState, CheckEnd, QueuedCheck } from './batch-state.js';
import { chunkSummary, type BulkChunkInput, type BulkChunkProgress, type BulkOutcome } from './bulk.js';
import type { CheckError } from './types.js';

/** A chunk activity that has been started and has not ended. */
export interface RunningChunk {
  number: number;
  /** Which of the `atOnce` slots it runs in: the slot sets its share of the rate. */
  slot: number;
  checks: QueuedCheck[];
  summary: string;
}

/** How a chunk activity ended, as the workflow saw it. */
export type ChunkEnd =
  | BulkChunkProgress
  /** The activity failed for good: outcomes recorded in its last heartbeat, the rest fail with `failure`. */
  | { outcomes: BulkOutcome[]; failure: CheckError };

/** Finished chunks kept in the details (the running ones are always shown). */
const FINISHED_SHOWN = 5;

export class BulkChunks {
  readonly running = new Map<number, RunningChunk>();
  private readonly finishedLines: string[] = [];
  /** Rate slots a chunk of this run has used (a new run's first chunks wait a window too: see launch). */
  private readonly usedSlots = new Set<number>();

  constructor(private readonly batch: BatchState) {
    batch.progress.bulk = true;
    batch.progress.chunks ??= 0;
  }

  /**
   * Chunk activities at once: chunkConcurrency, never more than the checks allowed in flight,
   * nor more than rateLimit (each chunk sends at least one request per second when it may).
   */
  get atOnce(): number {
    const o = this.batch.options;
    const byRate = o.rateLimit === undefined ? Infinity : Math.max(1, Math.floor(o.rateLimit));
    return Math.min(o.chunkConcurrency, o.concurrency, byRate);
  }

  /** Flows each chunk runs at once: the batch's concurrency shared by the chunks. */
  get flowsPerChunk(): number {
    return Math.max(1, Math.floor(this.batch.options.concurrency / this.atOnce));
  }

  /**
   * The requests per second of the chunk in `slot`: rateLimit shared by the `atOnce` slots in
   * whole requests (the pacer counts whole requests per 1-s window), the remainder to the first
   * slots, so the slots' shares add up to rateLimit (its whole part) whether or not every slot
   * runs and whichever workers run them. Under 1 req/s, one slot gets all of it.
   */
  ratePerChunk(slot: number): number | undefined {
    const rate = this.batch.options.rateLimit;
    if (rate === undefined) return undefined;
    const k = this.atOnce;
    if (rate < 1) return rate;
    const whole = Math.floor(rate);
    return Math.floor(whole / k) + (slot < whole % k ? 1 : 0);
  }

  /**
   * A chunk may start now: a slot is free and the queue holds a full chunk, or all the input
   * there will be, or nothing else is running.
   */
  canLaunch(): boolean {
    const b = this.batch;
    return (
      !b.timeToContinueAsNew() &&
      b.queue.length > 0 &&
      this.running.size < this.atOnce &&
      (b.queue.length >= b.options.chunkSize || b.inputComplete || this.running.size === 0)
    );
  }

  /** When the workflow's main loop has something to do (BatchState.hasWork, by chunks). */
  hasWork(): boolean {
    const b = this.batch;
    return (
      b.allDone() ||
      b.pending.length >= b.options.resultPageSize ||
      b.readyToContinueAsNew() ||
      this.canLaunch()
    );
  }

  /** Takes the next chunk's checks from the queue; the workflow starts its activity with `input`. */
  launch(): { chunk: RunningChunk; input: BulkChunkInput } {
    const b = this.batch;
    const checks = b.takeChunk(b.options.chunkSize);
    const number = b.progress.chunks ?? 0;
    b.progress.chunks = number + 1;
    const taken = new Set([...this.running.values()].map((c) => c.slot));
    let slot = 0;
    while (taken.has(slot)) slot++;
    const chunk: RunningChunk = { number, slot, checks, summary: chunkSummary(number, checks) };
    this.running.set(number, chunk);
    const o = b.options;
    const slotUsedBefore = this.usedSlots.has(slot);
    this.usedSlots.add(slot);
    const rate = this.ratePerChunk(slot);
    const input: BulkChunkInput = {
      batchId: b.batchId,
      chunk: number,
      checks: checks.map(({ index, request }) => ({ index, request })),
      concurrency: this.flowsPerChunk,
      // A run that continued as new does not know which slots its last chunks used: all count as used.
      ...(rate !== undefined
        ? { ratePerSecond: rate, ...(slotUsedBefore || b.progress.runs > 1 ? { slotUsed: true } : {}) }
        : {}),
      ...(o.skipFirstWait !== undefined ? { skipFirstWait: o.skipFirstWait } : {}),
      ...(o.maxAuthorizations !== undefined ? { maxAuthorizations: o.maxAuthorizations } : {}),
    };
    return { chunk, input };
  }

  /** A chunk ended: exactly one record per check, from its outcome or from how the chunk ended. */
  finished(number: number, end: ChunkEnd): void {
    const chunk = this.running.get(number);
    if (!chunk) return;
    this.running.delete(number);
    const byPosition = new Map<number, BulkOutcome>();
    for (const outcome of Array.isArray(end.outcomes) ? end.outcomes : []) {
      if (!byPosition.has(outcome.at)) byPosition.set(outcome.at, outcome);
    }
    const tally = { ok: 0, failed: 0, cancelled: 0 };
    chunk.checks.forEach((check, at) => {
      const outcome = byPosition.get(at);
      let ended: CheckEnd;
      if (outcome && 'result' in outcome) ended = { result: outcome.result };
      else if (outcome) ended = { error: outcome.error };
      else if ('failure' in end) ended = { error: end.failure };
      else if (end.cancelled) ended = { cancelled: true };
      else {
        ended = {
          error: {
            code: 'INTERNAL',
            message: `bulk chunk ${number} ended without an outcome for this check; check it again`,
          },
        };
      }
      this.batch.finished(check, ended);
      this.batch.settled();
      if ('result' in ended && ended.result.status === 'ok') tally.ok++;
      else if ('cancelled' in ended) tally.cancelled++;
      else tally.failed++;
    });
    this.finishedLines.push(
      `${chunk.summary} — done: ${tally.ok} ok, ${tally.failed} failed` +
        (tally.cancelled > 0 ? `, ${tally.cancelled} cancelled` : ''),
    );
    if (this.finishedLines.length > FINISHED_SHOWN) this.finishedLines.shift();
  }

  /** The batch's current details with a line per running chunk and the last finished ones. */
  details(): string {
    const rate = this.batch.options.rateLimit;
    return [
      this.batch.details(),
      `bulk: ${this.running.size} of ${this.atOnce} chunks running · ${this.flowsPerChunk} flows each` +
        (rate !== undefined ? ` · ${rate} req/s for the batch` : ''),
      ...[...this.running.values()].map((chunk) => `${chunk.summary} — running`),
      ...this.finishedLines,
    ].join('\n\n');
  }
}
