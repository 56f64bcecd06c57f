/**
 * batchCheck: many numbers, each (item, operation) its own networkCheck child workflow.
 *
 *   client ──addPage update──► queue ──(≤ concurrency in flight)──► networkCheck children
 *                                                                        │ result or failure
 *   results() ◄── batchResultPage children (≤ resultPageSize records) ◄──┘ exactly one record each
 *
 * This file is the shell: it starts children, stores result pages, waits and continues as new.
 * What the batch holds and decides — queue, pages, progress, records — is domain/batch-state.ts
 * (its options domain/batch-options.ts, items and pages domain/batch-pages.ts), plain code with
 * unit tests of its own.
 *
 * - Input arrives in pages (the `addPage` update), never as one giant payload. A page already
 *   received is acknowledged and ignored, so a client may resend after a crash; a full queue
 *   refuses the page (validator, nothing written to history) with a BATCH_BUSY failure and the
 *   client sends it again.
 * - History stays bounded: after `continueAsNewAfter` checks, or sooner when Temporal suggests
 *   it (history length), the run drains its children, stores its records and continues as new,
 *   carrying only counters and the queue. A short run is also a quick replay.
 * - Child ids are `<batchId>/<index>/<operation>`: a replayed page never starts a check twice.
 * - Cancelling the batch cancels the checks in flight; every queued check is recorded as cancelled.
 * - Bulk mode (option `bulk`, docs/bulk.md): instead of children, chunks of checks go to
 *   `bulkChunk` activities (activities/bulk.ts) that run the flows in process and heartbeat
 *   their outcomes; domain/bulk-state.ts cuts the chunks and records their outcomes. Runs
 *   started before bulk mode existed never set the option, so their path is unchanged (no patch).
 */
import {
  ActivityCancellationType,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  TimeoutFailure,
  workflowInfo,
  WorkflowIdReusePolicy,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { AddPageAck, BatchOptions, BatchPage, BatchProgress, StoredRecord } from '../domain/batch.js';
import { BATCH_OPTION_LIMITS, batchOptionsProblem } from '../domain/batch-options.js';
import { resultPageId } from '../domain/batch-pages.js';
import { BatchState, type CarriedState, type QueuedCheck } from '../domain/batch-state.js';
import type { ChildStart } from '../domain/batch-child.js';
import type { BulkActivities, BulkChunkProgress } from '../domain/bulk.js';
import { BulkChunks } from '../domain/bulk-state.js';
import { activityType } from '../domain/activity-names.js';
import {
  causeChain,
  errorCodeOf,
  hasTimeout,
  innermostMessage as messageOf,
  netcheckFailure,
  type ErrorCode,
} from '../domain/errors.js';
import { isAcceptedRate } from '../domain/rate-limit.js';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../domain/timeouts.js';
import { networkCheck } from './network-check.js';
import {
  BATCH_ASSESS,
  BATCH_CHILD_PRIORITY,
  CHECK_TIMEOUT,
  END_RUN_WHEN_SUGGESTED,
  NAMESPACED_ACTIVITIES,
  OPTIONS_VALIDATED,
  RATE_BOUNDS,
} from './patches.js';
import { networkAssess } from './assess.js';
import { assessChildStart } from '../domain/assess.js';
import { batchPriority } from '../domain/priority.js';
import { notePlaintextArgument, refusePlaintextArgument, refusePlaintextInput } from './plaintext-guard.js';

export { BATCH_DEFAULTS } from '../domain/batch-options.js';
export { checkId, resultPageId } from '../domain/batch-pages.js';

export const addPageUpdate = defineUpdate<AddPageAck, [BatchPage]>('addPage');
export const batchProgressQuery = defineQuery<BatchProgress>('progress');

// Patch ids (workflows/patches.ts): OPTIONS_VALIDATED, every batch option is validated at start;
// END_RUN_WHEN_SUGGESTED, a run also ends (drains, continues as new) once Temporal suggests it
// (~4,000 events or a few MB of history), whatever continueAsNewAfter says: a worker that lost the
// batch from its cache replays the whole run inside one workflow task, and a 2,000-check run
// (~10,000 events) took over the task's timeout on a loaded machine.

/**
 * Bulk mode's chunk activity. A dead worker is noticed by the missed heartbeat; the retry runs
 * what the last recorded heartbeat does not hold. The batch's cancellation waits for the chunk
 * to hand back what it finished. Retries end after 10 attempts: the checks without an outcome
 * then fail with the chunk's error, so every check still gets its one record.
 */
const BULK_CHUNK_ACTIVITY: ActivityOptions = {
  heartbeatTimeout: '10 seconds',
  // A chunk of slow CIBA flows (long intervals, re-authorizations) may run for hours.
  startToCloseTimeout: '24 hours',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
  },
};
const bulkActivities = proxyActivities<BulkActivities>(BULK_CHUNK_ACTIVITY);

export interface BatchInput {
  batchId: string;
  options?: BatchOptions;
  /** Set by continue-as-new only. */
  carried?: CarriedState;
}

/** A stored page of batch records; its result is the page (read by the client's results()). */
export async function batchResultPage(records: StoredRecord[]): Promise<StoredRecord[]> {
  return Promise.resolve(records);
}

export async function batchCheck(input: BatchInput): Promise<BatchProgress> {
  // Started in the clear at a worker with a key ring: fails before any handler (a page sent
  // with the start is then rejected, never written to history).
  refusePlaintextInput(input, "This batch's start input");
  const { batchId } = input;
  const concurrency: unknown = input.options?.concurrency ?? 100;
  const { min, max } = BATCH_OPTION_LIMITS.concurrency;
  if (
    typeof concurrency !== 'number' ||
    !Number.isInteger(concurrency) ||
    concurrency < min ||
    concurrency > max
  ) {
    throw netcheckFailure(
      'INVALID_INPUT',
      `concurrency must be a whole number from ${min} to ${max} (got ${String(concurrency)})`,
    );
  }
  // Runs started before every option was checked may have taken other values: they go on as they were.
  const problem = batchOptionsProblem(input.options, { legacyRate: true });
  if (problem && patched(OPTIONS_VALIDATED))
    throw netcheckFailure('INVALID_INPUT', `Invalid batch options: ${problem}`);
  // The tighter rate bounds hold for batches started since; a batch already going keeps its rate.
  const rate = input.options?.rateLimit;
  if (input.carried === undefined && rate !== undefined && !isAcceptedRate(rate) && patched(RATE_BOUNDS)) {
    throw netcheckFailure('INVALID_INPUT', `Invalid batch options: ${batchOptionsProblem(input.options)}`);
  }

  const batch = new BatchState(batchId, input.options, input.carried, patched);
  // Bulk mode is an option no run before it could set: runs without it take the same path as before.
  const bulk = batch.options.bulk === true ? new BulkChunks(batch) : undefined;
  const show = () => setCurrentDetails(bulk ? bulk.details() : batch.details());

  setHandler(batchProgressQuery, () => batch.snapshot());

  setHandler(
    addPageUpdate,
    (page): AddPageAck => {
      notePlaintextArgument(page, `Page ${page.pageIndex} of batch ${batchId}`);
      const ack = batch.addPage(page);
      if (ack.accepted) show();
      return ack;
    },
    {
      validator: (page: BatchPage) => {
        // A page of numbers sent in the clear to a worker with a key ring: refused, never in history.
        refusePlaintextArgument(page, 'This page of numbers');
        const refusal = batch.pageRefusal(page);
        if (refusal) throw refusal;
      },
    },
  );

  /** Stores full result pages (or everything, with `all`); never interrupted by cancellation, so no record is lost. */
  async function storeRecords(all: boolean): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      for (let page = batch.nextResultPage(all); page; page = batch.nextResultPage(all)) {
        const number = batch.progress.resultPages;
        await executeChild(batchResultPage, {
          workflowId: resultPageId(batchId, number),
          args: [page],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: `results ${number} of batch ${batchId} (${page.length} records)`,
        });
        batch.resultPageStored(page.length);
      }
    });
  }

  function launch(): void {
    const { check, start } = batch.launch();
    // An assessment batch: the item's networkAssess instead (an option no earlier batch could set).
    const assess = batch.options.assess;
    if (assess && patched(BATCH_ASSESS)) return launchAssessment(check, start.workflowId, assess);
    // Not awaited: the main loop tracks completion through inFlight; every outcome becomes a record.
    // Every check ends: runs started before the timeout existed keep starting theirs without one.
    const timeout = patched(CHECK_TIMEOUT)
      ? { workflowExecutionTimeout: batch.options.checkTimeout ?? DEFAULT_CHECK_TIMEOUT_MS }
      : {};
    void executeChild(networkCheck, {
      ...childOptions(start),
      ...timeout,
      // Behind checks started on their own: the batch's priority, key 4 where it names none.
      ...(patched(BATCH_CHILD_PRIORITY) ? { priority: batchPriority(workflowInfo().priority) } : {}),
    })
      .then((result) => batch.finished(check, { result }), childFailed(check))
      .finally(childSettled);
  }

  /** What every batch child starts with: its id (never reused), input, search attributes and UI text. */
  function childOptions<Input>(start: ChildStart<Input>) {
    return {
      workflowId: start.workflowId,
      args: [start.input] as [Input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: start.searchAttributes,
      staticSummary: start.staticSummary,
      staticDetails: start.staticDetails,
    };
  }

  /** A child that did not complete: its record says cancelled, or its error code and message. */
  function childFailed(check: QueuedCheck) {
    return (err: unknown): void => {
      if (isCancellation(err)) batch.finished(check, { cancelled: true });
      else {
        const code: ErrorCode = errorCodeOf(err) ?? 'INTERNAL';
        batch.finished(check, { error: { code, message: messageOf(err) } });
      }
    };
  }

  /** After every child, whatever its end: a slot is free again and the UI details are renewed. */
  function childSettled(): void {
    batch.settled();
    show();
  }

  /** An assessment batch's item: a networkAssess child; its verdict (or why none) becomes the record. */
  function launchAssessment(
    check: QueuedCheck,
    workflowId: string,
    assess: NonNullable<BatchOptions['assess']>,
  ): void {
    const start = assessChildStart(check, batchId, workflowId, { ...batch.options, ...assess });
    void executeChild(networkAssess, {
      ...childOptions(start),
      workflowExecutionTimeout: batch.options.checkTimeout ?? DEFAULT_CHECK_TIMEOUT_MS,
      priority: batchPriority(workflowInfo().priority),
    })
      .then((assessment) => batch.finished(check, { assessment }), childFailed(check))
      .finally(childSettled);
  }

  /** Asked at the run's first chunk, then kept: the chunks of one run all have one activity type. */
  let namespacedChunks: boolean | undefined;
  /** Bulk mode: one activity runs a chunk of checks; its outcomes become the chunk's records. */
  function launchChunk(chunks: BulkChunks): void {
    const { chunk, input: chunkInput } = chunks.launch();
    // `netcheck.bulkChunk`; a run recorded before the namespace schedules the bare name.
    namespacedChunks ??= patched(NAMESPACED_ACTIVITIES);
    const type = activityType('bulkChunk', namespacedChunks) as 'bulkChunk';
    // Not awaited, like a child: the main loop tracks completion through inFlight.
    void bulkActivities[type]
      .executeWithOptions({ ...BULK_CHUNK_ACTIVITY, summary: chunk.summary }, [chunkInput])
      .then(
        (progress) => chunks.finished(chunk.number, progress),
        (err: unknown) => {
          const outcomes = lastHeartbeat(err)?.outcomes ?? [];
          if (isCancellation(err)) chunks.finished(chunk.number, { outcomes, cancelled: true });
          else {
            const code: ErrorCode = errorCodeOf(err) ?? (hasTimeout(err) ? 'TIMEOUT' : 'INTERNAL');
            chunks.finished(chunk.number, { outcomes, failure: { code, message: messageOf(err) } });
          }
        },
      )
      .finally(show);
  }

  try {
    show();
    for (;;) {
      await condition(() => (bulk ? bulk.hasWork() : batch.hasWork()));
      if (workflowInfo().continueAsNewSuggested && patched(END_RUN_WHEN_SUGGESTED)) batch.endRun();
      if (bulk) while (bulk.canLaunch()) launchChunk(bulk);
      else while (batch.canLaunch()) launch();
      await storeRecords(false);
      if (batch.allDone()) break;
      if (batch.readyToContinueAsNew()) {
        await storeRecords(true);
        await condition(allHandlersFinished);
        const carried = batch.continueAsNew();
        return await continueAsNew<typeof batchCheck>({ batchId, options: input.options, carried });
      }
    }
    await storeRecords(true);
    batch.progress.state = 'completed';
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled: children in flight were asked to cancel; wait for their records, then record the rest.
    await CancellationScope.nonCancellable(async () => {
      await condition(() => batch.progress.inFlight === 0);
      batch.cancelQueued();
      await storeRecords(true);
      batch.progress.state = 'cancelled';
    });
  }
  show();
  return batch.snapshot();
}

/** The outcomes a failed chunk activity last heartbeated (Temporal hands them back on a timeout). */
function lastHeartbeat(err: unknown): Partial<BulkChunkProgress> | undefined {
  for (const link of causeChain(err)) {
    if (!(link instanceof TimeoutFailure)) continue;
    const details: unknown = link.lastHeartbeatDetails;
    if (details && typeof details === 'object') return details;
  }
  return undefined;
}
