/**
 * Execution timeouts: every check and every batch ends, whatever a provider or a bug does.
 * A check's timeout bounds its whole run (all its CIBA windows and retries); a batch's bounds
 * its whole chain of runs (Temporal's workflowExecutionTimeout spans continue-as-new).
 *
 * Settings: NETCHECK_CHECK_TIMEOUT and NETCHECK_BATCH_TIMEOUT on the client (the library's
 * `executionTimeout` options win), in the duration syntax below. Workflow-safe: no I/O, the
 * environment is passed in.
 */
import { ConfigurationError } from './errors.js';

/**
 * A check's default: a few times the longest CIBA window netcheck accepts (expires_in ≤ 1 h is
 * the cap; real providers answer in 2–5 minutes), with room for retries and re-authorizations.
 */
export const DEFAULT_CHECK_TIMEOUT_MS = 60 * 60 * 1000;
/** A batch's default: a week for the whole batch, every continue-as-new run included. */
export const DEFAULT_BATCH_TIMEOUT_MS = 7 * 24 * 60 * 60 * 1000;
/** Bounds of either setting: from 1 second to 366 days. */
export const EXECUTION_TIMEOUT_LIMITS = { minMs: 1_000, maxMs: 366 * 24 * 60 * 60 * 1000 } as const;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1_000,
  sec: 1_000,
  secs: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/** What the duration syntax looks like, for messages. */
export const DURATION_SYNTAX = 'a number and a unit (ms, s, m, h, d, w), e.g. 90s, 30m, 1h, 7d or "2 hours"';

/**
 * Milliseconds of a duration written as a number and a unit, one or more times: `90s`, `30m`,
 * `1h`, `1h30m`, `7d`, `2 hours` (Temporal's own string form is accepted too). A bare number is
 * refused: in an environment variable nobody can tell seconds from milliseconds. Undefined when
 * the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const compact = text.trim().toLowerCase();
  if (compact === '') return undefined;
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/y;
  let total = 0;
  let at = 0;
  while (at < compact.length) {
    part.lastIndex = at;
    const match = part.exec(compact);
    const unit = match ? UNIT_MS[match[2]!] : undefined;
    if (!match || unit === undefined) return undefined;
    total += Number(match[1]) * unit;
    at = part.lastIndex;
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** A duration as the library takes it: milliseconds (a number) or a duration string. */
export type DurationInput = number | string;

/** Milliseconds of a duration option or variable, or the problem with it (names `what`). */
export function durationOrProblem(
  value: DurationInput,
  what: string,
): { ms: number; problem?: undefined } | { ms?: undefined; problem: string } {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  const { minMs, maxMs } = EXECUTION_TIMEOUT_LIMITS;
  const got = JSON.stringify(String(value).slice(0, 40));
  if (ms === undefined || !Number.isFinite(ms)) {
    return {
      problem: `${what} must be a duration, ${DURATION_SYNTAX}; a library option may also be a number of milliseconds (got ${got}).`,
    };
  }
  if (ms < minMs || ms > maxMs) return { problem: `${what} must be from 1s to 366d (got ${got}).` };
  return { ms: Math.round(ms) };
}

/** The variable that sets each kind of timeout. */
export const TIMEOUT_VARIABLES = {
  check: 'NETCHECK_CHECK_TIMEOUT',
  batch: 'NETCHECK_BATCH_TIMEOUT',
} as const;

/**
 * The execution timeout of a check or a batch, in ms: `explicit` (the `executionTimeout`
 * option), else the environment's NETCHECK_CHECK_TIMEOUT / NETCHECK_BATCH_TIMEOUT, else the
 * default. Throws a ConfigurationError naming the option or variable when it is not a duration
 * within bounds (an empty variable is an error too, not "use the default").
 */
export function resolveExecutionTimeout(
  kind: 'check' | 'batch',
  explicit: DurationInput | undefined,
  env: Record<string, string | undefined>,
  option = 'executionTimeout',
): number {
  const variable = TIMEOUT_VARIABLES[kind];
  const fromEnv = env[variable];
  const [given, what] =
    explicit !== undefined ? [explicit, option] : fromEnv !== undefined ? [fromEnv, variable] : [];
  if (given === undefined || what === undefined) {
    return kind === 'check' ? DEFAULT_CHECK_TIMEOUT_MS : DEFAULT_BATCH_TIMEOUT_MS;
  }
  const { ms, problem } = durationOrProblem(given, what);
  if (problem !== undefined) throw new ConfigurationError([problem]);
  return ms;
}

/**
 * The check timeout a caller configured (the option, else NETCHECK_CHECK_TIMEOUT), or
 * undefined when neither is set: a batch then leaves its checks to the workflow's default.
 */
export function configuredCheckTimeout(
  explicit: DurationInput | undefined,
  env: Record<string, string | undefined>,
  option: string,
): number | undefined {
  if (explicit === undefined && env[TIMEOUT_VARIABLES.check] === undefined) return undefined;
  return resolveExecutionTimeout('check', explicit, env, option);
}
