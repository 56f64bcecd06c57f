/**
 * batchCheck: many numbers, each (item, operation) its own networkCheck child workflow.
 *
 *   client ──addPage update──► queue ──(≤ concurrency in flight)──► networkCheck children
 *                                                                        │ result or failure
 *   results() ◄── batchResultPage children (≤ resultPageSize records) ◄──┘ exactly one record each
 *
 * - Input arrives in pages (the `addPage` update), never as one giant payload. A page already
 *   received is acknowledged and ignored, so a client may resend after a crash; a full queue
 *   rejects the page (validator, nothing written to history) and the client retries.
 * - History stays bounded: after `continueAsNewAfter` checks the run drains its children,
 *   stores its records and continues as new, carrying only counters and the queue.
 * - Child ids are `<batchId>/<index>/<operation>`: a replayed page never starts a check twice.
 * - Cancelling the batch cancels the checks in flight; every queued check is recorded as cancelled.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  setCurrentDetails,
  setHandler,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type {
  AddPageAck,
  BatchOptions,
  BatchPage,
  BatchProgress,
  RecordOutcome,
  StoredRecord,
} from '../domain/batch.js';
import { errorCodeOf, netcheckFailure, type ErrorCode } from '../domain/errors.js';
import { maskMsisdn } from '../domain/msisdn.js';
import { NetcheckBatchId, NetcheckOperation, NetcheckSubject } from '../domain/search-attributes.js';
import type { CheckRequest, NetworkCheckInput, Operation } from '../domain/types.js';
import { checkRequestProblem } from '../domain/validate.js';
import { networkCheck } from './network-check.js';

export const addPageUpdate = defineUpdate<AddPageAck, [BatchPage]>('addPage');
export const batchProgressQuery = defineQuery<BatchProgress>('progress');

export const BATCH_DEFAULTS = {
  concurrency: 100,
  dedupe: true,
  continueAsNewAfter: 2_000,
  resultPageSize: 200,
} as const;

/** One check waiting for a slot. */
interface QueuedCheck {
  index: number;
  ref?: string;
  request: CheckRequest;
  subject?: string;
}

/** What a run hands to the next one when it continues as new. */
interface CarriedState {
  nextPageIndex: number;
  inputComplete: boolean;
  queue: QueuedCheck[];
  progress: BatchProgress;
}

export interface BatchInput {
  batchId: string;
  options?: BatchOptions;
  /** Set by continue-as-new only. */
  carried?: CarriedState;
}

export const resultPageId = (batchId: string, page: number) => `${batchId}/results/${page}`;
export const checkId = (batchId: string, index: number, operation: string) =>
  `${batchId}/${index}/${operation}`;

/** A stored page of batch records; its result is the page (read by the client's results()). */
export async function batchResultPage(records: StoredRecord[]): Promise<StoredRecord[]> {
  return Promise.resolve(records);
}

function emptyProgress(batchId: string): BatchProgress {
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

export async function batchCheck(input: BatchInput): Promise<BatchProgress> {
  const { batchId } = input;
  const options = { ...BATCH_DEFAULTS, ...input.options };
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1 || options.concurrency > 1_000) {
    throw netcheckFailure(
      'INVALID_INPUT',
      `concurrency must be a whole number from 1 to 1000 (got ${options.concurrency})`,
    );
  }
  const state: CarriedState = input.carried ?? {
    nextPageIndex: 0,
    inputComplete: false,
    queue: [],
    progress: emptyProgress(batchId),
  };
  const { progress, queue } = state;
  // The queue holds at most this many checks; a page that would overflow it is refused for now.
  const queueLimit = Math.max(2 * options.concurrency, 1_000);
  let pending: StoredRecord[] = []; // records not yet stored in a result page
  let startedThisRun = 0;

  const record = (rec: StoredRecord) => {
    pending.push(rec);
    progress.done++;
    if (rec.outcome === 'duplicate') progress.duplicates++;
    else progress.byOutcome[rec.outcome]++;
    const code = rec.result?.error?.code ?? rec.error?.code;
    if (code) progress.byErrorCode[code] = (progress.byErrorCode[code] ?? 0) + 1;
  };

  const show = () => {
    const o = progress.byOutcome;
    const codes = Object.entries(progress.byErrorCode)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    setCurrentDetails(
      [
        `**Batch ${batchId}** — ${progress.state}`,
        `done **${progress.done}** / ${progress.total}${progress.inputComplete ? '' : '+ (input still arriving)'} · in flight ${progress.inFlight} · queued ${queue.length}`,
        `ok ${o.ok} · failed ${o.failed} · invalid ${o.invalid} · cancelled ${o.cancelled} · duplicates ${progress.duplicates}`,
        ...(codes ? [`errors: ${codes}`] : []),
        `result pages ${progress.resultPages} · run ${progress.runs}`,
      ].join('\n\n'),
    );
  };

  setHandler(batchProgressQuery, () => ({ ...progress, queued: queue.length }));

  setHandler(
    addPageUpdate,
    (page): AddPageAck => {
      if (page.pageIndex < state.nextPageIndex)
        return { accepted: false, nextPageIndex: state.nextPageIndex };
      for (const item of page.items) {
        const operations =
          Array.isArray(item.operations) && item.operations.length > 0 ? item.operations : [''];
        for (const operation of operations) {
          progress.total++;
          const base = { index: item.index, ...(item.ref !== undefined ? { ref: item.ref } : {}), operation };
          const duplicateOf = options.dedupe ? item.duplicateOf?.[operation] : undefined;
          const request = {
            msisdn: item.msisdn,
            operation: operation as Operation,
            ...(item.maxAge !== undefined ? { maxAge: item.maxAge } : {}),
            ...(item.purpose !== undefined ? { purpose: item.purpose } : {}),
          };
          const problem = checkRequestProblem(request);
          if (problem)
            record({ ...base, outcome: 'invalid', error: { code: 'INVALID_INPUT', message: problem } });
          else if (duplicateOf !== undefined) record({ ...base, outcome: 'duplicate', duplicateOf });
          else queue.push({ index: item.index, ref: item.ref, request, subject: item.subject });
        }
      }
      state.nextPageIndex = page.pageIndex + 1;
      progress.pagesReceived = state.nextPageIndex;
      if (page.last) state.inputComplete = progress.inputComplete = true;
      if (progress.state === 'receiving' && state.inputComplete) progress.state = 'running';
      show();
      return { accepted: true, nextPageIndex: state.nextPageIndex };
    },
    {
      validator: (page: BatchPage) => {
        if (!page || !Number.isInteger(page.pageIndex) || !Array.isArray(page.items)) {
          throw new TypeError('a page needs pageIndex (integer) and items (array)');
        }
        if (page.pageIndex > state.nextPageIndex) {
          throw new RangeError(`page ${page.pageIndex} is early: send page ${state.nextPageIndex} first`);
        }
        if (state.inputComplete && page.pageIndex >= state.nextPageIndex) {
          throw new RangeError('the batch input is complete: no page may follow the last one');
        }
        if (
          page.pageIndex === state.nextPageIndex &&
          queue.length > 0 &&
          queue.length + page.items.length > queueLimit
        ) {
          throw new Error(`BUSY: ${queue.length} checks queued; send page ${page.pageIndex} again shortly`);
        }
      },
    },
  );

  /** Stores full result pages (or everything, with `all`); never interrupted by cancellation, so no record is lost. */
  async function storeRecords(all: boolean): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      while (pending.length >= options.resultPageSize || (all && pending.length > 0)) {
        const page = pending.slice(0, options.resultPageSize);
        const number = progress.resultPages;
        await executeChild(batchResultPage, {
          workflowId: resultPageId(batchId, number),
          args: [page],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: `results ${number} of batch ${batchId} (${page.length} records)`,
        });
        pending = pending.slice(page.length);
        progress.resultPages = number + 1;
      }
    });
  }

  function launch(check: QueuedCheck): void {
    const { request, index, ref } = check;
    const base = { index, ...(ref !== undefined ? { ref } : {}), operation: request.operation };
    const args: NetworkCheckInput = {
      ...request,
      subject: check.subject,
      batchId,
      skipFirstWait: options.skipFirstWait,
      maxAuthorizations: options.maxAuthorizations,
      fast: options.fast,
    };
    progress.inFlight++;
    startedThisRun++;
    // Not awaited: the main loop tracks completion through inFlight; every outcome becomes a record.
    void executeChild(networkCheck, {
      workflowId: checkId(batchId, index, request.operation),
      args: [args],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: NetcheckOperation, value: request.operation },
        { key: NetcheckBatchId, value: batchId },
        ...(check.subject ? [{ key: NetcheckSubject, value: check.subject }] : []),
      ],
      staticSummary: `${request.operation} · ${maskMsisdn(request.msisdn)} · batch ${batchId} #${index}`,
      staticDetails: [
        `**Operation:** ${request.operation}`,
        `**Number:** ${maskMsisdn(request.msisdn)}`,
        ...(args.maxAge !== undefined ? [`**maxAge:** ${args.maxAge} h`] : []),
        ...(check.subject ? [`**Subject:** ${check.subject}`] : []),
        `**Batch:** ${batchId} · item ${index}`,
      ].join('\n\n'),
    })
      .then(
        (result) => record({ ...base, outcome: result.status, result }),
        (err: unknown) => {
          if (isCancellation(err)) {
            record({
              ...base,
              outcome: 'cancelled',
              error: { code: 'CANCELLED', message: 'The batch was cancelled' },
            });
          } else {
            const code: ErrorCode = errorCodeOf(err) ?? 'INTERNAL';
            record({ ...base, outcome: 'failed', error: { code, message: messageOf(err) } });
          }
        },
      )
      .finally(() => {
        progress.inFlight--;
        show();
      });
  }

  const allDone = () => state.inputComplete && queue.length === 0 && progress.inFlight === 0;
  const timeToContinueAsNew = () => startedThisRun >= options.continueAsNewAfter;

  try {
    show();
    for (;;) {
      await condition(
        () =>
          allDone() ||
          pending.length >= options.resultPageSize ||
          (timeToContinueAsNew() && progress.inFlight === 0) ||
          (!timeToContinueAsNew() && queue.length > 0 && progress.inFlight < options.concurrency),
      );
      while (!timeToContinueAsNew() && queue.length > 0 && progress.inFlight < options.concurrency) {
        launch(queue.shift()!);
      }
      await storeRecords(false);
      if (allDone()) break;
      if (timeToContinueAsNew() && progress.inFlight === 0) {
        await storeRecords(true);
        await condition(allHandlersFinished);
        progress.runs++;
        return await continueAsNew<typeof batchCheck>({ batchId, options: input.options, carried: state });
      }
    }
    await storeRecords(true);
    progress.state = 'completed';
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled: children in flight were asked to cancel; wait for their records, then record the rest.
    await CancellationScope.nonCancellable(async () => {
      await condition(() => progress.inFlight === 0);
      for (const check of queue.splice(0)) {
        record({
          index: check.index,
          ...(check.ref !== undefined ? { ref: check.ref } : {}),
          operation: check.request.operation,
          outcome: 'cancelled' satisfies RecordOutcome,
          error: { code: 'CANCELLED', message: 'The batch was cancelled before this check started' },
        });
      }
      await storeRecords(true);
      progress.state = 'cancelled';
    });
  }
  show();
  return { ...progress, queued: queue.length };
}

function messageOf(err: unknown): string {
  let current: unknown = err;
  while (
    current &&
    typeof current === 'object' &&
    'cause' in current &&
    (current as { cause?: unknown }).cause
  ) {
    current = (current as { cause?: unknown }).cause;
  }
  return current instanceof Error ? current.message : String(err);
}
