/**
 * The state of one batch, as plain code: options and their bounds, the queue of checks, input
 * pages, result pages, progress, and what continues as new. The batchCheck workflow
 * (workflows/batch.ts) is the thin shell that starts the children and waits; everything it
 * decides comes from here, so it is unit-tested without a server (test/batch/).
 *
 * Workflow-safe: deterministic, no I/O, no Node built-ins, no workflow APIs.
 */
import { ApplicationFailure } from '@temporalio/common';
import type {
  AddPageAck,
  BatchItem,
  BatchOptions,
  BatchPage,
  BatchPageItem,
  BatchProgress,
  RecordOutcome,
  StoredRecord,
} from './batch.js';
import { maskMsisdn } from './msisdn.js';
import { assessItemProblem, assessOptionProblem, type AssessmentResult } from './assess.js';
import { isAcceptedRate, RATE_BOUNDS_TEXT } from './rate-limit.js';
import { EXECUTION_TIMEOUT_LIMITS } from './timeouts.js';
import {
  DEFAULT_API,
  defaultPurpose,
  isOperation,
  MAX_AGE_DEFAULT,
  OPERATIONS,
  type Api,
  type Operation,
} from './operations.js';
import { NetcheckApi, NetcheckBatchId, NetcheckOperation, NetcheckSubject } from './search-attributes.js';
import type { CheckError, CheckRequest, CheckResult, NetworkCheckInput } from './types.js';
import { checkRequestProblem } from './validate.js';
import { PATCH_FIELD_LIMITS } from './patches.js';

// ---- options ----

/** What a batch does when an option is not given (the one place these numbers live). */
export const BATCH_DEFAULTS = {
  concurrency: 100,
  dedupe: true,
  continueAsNewAfter: 2_000,
  resultPageSize: 200,
  /** Bulk mode: checks per chunk activity. */
  chunkSize: 200,
  /** Bulk mode: chunk activities running at once. */
  chunkConcurrency: 4,
} as const;

/**
 * Inclusive bounds of the numeric options. Concurrency: Temporal allows 2,000 pending children.
 * continueAsNewAfter: each check adds ~3 events and its input and result to a run's history
 * (Temporal's limits are 50,000 events and 50 MB). resultPageSize: a result page is one
 * payload (Temporal refuses payloads over 2 MB; a record is at most a few KB).
 */
export const BATCH_OPTION_LIMITS = {
  concurrency: { min: 1, max: 1_000 },
  continueAsNewAfter: { min: 1, max: 5_000 },
  resultPageSize: { min: 1, max: 500 },
  maxAuthorizations: { min: 1, max: 10 },
  // A chunk's input and its outcomes (results so far) are one payload each, like a result page.
  chunkSize: { min: 1, max: 500 },
  chunkConcurrency: { min: 1, max: 100 },
} as const;

/**
 * Bulk mode's rateLimit before RATE_LIMITS (0.1–10,000 requests per second) held: batches
 * already running keep a rate up to this (workflows/batch.ts checks the new bounds on new runs).
 */
export const RATE_LIMIT_MAX = 100_000;

/**
 * Each check's execution timeout in a per-check batch (ms; default DEFAULT_CHECK_TIMEOUT_MS,
 * 1 h). The client sends it only when the caller configured one (option or
 * NETCHECK_CHECK_TIMEOUT), so workers from before the option still take the batch.
 */
export const CHECK_TIMEOUT_LIMITS = {
  min: EXECUTION_TIMEOUT_LIMITS.minMs,
  max: EXECUTION_TIMEOUT_LIMITS.maxMs,
} as const;

/** Options that only mean something in bulk mode. */
const BULK_ONLY_OPTIONS = ['chunkSize', 'chunkConcurrency', 'rateLimit'] as const;

/** Batch options with the defaults filled in. */
export interface ResolvedBatchOptions extends BatchOptions {
  concurrency: number;
  dedupe: boolean;
  continueAsNewAfter: number;
  resultPageSize: number;
  chunkSize: number;
  chunkConcurrency: number;
}

const BOOLEAN_OPTIONS = ['dedupe', 'skipFirstWait', 'fast', 'bulk'] as const;
const KNOWN_OPTIONS = new Set<string>([
  ...Object.keys(BATCH_OPTION_LIMITS),
  ...BOOLEAN_OPTIONS,
  'rateLimit',
  'checkTimeout',
  'assess',
]);

/**
 * What is wrong with batch options (every problem, joined), or undefined when they are valid.
 * `legacyRate`: a bulk rateLimit is checked against the bounds of batches started before
 * RATE_LIMITS (> 0 and at most RATE_LIMIT_MAX), for runs already going (workflows/batch.ts).
 */
export function batchOptionsProblem(
  options: unknown,
  { legacyRate = false }: { legacyRate?: boolean } = {},
): string | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return `batch options must be an object (got ${JSON.stringify(options)})`;
  }
  const given = options as Record<string, unknown>;
  const problems: string[] = [];
  for (const [name, { min, max }] of Object.entries(BATCH_OPTION_LIMITS)) {
    const value = given[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
    }
  }
  for (const name of BOOLEAN_OPTIONS) {
    const value = given[name];
    if (value !== undefined && typeof value !== 'boolean') {
      problems.push(`${name} must be true or false (got ${JSON.stringify(value)})`);
    }
  }
  const rate = given.rateLimit;
  if (legacyRate) {
    if (rate !== undefined && (typeof rate !== 'number' || !(rate > 0) || rate > RATE_LIMIT_MAX)) {
      problems.push(
        `rateLimit must be a number of requests per second above 0 and at most ${RATE_LIMIT_MAX} (got ${JSON.stringify(rate)})`,
      );
    }
  } else if (rate !== undefined && !isAcceptedRate(rate)) {
    problems.push(
      `rateLimit must be a number of requests per second ${RATE_BOUNDS_TEXT} (got ${JSON.stringify(rate)})`,
    );
  }
  const checkTimeout = given.checkTimeout;
  if (checkTimeout !== undefined) {
    const { min, max } = CHECK_TIMEOUT_LIMITS;
    if (
      typeof checkTimeout !== 'number' ||
      !Number.isInteger(checkTimeout) ||
      checkTimeout < min ||
      checkTimeout > max
    ) {
      problems.push(
        `checkTimeout must be a whole number of milliseconds from ${min} (1s) to ${max} (366d) (got ${JSON.stringify(checkTimeout)})`,
      );
    }
    if (given.bulk === true) {
      problems.push('checkTimeout applies to per-check batches only: a bulk batch has no workflow per check');
    }
  }
  if (given.bulk !== true) {
    const bulkOnly = BULK_ONLY_OPTIONS.filter((name) => given[name] !== undefined);
    if (bulkOnly.length > 0)
      problems.push(`${bulkOnly.join(', ')} apply only to bulk batches: set bulk: true`);
  }
  if (given.bulk === true && given.fast === true) {
    problems.push(
      'fast applies to per-check batches only: bulk batches run every step in the chunk activity',
    );
  }
  const assessProblem = assessOptionProblem(given);
  if (assessProblem) problems.push(assessProblem);
  const unknown = Object.keys(given).filter((k) => !KNOWN_OPTIONS.has(k) && given[k] !== undefined);
  if (unknown.length > 0) {
    problems.push(`unknown batch option(s): ${unknown.join(', ')} (known: ${[...KNOWN_OPTIONS].join(', ')})`);
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** Defaults filled in. Validate first (batchOptionsProblem): this only merges. */
export function resolveBatchOptions(options: BatchOptions | undefined): ResolvedBatchOptions {
  const given = Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined));
  return { ...BATCH_DEFAULTS, ...given };
}

// ---- input items and pages ----

/**
 * Longest accepted text of an item's fields, in characters. Beyond these an item cannot be
 * valid anyway (a number, a purpose, an operation or an API name), or it would bloat every
 * page, record and history it travels through (a ref). The client cuts longer values to one
 * character over the limit before sending, so a page stays small and the item is recorded
 * `invalid` with the reason.
 */
export const FIELD_LIMITS = {
  msisdn: 32,
  ref: 256,
  /** One purpose, or one per API family (`sim-swap=…,device-status=…`: up to 78 characters today). */
  purpose: 128,
  operation: 32,
  api: 32,
} as const;

/** More operations than this on one item is a caller's bug, not a value to record. */
export const MAX_OPERATIONS_PER_ITEM = 16;

/**
 * A page the client sends holds at most this many items and this many bytes (as JSON), well
 * under Temporal's 2 MB payload limit: the update that carries it is stored in history.
 */
export const PAGE_MAX_ITEMS = 5_000;
/**
 * The most items one batch takes (startBatch and `netcheck batch`), beside the CLI's byte cap
 * (MAX_INPUT_BYTES): one batch's records, dedupe map and progress stay within what a client and
 * a week's execution timeout can carry. A bigger input is several batches.
 */
export const MAX_BATCH_ITEMS = 1_000_000;
export const PAGE_MAX_BYTES = 256 * 1024;
export const DEFAULT_PAGE_ITEMS = 500;

/**
 * The queue is carried through continue-as-new in one payload: a page is refused for now
 * (BATCH_BUSY) while the queue holds this many bytes, or more checks than the queue limit.
 */
export const QUEUE_MAX_BYTES = 1024 * 1024;

/** The ApplicationFailure type of a page refused because the queue is full: send it again shortly. */
export const BATCH_BUSY = 'BATCH_BUSY';

/** UTF-8 length of a string, without TextEncoder (not in every workflow sandbox). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

export const jsonBytes = (value: unknown): number => utf8Length(JSON.stringify(value) ?? '');

/** The API a check of `operation` uses when nothing names one: camara, or the one API that serves it. */
export function defaultApiFor(operation: string): Api {
  if (!isOperation(operation)) return DEFAULT_API;
  const apis = OPERATIONS[operation].apis as readonly Api[];
  return apis.includes(DEFAULT_API) ? DEFAULT_API : apis[0]!;
}

/** The check request of one (item, operation), with the API resolved. */
export function requestOf(item: BatchItem, operation: string): CheckRequest {
  return {
    msisdn: item.msisdn,
    operation: operation as Operation,
    api: item.api ?? defaultApiFor(operation),
    ...(item.maxAge !== undefined ? { maxAge: item.maxAge } : {}),
    ...(item.purpose !== undefined ? { purpose: item.purpose } : {}),
  };
}

/** What makes an (item, operation) invalid beyond the check request itself: an overlong ref. */
export function itemFieldProblem(item: BatchItem): string | undefined {
  if (typeof item.ref === 'string' && item.ref.length > FIELD_LIMITS.ref) {
    return `ref is longer than ${FIELD_LIMITS.ref} characters; shorten it`;
  }
  return undefined;
}

/**
 * What two checks must share to be one check: number, operation, API, purpose and (sim-swap)
 * maxAge, as the workflow will resolve them. Undefined for a request that is not valid (it is
 * recorded `invalid`, never deduplicated).
 */
export function dedupeKey(item: BatchItem, operation: string): string | undefined {
  const request = requestOf(item, operation);
  if (checkRequestProblem(request) || itemFieldProblem(item)) return undefined;
  const api = request.api ?? DEFAULT_API;
  const purpose = request.purpose ?? defaultPurpose(request.operation, api) ?? '';
  const maxAge = request.operation === 'sim-swap' ? (request.maxAge ?? MAX_AGE_DEFAULT) : '';
  return [request.operation, api, purpose, maxAge, request.msisdn].join('|');
}

/**
 * An item as the client sends it: fields over FIELD_LIMITS cut to one character over the limit
 * (so the batch still sees them as too long and records why), operations without repeats.
 * Throws a TypeError for more than MAX_OPERATIONS_PER_ITEM operations.
 */
export function boundedItem(item: BatchItem, index: number): BatchPageItem {
  const cut = (value: unknown, limit: number) =>
    typeof value === 'string' && value.length > limit ? value.slice(0, limit + 1) : value;
  const operations = Array.isArray(item.operations)
    ? [...new Set(item.operations.map((o) => cut(o, FIELD_LIMITS.operation) as Operation))]
    : item.operations;
  if (Array.isArray(operations) && operations.length > MAX_OPERATIONS_PER_ITEM) {
    throw new TypeError(
      `item ${index} has ${operations.length} operations; at most ${MAX_OPERATIONS_PER_ITEM} (there are ${Object.keys(OPERATIONS).length} operations)`,
    );
  }
  const out: BatchPageItem = {
    ...item,
    index,
    msisdn: cut(item.msisdn, FIELD_LIMITS.msisdn) as string,
    operations,
  };
  if (item.ref !== undefined) out.ref = cut(item.ref, FIELD_LIMITS.ref) as string;
  if (item.purpose !== undefined) out.purpose = cut(item.purpose, FIELD_LIMITS.purpose) as string;
  if (item.api !== undefined) out.api = cut(item.api, FIELD_LIMITS.api) as Api;
  return out;
}

/**
 * Cuts a stream of items into pages of at most `maxItems` items and PAGE_MAX_BYTES bytes. Pure
 * and deterministic, so a client that resends after a crash cuts the same pages.
 */
export class PageBuilder {
  private items: BatchPageItem[] = [];
  private bytes = 0;
  constructor(private readonly maxItems: number = DEFAULT_PAGE_ITEMS) {}

  /** Adds an item; returns the page it closes when this item does not fit in the current one. */
  add(item: BatchPageItem): BatchPageItem[] | undefined {
    const size = jsonBytes(item) + 1;
    let full: BatchPageItem[] | undefined;
    if (this.items.length > 0 && (this.items.length >= this.maxItems || this.bytes + size > PAGE_MAX_BYTES)) {
      full = this.items;
      this.items = [];
      this.bytes = 0;
    }
    this.items.push(item);
    this.bytes += size;
    return full;
  }

  /** The last page (possibly empty). */
  finish(): BatchPageItem[] {
    const last = this.items;
    this.items = [];
    this.bytes = 0;
    return last;
  }
}

// ---- the batch ----

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

export const resultPageId = (batchId: string, page: number) => `${batchId}/results/${page}`;
export const checkId = (batchId: string, index: number, operation: string) =>
  `${batchId}/${index}/${operation}`;

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
export interface ChildCheckStart {
  workflowId: string;
  input: NetworkCheckInput;
  searchAttributes: Array<
    | { key: typeof NetcheckOperation; value: string }
    | { key: typeof NetcheckApi; value: string }
    | { key: typeof NetcheckBatchId; value: string }
    | { key: typeof NetcheckSubject; value: string }
  >;
  staticSummary: string;
  staticDetails: string;
}

/** Rule changes that running histories must not see: the workflow answers with `patched(id)`. */
export type PatchGate = (patchId: string) => boolean;
/** Patch id (domain/patches.ts): records an (item, operation) with a ref over FIELD_LIMITS.ref as invalid. */
export { PATCH_FIELD_LIMITS };

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
      searchAttributes: [
        { key: NetcheckOperation, value: request.operation },
        { key: NetcheckApi, value: api },
        { key: NetcheckBatchId, value: this.batchId },
        ...(check.subject ? [{ key: NetcheckSubject, value: check.subject }] : []),
      ],
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
