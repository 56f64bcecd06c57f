/**
 * Checks of activity inputs. The workflow validates the check request first; these guard the
 * activity boundary (a bad input is a bug or a hand-started activity) and keep anything odd
 * off the wire. Messages never quote a full phone number or a token.
 */
import {
  CAMARA_OPERATION_NAMES,
  isCamaraOperation,
  isE164,
  isOperation,
  isPurpose,
  PURPOSES,
  scopeFor,
  maskMsisdn,
  MAX_AGE_MAX,
  MAX_AGE_MIN,
  netcheckFailure,
} from '../domain/index.js';
import type { CamaraOperation, Operation } from '../domain/index.js';

/** CAMARA `x-correlator` pattern; netcheck also requires it to be non-empty. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const CORRELATOR = /^[A-Za-z0-9_:;./<>{}-]{1,256}$/;

function invalid(activity: string, problem: string): Error {
  return netcheckFailure('INVALID_INPUT', `${activity}: ${problem}`);
}

export function requireObject(activity: string, input: unknown): void {
  if (typeof input !== 'object' || input === null) throw invalid(activity, 'the input is missing');
}

export function requireMsisdn(activity: string, value: unknown): string {
  if (!isE164(value)) {
    const got = typeof value === 'string' ? maskMsisdn(value) : typeof value;
    throw invalid(activity, `msisdn must be E.164 ("+" then 5 to 15 digits), got ${JSON.stringify(got)}`);
  }
  return value;
}

export function requireCorrelationId(activity: string, value: unknown): string {
  if (typeof value !== 'string' || !CORRELATOR.test(value)) {
    throw invalid(
      activity,
      'correlationId must be 1–256 characters of [A-Za-z0-9-_:;./<>{}] (CAMARA x-correlator)',
    );
  }
  return value;
}

export function requireNonEmpty(activity: string, name: string, value: unknown, max = 2048): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max || CONTROL.test(value)) {
    throw invalid(activity, `${name} must be a non-empty single-line string`);
  }
  return value;
}

export function requireOperation(activity: string, value: unknown, expected?: Operation): Operation {
  if (!isOperation(value) || (expected !== undefined && value !== expected)) {
    const want = expected ?? 'a netcheck operation';
    throw invalid(activity, `operation must be ${JSON.stringify(want)} (got ${JSON.stringify(value)})`);
  }
  return value;
}

export function requireMaxAge(activity: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MAX_AGE_MIN || value > MAX_AGE_MAX) {
    throw invalid(activity, `maxAge must be a whole number of hours from ${MAX_AGE_MIN} to ${MAX_AGE_MAX}`);
  }
  return value;
}

/** Longest wait a poll may be asked to make first (CIBA intervals are seconds; slow_down adds 5 s each). */
export const MAX_WAIT_MS = 120_000;

export function requireWaitMs(activity: string, value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_WAIT_MS) {
    throw invalid(activity, `waitMs must be a number of milliseconds from 0 to ${MAX_WAIT_MS}`);
  }
  return value;
}

/**
 * The CIBA scope of a bc-authorize, built here from the operation and purpose rather than taken
 * from the input. A run started by an older netcheck sends `scope` instead: it is accepted only
 * when it is exactly one that a CAMARA operation and a known purpose give.
 */
export function requireScope(
  activity: string,
  input: { operation?: unknown; purpose?: unknown; scope?: unknown },
): { operation: CamaraOperation; scope: string } {
  if (input.operation !== undefined) {
    if (!isCamaraOperation(input.operation)) {
      throw invalid(
        activity,
        `operation must be one of ${CAMARA_OPERATION_NAMES.join(', ')} (got ${JSON.stringify(input.operation)})`,
      );
    }
    if (input.purpose !== undefined && !isPurpose(input.purpose)) {
      throw invalid(activity, `purpose must be one of ${PURPOSES.join(', ')}`);
    }
    return {
      operation: input.operation,
      scope:
        input.purpose === undefined ? scopeFor(input.operation) : scopeFor(input.operation, input.purpose),
    };
  }
  for (const operation of CAMARA_OPERATION_NAMES) {
    for (const purpose of PURPOSES) {
      if (input.scope === scopeFor(operation, purpose)) return { operation, scope: input.scope };
    }
  }
  throw invalid(activity, 'operation (a CAMARA operation) is required; a legacy scope must be a known one');
}
