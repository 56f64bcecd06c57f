/** Parsers for option values: each throws a UsageError that names the flag and what it accepts. */
import { isE164, normalizeMsisdn } from '../domain/msisdn.js';
import {
  isOperation,
  isPurpose,
  MAX_AGE_MAX,
  MAX_AGE_MIN,
  OPERATION_NAMES,
  PURPOSES,
  type Operation,
  type Purpose,
} from '../domain/operations.js';
import { UsageError } from './errors.js';

export function positiveNumber(flag: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag} must be a positive number (got "${raw}")`);
  }
  return value;
}

export function positiveInteger(flag: string, raw: string): number {
  const value = positiveNumber(flag, raw);
  if (!Number.isInteger(value)) throw new UsageError(`${flag} must be a whole number (got "${raw}")`);
  return value;
}

/** A TCP port, 0 meaning "any free port". */
export function port(flag: string, raw: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value > 65535) {
    throw new UsageError(`${flag} must be a port number from 0 to 65535 (got "${raw}"; 0 = any free port)`);
  }
  return value;
}

/** Hours as digits only: `24`, not `1e3`, `24.0`, `0x18` or `+24`. */
export function maxAge(flag: string, raw: string): number {
  const text = raw.trim();
  const value = Number(text);
  if (!/^\d{1,6}$/.test(text) || value < MAX_AGE_MIN || value > MAX_AGE_MAX) {
    throw new UsageError(
      `${flag} must be a whole number of hours from ${MAX_AGE_MIN} to ${MAX_AGE_MAX} (got "${raw}")`,
    );
  }
  return value;
}

/** The number as an argument, or `-`: read it from stdin (so it stays out of argv and shell history). */
export function msisdnOrStdin(raw: string): string {
  return raw === '-' ? raw : msisdn(raw);
}

export function msisdn(raw: string): string {
  const normalized = normalizeMsisdn(raw);
  if (!normalized || !isE164(normalized)) {
    throw new UsageError(
      // No example number: every error the CLI prints is redacted, an example would read "[number]".
      `the number must be E.164: "+", the country code (e.g. 44) and the national number without its leading 0 (got "${raw}")`,
    );
  }
  return normalized;
}

/** `sim-swap,device-roaming` → the operations, each checked. */
export function operations(flag: string, raw: string): Operation[] {
  const names = raw
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0)
    throw new UsageError(`${flag} needs at least one operation: ${OPERATION_NAMES.join(', ')}`);
  for (const name of names) {
    if (!isOperation(name)) {
      throw new UsageError(`${flag}: unknown operation "${name}"; use ${OPERATION_NAMES.join(', ')}`);
    }
  }
  return [...new Set(names as Operation[])];
}

/** A Vonage Network API purpose (W3C DPV name). */
export function purpose(flag: string, raw: string): Purpose {
  const value = raw.trim();
  if (!isPurpose(value)) {
    throw new UsageError(
      `${flag} "${value.slice(0, 60)}" is not a Vonage Network API purpose; use the one your Vonage application is registered with: ${PURPOSES.join(', ')}`,
    );
  }
  return value;
}
