/**
 * Batch types shared by the client, the batch workflow and the CLI. Workflow-safe. The batch's
 * rules: options in batch-options.ts, items and pages in batch-pages.ts, the queue, progress
 * and records in batch-state.ts.
 */
import type { Api, CheckError, CheckOptions, CheckResult, Operation } from './types.js';
import type { AssessBatchOption, AssessmentResult } from './assess.js';

/** One input line: a number and the operations to run on it. */
export interface BatchItem {
  msisdn: string;
  /** One or more operations; each becomes its own check and its own result record. */
  operations: Operation[];
  /**
   * Which Vonage API answers this item's checks: `camara` (the CIBA flow) or
   * `identity-insights`. Default: the batch's `api` option, else NETCHECK_API on the client,
   * else the first API that serves the operation (camara; identity-insights for `carrier`).
   */
  api?: Api;
  /** For `sim-swap`: hours, 1–2400 (default 240). */
  maxAge?: number;
  /** The DPV purpose the Vonage application is registered with (one of `PURPOSES`). */
  purpose?: string;
  /**
   * The caller's own reference (e.g. a customer id), copied into the result records; at most
   * 256 characters (a longer one makes the item's records `invalid`).
   */
  ref?: string;
}

/** Defaults and bounds: BATCH_DEFAULTS and BATCH_OPTION_LIMITS in batch-options.ts. */
export interface BatchOptions extends CheckOptions {
  /** Most checks in flight at once: 1–1,000 (default 100). */
  concurrency?: number;
  /**
   * Check a repeated (number, operation, api, purpose, maxAge) once and fan the result out
   * (default true).
   */
  dedupe?: boolean;
  /** Checks a workflow run starts before it continues as new: 1–5,000 (default 2,000). Bounds history. */
  continueAsNewAfter?: number;
  /** Records per stored result page: 1–500 (default 200). */
  resultPageSize?: number;
  /**
   * Bulk mode (docs/bulk.md): no child workflow per check; chunks of checks run in long-running
   * activities that heartbeat their results. For large screening runs. Default false.
   */
  bulk?: boolean;
  /** Bulk mode: checks per chunk activity, 1–500 (default 200). */
  chunkSize?: number;
  /**
   * Bulk mode: chunk activities running at once, 1–100 (default 4; never more than
   * `concurrency`). Each runs `concurrency / chunkConcurrency` flows at once.
   */
  chunkConcurrency?: number;
  /**
   * Bulk mode: requests per second to Vonage for this whole batch, across all workers (each
   * running chunk paces itself to rateLimit / chunkConcurrency). Default: none (the workers' own
   * pacing, NETCHECK_RATE_LIMIT, still applies per worker).
   */
  rateLimit?: number;
  /**
   * Per-check batches: each check's execution timeout in milliseconds, 1 s–366 days (default
   * 1 h, DEFAULT_CHECK_TIMEOUT_MS). startBatch fills it from its `checkTimeout` option or
   * NETCHECK_CHECK_TIMEOUT when one is set. A check that runs out is recorded `failed` with
   * `INTERNAL` (timed out).
   */
  checkTimeout?: number;
  /**
   * An assessment batch (startAssessBatch, `netcheck batch --assess`): each item is one
   * networkAssess of its number with this compiled policy, and its record carries the
   * `assessment`. Items take no operations (the client sends `assess`). Not with `bulk`.
   */
  assess?: AssessBatchOption;
}

/** Outcome of one (item, operation): `ok`/`failed` from the check, `invalid` input, or `cancelled`. */
export type RecordOutcome = 'ok' | 'failed' | 'invalid' | 'cancelled';

/** Exactly one per (input item, operation). */
export interface BatchRecord {
  /** Position of the item in the input (0-based). */
  index: number;
  ref?: string;
  /** The operation as given (it may be invalid). */
  operation: string;
  outcome: RecordOutcome;
  /** The check's result (for `ok` and `failed`). */
  result?: CheckResult;
  /** An assessment batch's record: the verdict and its evidence (outcome `ok`: a verdict was reached). */
  assessment?: AssessmentResult;
  /** Why an item was invalid or cancelled. */
  error?: CheckError;
  /** Set when this record repeats the check of an earlier item (dedupe). */
  duplicateOf?: number;
}

/** An input item as the client sends it: numbered, with its subject hash and dedupe marks. */
export interface BatchPageItem extends BatchItem {
  index: number;
  /** Keyed hash of the number (NetcheckSubject of its checks); computed by the client. */
  subject?: string;
  /** Per operation: the index of the earlier item that checks the same number (dedupe). */
  duplicateOf?: Partial<Record<string, number>>;
}

/** A page of input items as sent by the client (the `addPage` update). */
export interface BatchPage {
  pageIndex: number;
  items: BatchPageItem[];
  /** True on the last page: no more input follows. */
  last: boolean;
}

export interface AddPageAck {
  /** False when this page had already been received (a resend): nothing was added. */
  accepted: boolean;
  /** The page the batch expects next. */
  nextPageIndex: number;
}

/**
 * A record as stored in a result page. A repeat of an earlier check is stored as
 * `outcome: 'duplicate'` with `duplicateOf`; the client's results() fans the original's
 * outcome and result out to it, so readers always see a full BatchRecord.
 */
export type StoredRecord = Omit<BatchRecord, 'outcome'> & { outcome: RecordOutcome | 'duplicate' };

export interface BatchProgress {
  batchId: string;
  state: 'receiving' | 'running' | 'completed' | 'cancelled';
  /** Records expected so far (items × operations received). */
  total: number;
  inputComplete: boolean;
  pagesReceived: number;
  done: number;
  inFlight: number;
  queued: number;
  byOutcome: Record<RecordOutcome, number>;
  byErrorCode: Record<string, number>;
  duplicates: number;
  /** Result pages stored so far (read them with the client's batchResults()). */
  resultPages: number;
  /** Workflow runs so far (continue-as-new). */
  runs: number;
  /** Set on bulk batches: there is no check workflow per record. */
  bulk?: true;
  /** Bulk batches: chunk activities started so far. */
  chunks?: number;
}
