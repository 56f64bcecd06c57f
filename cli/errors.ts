/** Exit codes of every netcheck command, and the errors that map onto them. */
import { ConfigError } from '../worker/config.js';

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

/** A mistake in the command line or the input: printed without a stack, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function isUsageProblem(err: unknown): err is UsageError | ConfigError {
  return err instanceof UsageError || err instanceof ConfigError;
}
