/**
 * netcheck's one error taxonomy. Every failure anywhere in the flow carries one of these
 * stable codes; this table alone decides whether a code is retried, whether it ends the run
 * (the caller's input or our configuration is wrong) or becomes a `failed` CheckResult (the
 * provider answered, and the answer is final for this number), and what the user should do.
 * Workflow-safe: no I/O, no Node built-ins.
 */
import { ApplicationFailure, TimeoutFailure } from '@temporalio/common';

/**
 * - `retryable`: the activity is retried by Temporal (with backoff, or after `Retry-After`).
 * - `outcome: 'run'`: the workflow run fails; nothing will change by retrying the same input.
 * - `outcome: 'result'`: the check ends with `status: 'failed'` and this code.
 */
export const ERROR_CODES = {
  INVALID_INPUT: { retryable: false, outcome: 'run', hint: 'Fix the check input and start it again.' },
  CONFIGURATION: {
    retryable: false,
    outcome: 'run',
    hint: 'Check VONAGE_APPLICATION_ID, the private key and the API base URL of the worker.',
  },
  ACCESS_DENIED: { retryable: false, outcome: 'result', hint: 'The operator or subscriber refused consent.' },
  INVALID_GRANT: {
    retryable: false,
    outcome: 'result',
    hint: 'The auth_req_id was unknown or already redeemed; start a new check.',
  },
  AUTHORIZATION_EXPIRED: {
    retryable: false,
    outcome: 'result',
    hint: 'Authorization did not complete before expires_in; try again later.',
  },
  UNAUTHENTICATED: {
    retryable: false,
    outcome: 'result',
    hint: 'The access token was rejected even after a fresh authorization.',
  },
  UNKNOWN_NUMBER: {
    retryable: false,
    outcome: 'result',
    hint: 'The operator does not know this number; check it is a mobile number it serves.',
  },
  NOT_ALLOWED: {
    retryable: false,
    outcome: 'result',
    hint: 'Vonage refused this number for the application (e.g. an allowlist: in the Playground only numbers added to the application’s allowlist can be checked).',
  },
  NOT_SUPPORTED: {
    retryable: false,
    outcome: 'result',
    hint: 'The operator does not offer this check for this number; there is nothing to retry.',
  },
  INVALID_ARGUMENT: { retryable: false, outcome: 'result', hint: 'The provider rejected the request body.' },
  PERMISSION_DENIED: {
    retryable: false,
    outcome: 'result',
    hint: 'The token does not allow this check; check the purpose and the application’s capabilities.',
  },
  QUOTA_EXCEEDED: {
    retryable: false,
    outcome: 'result',
    hint: 'The account quota is used up; contact Vonage.',
  },
  CONFLICT: {
    // SIM Swap v0.4.0's 409: "Another request is created for the same MSISDN": over once it ends.
    retryable: true,
    outcome: 'result',
    hint: 'Another request for this number was in progress at the provider; retried with backoff.',
  },
  PROTOCOL_ERROR: {
    retryable: false,
    outcome: 'result',
    hint: 'The provider answered in a form netcheck does not understand; check VONAGE_API_BASE_URL.',
  },
  RATE_LIMITED: {
    retryable: true,
    outcome: 'result',
    hint: 'Lower the request rate or raise the account limit.',
  },
  NOT_COVERED: {
    retryable: false,
    outcome: 'result',
    hint: 'Vonage cannot answer this check for this number’s country or network (Identity Insights NO_COVERAGE); use the other API or a provider that covers it.',
  },
  UPSTREAM_UNAVAILABLE: { retryable: true, outcome: 'result', hint: 'The provider is failing; retry later.' },
  NETWORK_ERROR: {
    retryable: true,
    outcome: 'result',
    hint: 'Check the worker’s network path to the provider.',
  },
  TIMEOUT: { retryable: true, outcome: 'result', hint: 'The provider did not answer in time.' },
  CANCELLED: { retryable: false, outcome: 'result', hint: 'The check was cancelled before it finished.' },
  INTERNAL: {
    retryable: false,
    outcome: 'result',
    hint: 'The check workflow ended unexpectedly (terminated, timed out or a bug); see its history in the Temporal UI.',
  },
} as const satisfies Record<string, { retryable: boolean; outcome: 'run' | 'result'; hint: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** Whether a failure with this code ends the run (true) or becomes a failed CheckResult. */
export function failsRun(code: ErrorCode): boolean {
  return ERROR_CODES[code].outcome === 'run';
}

export interface FailureOptions {
  /** Earliest next attempt in ms (from `Retry-After`); only used for retryable codes. */
  retryAfterMs?: number;
  /** Extra, non-secret facts for the UI (HTTP status, provider error code). */
  details?: Record<string, string | number | boolean | undefined>;
}

/**
 * The only way netcheck raises an error: an ApplicationFailure whose `type` is the code and
 * whose retryability comes from the table above. Messages must never contain credentials.
 */
export function netcheckFailure(
  code: ErrorCode,
  message: string,
  options: FailureOptions = {},
): ApplicationFailure {
  const { retryable } = ERROR_CODES[code];
  return ApplicationFailure.create({
    type: code,
    message: `${message} (${code}: ${ERROR_CODES[code].hint})`,
    nonRetryable: !retryable,
    nextRetryDelay: retryable && options.retryAfterMs !== undefined ? options.retryAfterMs : undefined,
    details: options.details ? [options.details] : undefined,
  });
}

/**
 * The chain of causes of an error, the error itself first: each link's `cause` (for an
 * AggregateError, as undici throws for a failed connect, its first error), at most `limit`
 * links. Workflow-safe; every place that looks "under" an error uses this.
 */
export function causeChain(err: unknown, limit = 8): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = err;
  while (current !== undefined && current !== null && chain.length < limit && !chain.includes(current)) {
    chain.push(current);
    if (typeof current !== 'object') break;
    const inner = (current as { errors?: unknown }).errors;
    current =
      Array.isArray(inner) && inner.length > 0
        ? (inner[0] as unknown)
        : (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** The message of the deepest Error in a failure chain: what actually went wrong, not "Activity task failed". */
export function innermostMessage(err: unknown): string {
  const errors = causeChain(err).filter((link): link is Error => link instanceof Error);
  return errors.at(-1)?.message ?? String(err);
}

/** Whether a Temporal timeout (a TimeoutFailure) stands anywhere in a failure chain. */
export function hasTimeout(err: unknown): boolean {
  return causeChain(err).some((link) => link instanceof TimeoutFailure);
}

/** Finds the netcheck code in a failure chain (ActivityFailure → ApplicationFailure, ChildWorkflowFailure → …). */
export function errorCodeOf(err: unknown): ErrorCode | undefined {
  for (const link of causeChain(err)) {
    if (link instanceof ApplicationFailure && isErrorCode(link.type)) return link.type;
  }
  return undefined;
}

/**
 * Codes of the errors netcheck throws in the caller's process: CONFIGURATION and INVALID_INPUT
 * mean what they mean in ERROR_CODES; USAGE is a command-line or input-file mistake;
 * BATCH_CLOSED is a batch that closed (or vanished) while its input was being sent.
 */
export type CallerErrorCode = 'CONFIGURATION' | 'INVALID_INPUT' | 'USAGE' | 'BATCH_CLOSED';

/**
 * The base of the errors netcheck throws in the caller's process (not inside workflows, which
 * fail with `netcheckFailure`). `code` is stable: branch on it, or on the subclass, never on
 * the message.
 *
 *   try { await checkNumber(client, request) }
 *   catch (err) { if (err instanceof NetcheckError && err.code === 'INVALID_INPUT') … }
 */
export class NetcheckError extends Error {
  readonly code: CallerErrorCode;
  constructor(code: CallerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * netcheck is not configured correctly (environment variables, the Vonage key, plugin options).
 * `problems` lists every problem found, each saying what to set; the CLI exits 2 on it.
 */
export class ConfigurationError extends NetcheckError {
  declare readonly code: 'CONFIGURATION';
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(
      'CONFIGURATION',
      `netcheck is not configured correctly:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      options,
    );
    this.problems = [...problems];
  }
}

/**
 * Input to the client API that cannot be used as given: a check request (number, operation,
 * maxAge, purpose …), a batch id, a batch or start option. Nothing was started.
 */
export class InvalidRequestError extends NetcheckError {
  declare readonly code: 'INVALID_INPUT';
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_INPUT', message, options);
  }
}

/** A mistake in how netcheck was called: a command-line flag, an input file, an option value. */
export class UsageError extends NetcheckError {
  declare readonly code: 'USAGE';
  constructor(message: string, options?: { cause?: unknown }) {
    super('USAGE', message, options);
  }
}

/**
 * A package netcheck loads only for one feature (running a worker, tracing, the dev server's
 * download fallback) is not installed. `packages` names what to install (`name@range`, the
 * ranges of netcheck's optional peer dependencies); the CLI exits 2 on it.
 */
export class MissingPackageError extends ConfigurationError {
  readonly packages: readonly string[];
  constructor(feature: string, packages: readonly string[], options?: { cause?: unknown }) {
    // '@scope/name@^1.2.3' → '@scope/name'
    const names = packages.map((spec) =>
      spec.lastIndexOf('@') > 0 ? spec.slice(0, spec.lastIndexOf('@')) : spec,
    );
    super(
      [
        `${feature} needs ${names.join(', ')}, which ${names.length === 1 ? 'is' : 'are'} not installed here. ` +
          `Install ${names.length === 1 ? 'it' : 'them'} beside netcheck: npm install ${packages.map((p) => `'${p}'`).join(' ')}`,
      ],
      options,
    );
    this.packages = [...packages];
  }
}
