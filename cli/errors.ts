/** Exit codes of every netcheck command, and the errors that map onto them. */
import { explainMissingPackage } from '../common/optional.js';
import { NetcheckError, type CallerErrorCode } from '../domain/errors.js';

export { UsageError } from '../domain/errors.js';

export const EXIT = {
  /** Everything asked for was done (and every check passed). */
  OK: 0,
  /** Anything unexpected: Temporal unreachable, a bug, a crash. */
  ERROR: 1,
  /** Bad command line, bad input file or bad configuration: the message says what to fix. */
  USAGE: 2,
  /** The checks ran to the end, but some of them failed (or were invalid / cancelled). */
  CHECKS_FAILED: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code of each of netcheck's error codes (NetcheckError.code). Bad input, usage and
 * configuration mean the message says what to fix: 2. A batch that closed under its input is
 * not the caller's mistake: 1, like anything unexpected.
 */
export const EXIT_BY_CODE: Record<CallerErrorCode, ExitCode> = {
  CONFIGURATION: EXIT.USAGE,
  INVALID_INPUT: EXIT.USAGE,
  USAGE: EXIT.USAGE,
  BATCH_CLOSED: EXIT.ERROR,
};

/**
 * The exit code of an error that ends a command: by its code for netcheck's own errors
 * (EXIT_BY_CODE), 2 for a missing optional package (the message names it), else 1.
 */
export function exitCodeOf(err: unknown): ExitCode {
  const explained = explainMissingPackage(err);
  if (explained instanceof NetcheckError) return EXIT_BY_CODE[explained.code] ?? EXIT.ERROR;
  return EXIT.ERROR;
}

/**
 * The error to report for a failed command: a missing optional package (`netcheck worker`
 * without @temporalio/worker, say) becomes a MissingPackageError saying what to install.
 */
export function explainCommandError(err: unknown, command?: string): unknown {
  return explainMissingPackage(err, command ? `\`netcheck ${command}\`` : undefined);
}
