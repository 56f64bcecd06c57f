/**
 * Batch client API: start (or attach to) a batch, stream its input in pages, follow its
 * progress and read every result record exactly once.
 *
 *   const batch = await startBatch(client, items, { batchId: 'nightly-2026-11-28' });
 *   for await (const record of batch.results()) pipeline.write(record);
 *   const summary = await batch.result();
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  ServiceError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
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
import { resolveTaskQueue, timeoutSettings } from '../common/settings.js';
import { ensureEncryptionMatches } from '../codec/policy.js';
import {
  BATCH_BUSY,
  BATCH_DEFAULTS,
  batchOptionsProblem,
  boundedItem,
  checkId,
  dedupeKey,
  DEFAULT_PAGE_ITEMS,
  MAX_BATCH_ITEMS,
  PAGE_MAX_ITEMS,
  PageBuilder,
  resultPageId,
} from '../domain/batch-state.js';
import {
  errorCodeOf,
  innermostMessage,
  InvalidRequestError,
  NetcheckError,
  UsageError,
} from '../domain/errors.js';
import { batchPriority } from '../domain/priority.js';
import { configuredCheckTimeout, resolveExecutionTimeout, type DurationInput } from '../domain/timeouts.js';
import { isE164 } from '../domain/msisdn.js';
import { defaultPurpose, isApi, isOperation, parsePurposeSetting, type Api } from '../domain/operations.js';
import type { CheckResult } from '../domain/types.js';
import { addPageUpdate, batchCheck, batchProgressQuery, batchResultPage } from '../workflows/batch.js';
import type { networkCheck } from '../workflows/network-check.js';
import { clientDefaults, purposeSettingOf, resolveSubjectKey, type ClientDefaults } from './index.js';
import {
  callerSearchAttributes,
  checkIdPolicies,
  checkStartRunOptions,
  type StartRunOptions,
} from './start-options.js';
import { subjectOf } from './subject.js';

/**
 * The batch's workflow task timeout (Temporal's default is 10 s; continue-as-new keeps it). A
 * worker that lost the batch from its cache (killed, restarted, evicted) replays the run's whole
 * history inside one task, about 1 ms per event on 2 cores and twice that under load: a run of
 * ~5,000 events needs 5–10 s. The cost: a task lost with a crashed server is retried this long
 * after the crash.
 */
const BATCH_WORKFLOW_TASK_TIMEOUT = '20 seconds';

export {
  BATCH_DEFAULTS,
  FIELD_LIMITS,
  MAX_BATCH_ITEMS,
  PAGE_MAX_BYTES,
  PAGE_MAX_ITEMS,
} from '../domain/batch-state.js';

export interface StartBatchOptions extends Omit<BatchOptions, 'checkTimeout'>, StartRunOptions {
  /** Caller-chosen id; starting the same id again attaches to the existing batch. */
  batchId: string;
  /** Task queue of the netcheck workers (default NETCHECK_TASK_QUEUE or "netcheck"). */
  taskQueue?: string;
  /** Key of the subject hash (default NETCHECK_SUBJECT_KEY, at least 32 bytes). */
  subjectKey?: string | Uint8Array;
  /**
   * When a batch with this id is running. Default `USE_EXISTING`: attach to it (and send the
   * input it still lacks). `FAIL`: throw Temporal's WorkflowExecutionAlreadyStartedError. A
   * closed batch is always attached to, never started again: its checks and result pages carry
   * its id.
   */
  workflowIdConflictPolicy?: 'USE_EXISTING' | 'FAIL';
  /**
   * Most items per input page sent to the workflow: 1–5,000 (default 500). A page is also cut
   * at PAGE_MAX_BYTES (256 KiB of JSON), whichever comes first.
   */
  pageSize?: number;
  /** The API of items that name none (default NETCHECK_API, else per operation: camara; identity-insights for carrier). */
  api?: Api;
  /** The purpose of items that name none (default NETCHECK_PURPOSE, else what Vonage documents per operation). */
  purpose?: string;
  /**
   * The batch's workflow execution timeout, for its whole chain of runs: milliseconds or a
   * duration such as `'36h'`, `'7d'` (1 s–366 days). Default NETCHECK_BATCH_TIMEOUT, else 7 days.
   */
  executionTimeout?: DurationInput;
  /**
   * Each check's execution timeout (per-check batches): milliseconds or a duration (1 s–366
   * days). Default NETCHECK_CHECK_TIMEOUT, else 1 hour (set by the workflow).
   */
  checkTimeout?: DurationInput;
  /** The most items this batch takes: 1–1,000,000 (MAX_BATCH_ITEMS, the default). */
  maxItems?: number;
}

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

/**
 * Memo key of the input fingerprint: an HMAC (keyed with the subject key, so it reveals nothing
 * of the numbers) of the first page of items. Batches started before it existed have none and
 * are not checked.
 */
export const INPUT_FINGERPRINT_MEMO = 'netcheckInput';

/** JSON with object keys sorted, so two equal items always give the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function inputFingerprint(head: BatchItem[], key: string | Uint8Array): string {
  return createHmac('sha256', key)
    .update(`netcheck-batch-input:v1:${canonical(head)}`)
    .digest('base64url')
    .slice(0, 32);
}

/** Takes up to `n` items off the input, and the whole input again (those items first). */
async function peek(
  items: Iterable<BatchItem> | AsyncIterable<BatchItem>,
  n: number,
): Promise<{ head: BatchItem[]; all: AsyncIterable<BatchItem> }> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  const head: BatchItem[] = [];
  let done = false;
  while (head.length < n) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
  }
  async function* all(): AsyncIterable<BatchItem> {
    yield* head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { head, all: all() };
}

/** Throws BatchConflictError when the batch was started with another input fingerprint. */
async function ensureSameInput(
  workflow: WorkflowHandle<typeof batchCheck>,
  fingerprint: string,
): Promise<void> {
  const { memo } = await workflow.describe();
  const theirs = memo?.[INPUT_FINGERPRINT_MEMO];
  if (typeof theirs === 'string' && theirs !== fingerprint) throw new BatchConflictError(workflow.workflowId);
}

const BATCH_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

function checkBatchId(batchId: unknown): asserts batchId is string {
  if (typeof batchId !== 'string' || !BATCH_ID.test(batchId)) {
    throw new InvalidRequestError(
      `batchId must be 1–200 characters of letters, digits and . _ : - starting with a letter or digit (got ${JSON.stringify(batchId)})`,
    );
  }
}

function isIterable(items: unknown): items is Iterable<BatchItem> | AsyncIterable<BatchItem> {
  return (
    items !== null && typeof items === 'object' && (Symbol.iterator in items || Symbol.asyncIterator in items)
  );
}
/** How long a page is resent after transient errors (Temporal unavailable, an RPC timeout). */
const TRANSIENT_RETRY_MS = 120_000;

/** Starts the batch (or attaches to the one with this id) and sends every item; returns once all are sent. */
export async function startBatch(
  client: Client,
  items: Iterable<BatchItem> | AsyncIterable<BatchItem>,
  options: StartBatchOptions,
): Promise<BatchHandle> {
  const {
    batchId,
    taskQueue,
    subjectKey,
    pageSize = DEFAULT_PAGE_ITEMS,
    api,
    purpose,
    executionTimeout,
    checkTimeout,
    maxItems = MAX_BATCH_ITEMS,
    typedSearchAttributes,
    memo,
    staticSummary,
    staticDetails,
    priority,
    workflowIdConflictPolicy,
    ...givenOptions
  } = options;
  checkBatchId(batchId);
  if (!isIterable(items)) {
    throw new InvalidRequestError('items must be an array, an iterable or an async iterable of batch items');
  }
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > PAGE_MAX_ITEMS) {
    throw new InvalidRequestError(
      `pageSize must be a whole number from 1 to ${PAGE_MAX_ITEMS} (got ${pageSize})`,
    );
  }
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > MAX_BATCH_ITEMS) {
    throw new InvalidRequestError(
      `maxItems must be a whole number from 1 to ${MAX_BATCH_ITEMS} (got ${maxItems})`,
    );
  }
  const runOptions: StartRunOptions = { typedSearchAttributes, memo, staticSummary, staticDetails, priority };
  checkStartRunOptions(runOptions, [INPUT_FINGERPRINT_MEMO]);
  checkIdPolicies({ workflowIdConflictPolicy });
  if (Array.isArray(items) && items.length > maxItems) throw new BatchTooLargeError(maxItems);
  const batchTimeout = resolveExecutionTimeout('batch', executionTimeout, timeoutSettings());
  // A bulk batch has no check workflows: NETCHECK_CHECK_TIMEOUT does not apply (the option is refused).
  const checkTimeoutMs =
    givenOptions.bulk === true && checkTimeout === undefined
      ? undefined
      : configuredCheckTimeout(checkTimeout, timeoutSettings(), 'checkTimeout');
  const batchOptions: BatchOptions = {
    ...givenOptions,
    ...(checkTimeoutMs !== undefined ? { checkTimeout: checkTimeoutMs } : {}),
  };
  const problem = batchOptionsProblem(batchOptions);
  if (problem) throw new InvalidRequestError(`Invalid batch options: ${problem}`);
  if (api !== undefined && !isApi(api))
    throw new InvalidRequestError(`api must be camara or identity-insights (got ${JSON.stringify(api)})`);
  // One purpose, or one per API family (`sim-swap=…,device-status=…`).
  const parsedPurpose = purpose === undefined ? undefined : parsePurposeSetting(purpose);
  if (parsedPurpose?.problem !== undefined) throw new InvalidRequestError(parsedPurpose.problem);
  const env = clientDefaults();
  const { purpose: envPurpose, purposes: envPurposes, ...envRest } = env;
  const defaults: ClientDefaults = {
    ...envRest,
    ...(api !== undefined ? { api } : {}),
    ...(parsedPurpose?.setting ??
      (envPurpose !== undefined ? { purpose: envPurpose } : envPurposes ? { purposes: envPurposes } : {})),
  };
  const key = resolveSubjectKey(subjectKey);
  const queue = resolveTaskQueue(taskQueue);
  // Fail closed: a client without keys sends no page to workers that encrypt (ConfigurationError).
  await ensureEncryptionMatches(client, queue);
  // The first page identifies the input: the same batch id with other input is refused.
  const input = await peek(items, pageSize);
  const fingerprint = inputFingerprint(
    input.head.map((item) => withDefaults(item, defaults)),
    key,
  );
  let workflow: WorkflowHandle<typeof batchCheck>;
  try {
    workflow = await client.workflow.start(batchCheck, {
      workflowId: batchId,
      taskQueue: queue,
      args: [{ batchId, options: batchOptions }],
      workflowIdConflictPolicy: workflowIdConflictPolicy ?? 'USE_EXISTING',
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowTaskTimeout: BATCH_WORKFLOW_TASK_TIMEOUT,
      // Spans every continue-as-new run: the whole batch ends by then, whatever happens.
      workflowExecutionTimeout: batchTimeout,
      typedSearchAttributes: [
        { key: NetcheckBatchId, value: batchId },
        ...callerSearchAttributes(runOptions),
      ],
      memo: { ...memo, [INPUT_FINGERPRINT_MEMO]: fingerprint },
      // Below a check started on its own (BATCH_PRIORITY_KEY), unless the caller says otherwise;
      // its checks and chunks inherit it.
      priority: batchPriority(priority),
      staticSummary: staticSummary ?? `netcheck batch ${batchId}`,
      staticDetails:
        staticDetails ??
        [
          `**Batch:** ${batchId}`,
          `**Concurrency:** ${batchOptions.concurrency ?? BATCH_DEFAULTS.concurrency}`,
          `**Dedupe:** ${batchOptions.dedupe ?? BATCH_DEFAULTS.dedupe}`,
          ...(batchOptions.bulk
            ? [
                `**Mode:** bulk — chunks of ${batchOptions.chunkSize ?? BATCH_DEFAULTS.chunkSize}, ` +
                  `${batchOptions.chunkConcurrency ?? BATCH_DEFAULTS.chunkConcurrency} at once` +
                  (batchOptions.rateLimit !== undefined ? `, ${batchOptions.rateLimit} req/s` : ''),
              ]
            : []),
          ...(defaults.api ? [`**API (items without one):** ${defaults.api}`] : []),
          ...(purposeSettingOf(defaults)
            ? [`**Purpose (items without one):** ${purposeSettingOf(defaults)}`]
            : []),
        ].join('\n\n'),
    });
  } catch (err) {
    // The batch ran before and is closed: attach to it (if it had this input), send nothing.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const existing = client.workflow.getHandle<typeof batchCheck>(batchId);
    if (workflowIdConflictPolicy === 'FAIL' && (await existing.describe()).status.name === 'RUNNING')
      throw err;
    await ensureSameInput(existing, fingerprint);
    return getBatch(client, batchId);
  }
  // A running batch of this id (USE_EXISTING attached to it) must have had this input.
  await ensureSameInput(workflow, fingerprint);
  const handle = getBatch(client, batchId);
  const progress = await handle.progress();
  if (!progress.inputComplete) {
    await sendPages(workflow, input.all, {
      pageSize,
      from: progress.pagesReceived,
      key,
      dedupe: batchOptions.dedupe ?? BATCH_DEFAULTS.dedupe,
      defaults,
      maxItems,
    });
  }
  return handle;
}

/** The item with the batch's defaults for what it does not name. */
function withDefaults(item: BatchItem, defaults: ClientDefaults): BatchItem {
  const out: BatchItem = { ...item };
  if (out.api === undefined && defaults.api !== undefined) out.api = defaults.api;
  const setting = purposeSettingOf(defaults);
  if (out.purpose === undefined && setting !== undefined) {
    // Only where a purpose is sent at all (carrier sends none); each check then sends the one
    // its API family takes from the setting (resolvePurpose).
    const needs = (Array.isArray(item.operations) ? item.operations : []).some(
      (op) => isOperation(op) && defaultPurpose(op, out.api ?? 'camara') !== undefined,
    );
    if (needs) out.purpose = setting;
  }
  return out;
}

/** Numbers, bounds, hashes and dedupes the items in input order, and sends pages from `from` on. */
async function sendPages(
  workflow: WorkflowHandle<typeof batchCheck>,
  items: Iterable<BatchItem> | AsyncIterable<BatchItem>,
  opts: {
    pageSize: number;
    from: number;
    key: string | Uint8Array;
    dedupe: boolean;
    defaults: ClientDefaults;
    maxItems: number;
  },
): Promise<void> {
  const firstSeen = new Map<string, number>();
  const pages = new PageBuilder(opts.pageSize);
  let pageIndex = 0;
  const send = async (pageItems: BatchPageItem[], last: boolean) => {
    // Pages the batch already has (an earlier, interrupted start) are skipped, not resent.
    if (pageIndex >= opts.from) await sendPage(workflow, { pageIndex, items: pageItems, last });
    pageIndex++;
  };

  let index = 0;
  for await (const item of items) {
    if (index >= opts.maxItems) {
      // Part of the input is in the batch already: cancel it rather than leave a partial batch running.
      await workflow.cancel();
      throw new BatchTooLargeError(opts.maxItems, workflow.workflowId);
    }
    let entry: BatchPageItem;
    try {
      entry = boundedItem(withDefaults(item, opts.defaults), index);
    } catch (err) {
      // More operations on one item than there are: the input is wrong, not the batch.
      if (err instanceof TypeError) throw new InvalidRequestError(err.message, { cause: err });
      throw err;
    }
    if (isE164(entry.msisdn)) {
      entry.subject = subjectOf(entry.msisdn, opts.key);
      for (const operation of opts.dedupe && Array.isArray(entry.operations) ? entry.operations : []) {
        const key = dedupeKey(entry, operation);
        if (key === undefined) continue;
        const seenAt = firstSeen.get(key);
        if (seenAt === undefined) firstSeen.set(key, index);
        else (entry.duplicateOf ??= {})[operation] = seenAt;
      }
    }
    index++;
    // A page is sent once the next item shows it is full (so the last page is known as last).
    const full = pages.add(entry);
    if (full) await send(full, false);
  }
  await send(pages.finish(), true);
}

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
