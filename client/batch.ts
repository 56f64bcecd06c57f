/**
 * Batch client API: start (or attach to) a batch, stream its input in pages, follow its
 * progress and read every result record exactly once.
 *
 *   const batch = await startBatch(client, items, { batchId: 'nightly-2026-11-28' });
 *   for await (const record of batch.results()) pipeline.write(record);
 *   const summary = await batch.result();
 *
 * This file starts a batch; the input's pages are batch-input.ts (one page on the wire:
 * batch-send.ts), a handle to a batch batch-handle.ts, the errors batch-errors.ts.
 */
import { WorkflowIdReusePolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import type { BatchItem, BatchOptions } from '../domain/batch.js';
import { NetcheckBatchId } from '../domain/search-attributes.js';
import { resolveTaskQueue, timeoutSettings } from '../common/settings.js';
import { ensureEncryptionMatches } from '../codec/policy.js';
import { BATCH_DEFAULTS, batchOptionsProblem } from '../domain/batch-options.js';
import { DEFAULT_PAGE_ITEMS, MAX_BATCH_ITEMS, PAGE_MAX_ITEMS } from '../domain/batch-pages.js';
import { InvalidRequestError } from '../domain/errors.js';
import { batchPriority } from '../domain/priority.js';
import { configuredCheckTimeout, resolveExecutionTimeout, type DurationInput } from '../domain/timeouts.js';
import { isApi, parsePurposeSetting, type Api } from '../domain/operations.js';
import type { Profile } from '../domain/profiles.js';
import { batchCheck } from '../workflows/batch.js';
import { clientDefaults, purposeSettingOf, resolveSubjectKey, type ClientDefaults } from './index.js';
import {
  runToAttach,
  callerSearchAttributes,
  checkIdPolicies,
  checkStartRunOptions,
  type StartRunOptions,
} from './start-options.js';
import { BatchTooLargeError } from './batch-errors.js';
import { checkBatchId, getBatch, type BatchHandle } from './batch-handle.js';
import {
  ensureSameInput,
  INPUT_FINGERPRINT_MEMO,
  inputFingerprint,
  peek,
  sendPages,
  withDefaults,
} from './batch-input.js';

export { BATCH_DEFAULTS } from '../domain/batch-options.js';
export { FIELD_LIMITS, MAX_BATCH_ITEMS, PAGE_MAX_BYTES, PAGE_MAX_ITEMS } from '../domain/batch-pages.js';
export { BatchClosedError, BatchConflictError, BatchTooLargeError } from './batch-errors.js';
export { getBatch, type BatchHandle } from './batch-handle.js';
export { INPUT_FINGERPRINT_MEMO } from './batch-input.js';

/**
 * The batch's workflow task timeout (Temporal's default is 10 s; continue-as-new keeps it). A
 * worker that lost the batch from its cache (killed, restarted, evicted) replays the run's whole
 * history inside one task, about 1 ms per event on 2 cores and twice that under load: a run of
 * ~5,000 events needs 5–10 s. The cost: a task lost with a crashed server is retried this long
 * after the crash.
 */
const BATCH_WORKFLOW_TASK_TIMEOUT = '20 seconds';

export interface StartBatchOptions extends Omit<BatchOptions, 'checkTimeout'>, StartRunOptions {
  /** Caller-chosen id; starting the same id again attaches to the existing batch. */
  batchId: string;
  /** Task queue of the netcheck workers (default NETCHECK_TASK_QUEUE or "netcheck"). */
  taskQueue?: string;
  /**
   * The operator profile whose workers run the batch (docs/profiles.md): without `taskQueue` or
   * NETCHECK_TASK_QUEUE, its default task queue (`netcheck-camara` for camara). Default
   * NETCHECK_PROFILE, else vonage.
   */
  profile?: Profile;
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

function isIterable(items: unknown): items is Iterable<BatchItem> | AsyncIterable<BatchItem> {
  return (
    items !== null && typeof items === 'object' && (Symbol.iterator in items || Symbol.asyncIterator in items)
  );
}

/** Starts the batch (or attaches to the one with this id) and sends every item; returns once all are sent. */
export async function startBatch(
  client: Client,
  items: Iterable<BatchItem> | AsyncIterable<BatchItem>,
  options: StartBatchOptions,
): Promise<BatchHandle> {
  const {
    batchId,
    taskQueue,
    profile,
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
  const queue = resolveTaskQueue(taskQueue, undefined, profile);
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
    const existing = await runToAttach<typeof batchCheck>(client, batchId, err, workflowIdConflictPolicy);
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
