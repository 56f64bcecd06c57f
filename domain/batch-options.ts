/**
 * A batch's options: what each does when not given (BATCH_DEFAULTS), their bounds, and the one
 * check of a caller's options (batchOptionsProblem) that the client, the Nexus handler and the
 * batch workflow all apply.
 *
 * Workflow-safe: deterministic, no I/O, no Node built-ins, no workflow APIs.
 */
import type { BatchOptions } from './batch.js';
import { assessOptionProblem } from './assess.js';
import { isAcceptedRate, RATE_BOUNDS_TEXT } from './rate-limit.js';
import { EXECUTION_TIMEOUT_LIMITS } from './timeouts.js';

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
