/** Exit codes of every netcheck command, and the errors that map onto them. */
import { NetcheckError } from '../domain/errors.js';

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
 * The exit code of an error that ends a command: 2 for netcheck's own errors (configuration,
 * usage, an invalid request: the message says what to fix), else 1.
 */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof NetcheckError ? EXIT.USAGE : EXIT.ERROR;
}
