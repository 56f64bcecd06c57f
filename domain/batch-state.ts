/**
 * The state machine of one batch, as plain code: the queue of checks, input pages taken in,
 * result pages, progress, and what continues as new. The batchCheck workflow (workflows/batch.ts)
 * is the thin shell that starts the children and waits; everything it decides comes from here,
 * so it is unit-tested without a server (test/batch/). Its options are batch-options.ts; what a
 * client sends (items, pages, ids) is batch-pages.ts.
 *
 * Workflow-safe: deterministic, no I/O, no Node built-ins, no workflow APIs.
 */
import { ApplicationFailure } from '@temporalio/common';
import type {
  AddPageAck,
  BatchOptions,
  BatchPage,
  BatchProgress,
  RecordOutcome,
  StoredRecord,
} from './batch.js';
import { maskMsisdn } from './msisdn.js';
import { assessItemProblem, type AssessmentResult } from './assess.js';
import { DEFAULT_API } from './operations.js';
import type { ChildStart } from './batch-child.js';
import { runSearchAttributes } from './search-attributes.js';
import type { CheckError, CheckRequest, CheckResult, NetworkCheckInput } from './types.js';
import { checkRequestProblem } from './validate.js';
import { PATCH_FIELD_LIMITS } from './patches.js';
import { resolveBatchOptions, type ResolvedBatchOptions } from './batch-options.js';
import { BATCH_BUSY, checkId, itemFieldProblem, jsonBytes, requestOf } from './batch-pages.js';

// ---- the batch ----

/**
 * The queue is carried through continue-as-new in one payload: a page is refused for now
 * (BATCH_BUSY) while the queue holds this many bytes, or more checks than the queue limit.
 */
export const QUEUE_MAX_BYTES = 1024 * 1024;

/** One check waiting for a slot. */
export interface QueuedCheck {
  index: number;
  ref?: string;
  request: CheckRequest;
  subject?: string;
}

/** What a run hands to the next one when it continues as new. */
export interface CarriedState {
  nextPageIndex: number;
  inputComplete: boolean;
  queue: QueuedCheck[];
  progress: BatchProgress;
}

export function emptyProgress(batchId: string): BatchProgress {
  return {
    batchId,
    state: 'receiving',
    total: 0,
    inputComplete: false,
    pagesReceived: 0,
    done: 0,
    inFlight: 0,
    queued: 0,
    byOutcome: { ok: 0, failed: 0, invalid: 0, cancelled: 0 },
    byErrorCode: {},
    duplicates: 0,
    resultPages: 0,
    runs: 1,
  };
}

/** How a started check ended, as the workflow saw it. */
export type CheckEnd =
  { result: CheckResult } | { assessment: AssessmentResult } | { cancelled: true } | { error: CheckError };

/** What the workflow needs to start one child check. */
export type ChildCheckStart = ChildStart<NetworkCheckInput>;

/** Rule changes that running histories must not see: the workflow answers with `patched(id)`. */
export type PatchGate = (patchId: string) => boolean;

export class BatchState {
  readonly options: ResolvedBatchOptions;
  readonly progress: BatchProgress;
  readonly queue: QueuedCheck[];
  /** Records not stored in a result page yet. */
  pending: StoredRecord[] = [];
  /** Checks this run started (continue-as-new after options.continueAsNewAfter). */
  startedThisRun = 0;
  /** This run starts no more checks than this: options.continueAsNewAfter, or fewer (`endRun`). */
  private runCap: number;
  /** The queue holds at most this many checks; a page that would overflow it is refused for now. */
  readonly queueLimit: number;
  private queueBytes: number;
  private readonly carried: CarriedState;

  constructor(
    readonly batchId: string,
    options: BatchOptions | undefined,
    carried?: CarriedState,
    private readonly patched: PatchGate = () => true,
  ) {
    this.options = resolveBatchOptions(options);
    this.runCap = this.options.continueAsNewAfter;
    this.carried = carried ?? {
      nextPageIndex: 0,
      inputComplete: false,
      queue: [],
      progress: emptyProgress(batchId),
    };
    this.progress = this.carried.progress;
    this.queue = this.carried.queue;
    this.queueLimit = Math.max(2 * this.options.concurrency, 1_000);
    this.queueBytes = this.queue.reduce((n, check) => n + jsonBytes(check), 0);
  }

  get nextPageIndex(): number {
    return this.carried.nextPageIndex;
  }

  get inputComplete(): boolean {
    return this.carried.inputComplete;
  }

  /** The `progress` query's answer. */
  snapshot(): BatchProgress {
    return { ...this.progress, queued: this.queue.length };
  }

  /** Counts a record and holds it for the next result page. */
  record(rec: StoredRecord): void {
    this.pending.push(rec);
    this.progress.done++;
    if (rec.outcome === 'duplicate') this.progress.duplicates++;
    else this.progress.byOutcome[rec.outcome]++;
    const code = rec.result?.error?.code ?? rec.error?.code;
    if (code) this.progress.byErrorCode[code] = (this.progress.byErrorCode[code] ?? 0) + 1;
  }

  /**
   * Why the batch cannot take this page now (the update's validator: a refusal is not written
   * to history). A full queue refuses with an ApplicationFailure of type BATCH_BUSY: the page is
   * fine, send it again shortly.
   */
  pageRefusal(page: BatchPage): Error | undefined {
    if (!page || !Number.isInteger(page.pageIndex) || !Array.isArray(page.items)) {
      return new TypeError('a page needs pageIndex (integer) and items (array)');
    }
    const next = this.carried.nextPageIndex;
    if (page.pageIndex > next) {
      return new RangeError(`page ${page.pageIndex} is early: send page ${next} first`);
    }
    if (this.carried.inputComplete && page.pageIndex >= next) {
      return new RangeError('the batch input is complete: no page may follow the last one');
    }
    if (page.pageIndex === next && this.queue.length > 0) {
      let checks = 0;
      let bytes = 0;
      for (const item of page.items) {
        const operations = Array.isArray(item?.operations) ? Math.max(1, item.operations.length) : 1;
        checks += operations;
        bytes += operations * jsonBytes(item);
      }
      if (this.queue.length + checks > this.queueLimit || this.queueBytes + bytes > QUEUE_MAX_BYTES) {
        return ApplicationFailure.create({
          type: BATCH_BUSY,
          message: `${this.queue.length} checks queued; send page ${page.pageIndex} again shortly`,
          nonRetryable: false,
        });
      }
    }
    return undefined;
  }

  /** Takes a page (validated by pageRefusal): each (item, operation) is queued or recorded at once. */
  addPage(page: BatchPage): AddPageAck {
    const state = this.carried;
    if (page.pageIndex < state.nextPageIndex) return { accepted: false, nextPageIndex: state.nextPageIndex };
    for (const item of page.items) {
      const operations =
        Array.isArray(item.operations) && item.operations.length > 0 ? item.operations : [''];
      for (const operation of operations) {
        this.progress.total++;
        const base = { index: item.index, ...(item.ref !== undefined ? { ref: item.ref } : {}), operation };
        const duplicateOf = this.options.dedupe ? item.duplicateOf?.[operation] : undefined;
        const request = requestOf(item, operation);
        // An assessment batch's items are numbers to assess (operation `assess`), not checks.
        let problem = this.options.assess
          ? assessItemProblem(operation, request)
          : checkRequestProblem(request);
        if (!problem) {
          const fieldProblem = itemFieldProblem(item);
          if (fieldProblem && this.patched(PATCH_FIELD_LIMITS)) problem = fieldProblem;
        }
        if (problem)
          this.record({ ...base, outcome: 'invalid', error: { code: 'INVALID_INPUT', message: problem } });
        else if (duplicateOf !== undefined) this.record({ ...base, outcome: 'duplicate', duplicateOf });
        else this.enqueue({ index: item.index, ref: item.ref, request, subject: item.subject });
      }
    }
    state.nextPageIndex = page.pageIndex + 1;
    this.progress.pagesReceived = state.nextPageIndex;
    if (page.last) state.inputComplete = this.progress.inputComplete = true;
    if (this.progress.state === 'receiving' && state.inputComplete) this.progress.state = 'running';
    return { accepted: true, nextPageIndex: state.nextPageIndex };
  }

  private enqueue(check: QueuedCheck): void {
    this.queue.push(check);
    this.queueBytes += jsonBytes(check);
  }

  /** This run has started all the checks it may: it drains and continues as new. */
  timeToContinueAsNew(): boolean {
    return this.startedThisRun >= this.runCap;
  }

  /**
   * This run starts no more checks (its history is as long as it should get): it drains and
   * continues as new. A run that started none goes on, so a batch always moves.
   */
  endRun(): void {
    if (this.startedThisRun > 0) this.runCap = Math.min(this.runCap, this.startedThisRun);
  }

  /** A queued check may start now. */
  canLaunch(): boolean {
    return (
      !this.timeToContinueAsNew() &&
      this.queue.length > 0 &&
      this.progress.inFlight < this.options.concurrency
    );
  }

  allDone(): boolean {
    return this.carried.inputComplete && this.queue.length === 0 && this.progress.inFlight === 0;
  }

  /** Every check this run started has ended, and it may start no more. */
  readyToContinueAsNew(): boolean {
    return this.timeToContinueAsNew() && this.progress.inFlight === 0;
  }

  /** When the workflow's main loop has something to do. */
  hasWork(): boolean {
    return (
      this.allDone() ||
      this.pending.length >= this.options.resultPageSize ||
      this.readyToContinueAsNew() ||
      this.canLaunch()
    );
  }

  /** Takes the next queued check and counts it in flight; the workflow starts it as a child. */
  launch(): { check: QueuedCheck; start: ChildCheckStart } {
    const check = this.queue.shift()!;
    this.queueBytes -= jsonBytes(check);
    this.progress.inFlight++;
    this.startedThisRun++;
    return { check, start: this.childStart(check) };
  }

  /**
   * Bulk mode: takes up to `size` queued checks (never past this run's continueAsNewAfter), each
   * counted in flight like a launched child; every one ends with `finished` and `settled`.
   */
  takeChunk(size: number): QueuedCheck[] {
    const room = this.runCap - this.startedThisRun;
    const checks = this.queue.splice(0, Math.max(0, Math.min(size, room)));
    for (const check of checks) this.queueBytes -= jsonBytes(check);
    this.progress.inFlight += checks.length;
    this.startedThisRun += checks.length;
    return checks;
  }

  /** The record of a started check that ended (the child's inFlight is released by `settled`). */
  finished(check: QueuedCheck, end: CheckEnd): void {
    const base = {
      index: check.index,
      ...(check.ref !== undefined ? { ref: check.ref } : {}),
      operation: check.request.operation,
    };
    // An assessment that reached a verdict (whatever it is) is `ok`.
    if ('assessment' in end) this.record({ ...base, outcome: 'ok', assessment: end.assessment });
    else if ('result' in end) this.record({ ...base, outcome: end.result.status, result: end.result });
    else if ('cancelled' in end) {
      this.record({
        ...base,
        outcome: 'cancelled',
        error: { code: 'CANCELLED', message: 'The batch was cancelled' },
      });
    } else this.record({ ...base, outcome: 'failed', error: end.error });
  }

  /** A started check no longer counts in flight. */
  settled(): void {
    this.progress.inFlight--;
  }

  /** The records of the next result page to store, if one is due (`all`: also a partial one). */
  nextResultPage(all: boolean): StoredRecord[] | undefined {
    const size = this.options.resultPageSize;
    if (this.pending.length >= size || (all && this.pending.length > 0)) return this.pending.slice(0, size);
    return undefined;
  }

  /** The page from nextResultPage is stored: its records leave `pending`. */
  resultPageStored(records: number): void {
    this.pending = this.pending.slice(records);
    this.progress.resultPages++;
  }

  /** Cancelled: every queued check becomes a `cancelled` record. */
  cancelQueued(): void {
    for (const check of this.queue.splice(0)) {
      this.record({
        index: check.index,
        ...(check.ref !== undefined ? { ref: check.ref } : {}),
        operation: check.request.operation,
        outcome: 'cancelled' satisfies RecordOutcome,
        error: { code: 'CANCELLED', message: 'The batch was cancelled before this check started' },
      });
    }
    this.queueBytes = 0;
  }

  /** The input of the next run (counters, queue and page position; records are stored first). */
  continueAsNew(): CarriedState {
    this.progress.runs++;
    return this.carried;
  }

  /** The child workflow of one check: id, input, search attributes, summary and details. */
  childStart(check: QueuedCheck): ChildCheckStart {
    const { request, index } = check;
    const api = request.api ?? DEFAULT_API;
    const o = this.options;
    const input: NetworkCheckInput = {
      ...request,
      subject: check.subject,
      batchId: this.batchId,
      skipFirstWait: o.skipFirstWait,
      maxAuthorizations: o.maxAuthorizations,
      fast: o.fast,
    };
    const masked = maskMsisdn(request.msisdn);
    return {
      workflowId: checkId(this.batchId, index, request.operation),
      input,
      searchAttributes: runSearchAttributes({
        operation: request.operation,
        api,
        batchId: this.batchId,
        subject: check.subject,
      }),
      staticSummary: `${request.operation} · ${api} · ${masked} · batch ${this.batchId} #${index}`,
      staticDetails: [
        `**Operation:** ${request.operation}`,
        `**API:** ${api}`,
        `**Number:** ${masked}`,
        ...(input.maxAge !== undefined ? [`**maxAge:** ${input.maxAge} h`] : []),
        ...(input.purpose !== undefined ? [`**Purpose:** ${input.purpose}`] : []),
        ...(check.subject ? [`**Subject:** ${check.subject}`] : []),
        `**Batch:** ${this.batchId} · item ${index}`,
      ].join('\n\n'),
    };
  }

  /** The batch's current details in the UI (markdown). */
  details(): string {
    const p = this.progress;
    const o = p.byOutcome;
    const codes = Object.entries(p.byErrorCode)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    return [
      `**Batch ${this.batchId}** — ${p.state}`,
      `done **${p.done}** / ${p.total}${p.inputComplete ? '' : '+ (input still arriving)'} · in flight ${p.inFlight} · queued ${this.queue.length}`,
      `ok ${o.ok} · failed ${o.failed} · invalid ${o.invalid} · cancelled ${o.cancelled} · duplicates ${p.duplicates}`,
      ...(codes ? [`errors: ${codes}`] : []),
      `result pages ${p.resultPages} · run ${p.runs}`,
    ].join('\n\n');
  }
}
