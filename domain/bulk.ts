/**
 * Bulk mode (batch option `bulk: true`): the batch hands chunks of (item, operation) checks to
 * one long-running activity each, which runs their HTTP flows concurrently in the worker's
 * process. These are the types that cross the workflow ↔ activity boundary, and the chunk's
 * summary. Workflow-safe.
 *
 * What crosses history: the chunk's check requests (numbers, like a per-check child's input;
 * encrypted by the payload codec when a key ring is set), and outcomes (CheckResult or error,
 * which hold no number). Tokens, auth_req_ids and JWTs stay inside the activity's process.
 */
import type { CheckError, CheckRequest, CheckResult } from './types.js';

/** One check of a chunk: its position in the chunk is its key. */
export interface BulkCheck {
  /** The item's index in the batch input (for logs and summaries; records are built by the workflow). */
  index: number;
  request: CheckRequest;
}

/** The input of one `bulkChunk` activity. */
export interface BulkChunkInput {
  batchId: string;
  /** The chunk's number within the batch (0-based, across continue-as-new). */
  chunk: number;
  checks: BulkCheck[];
  /** Flows in flight at once inside this activity. */
  concurrency: number;
  /** Requests per second this activity may send (its share of the batch's rateLimit); none = unpaced. */
  ratePerSecond?: number;
  /**
   * The rate slot was used by an earlier chunk, whose last requests may lie within the last
   * second: the first request waits one pacing window, so the slot never holds more than its share.
   */
  slotUsed?: boolean;
  skipFirstWait?: boolean;
  maxAuthorizations?: number;
}

/** How one check of the chunk ended: its CheckResult, or the error that ended it without one. */
export type BulkOutcome = { at: number; result: CheckResult } | { at: number; error: CheckError };

/**
 * The activity's heartbeat details and its result: every outcome so far, by position (`at`).
 * On a retry the activity reads the last attempt's details and runs only the checks missing.
 */
export interface BulkChunkProgress {
  outcomes: BulkOutcome[];
  /** The batch was cancelled: checks without an outcome were not (or no longer) run. */
  cancelled?: boolean;
}

/** The activity the bulk batch calls (implemented in activities/bulk.ts). */
export interface BulkActivities {
  bulkChunk(input: BulkChunkInput): Promise<BulkChunkProgress>;
}

/** `chunk 3: 200 checks · sim-swap 150, device-roaming 50`: the chunk's line on the UI timeline. */
export function chunkSummary(chunk: number, checks: readonly { request: CheckRequest }[]): string {
  return `chunk ${chunk}: ${checks.length} check${checks.length === 1 ? '' : 's'} · ${operationCounts(checks)}`;
}

/** `sim-swap 150, device-roaming 50` (operations in first-seen order). */
export function operationCounts(checks: readonly { request: CheckRequest }[]): string {
  const counts = new Map<string, number>();
  for (const { request } of checks) counts.set(request.operation, (counts.get(request.operation) ?? 0) + 1);
  return [...counts].map(([operation, n]) => `${operation} ${n}`).join(', ');
}
