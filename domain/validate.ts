/** Input validation shared by the workflow (authoritative), the batch and the client (early errors). Workflow-safe. */
import { netcheckFailure } from './errors.js';
import { isE164 } from './msisdn.js';
import {
  API_NAMES,
  apiServes,
  DEFAULT_API,
  isApi,
  isOperation,
  MAX_AGE_DEFAULT,
  MAX_AGE_MAX,
  MAX_AGE_MIN,
  OPERATION_NAMES,
  OPERATIONS,
  parsePurposeSetting,
  resolvePurpose,
  type Api,
  type Operation,
} from './operations.js';
import type { CheckRequest } from './types.js';

export interface ValidCheck {
  msisdn: string;
  operation: Operation;
  api: Api;
  /** The purpose to send; undefined only where the API needs none (`carrier`). */
  purpose?: string;
  /** Set for `sim-swap` only (default 240). */
  maxAge?: number;
}

/** Returns what is wrong with a check request, or undefined when it is valid. */
export function checkRequestProblem(input: Partial<CheckRequest> | undefined): string | undefined {
  if (!input || typeof input !== 'object') return 'the check input is missing';
  const msisdn: unknown = input.msisdn;
  if (!isE164(msisdn)) {
    // Show only the start of a wrong number: it may still be personal data.
    const shown = typeof msisdn === 'string' ? JSON.stringify(msisdn.slice(0, 4) + '…') : typeof msisdn;
    return `msisdn must be E.164: "+" then 5 to 15 digits, e.g. +447700900000 (got ${shown})`;
  }
  if (!isOperation(input.operation)) {
    return `operation must be one of ${OPERATION_NAMES.join(', ')} (got ${JSON.stringify(input.operation)})`;
  }
  if (input.api !== undefined && !isApi(input.api)) {
    return `api must be one of ${API_NAMES.join(', ')} (got ${JSON.stringify(input.api)})`;
  }
  const api = input.api ?? DEFAULT_API;
  if (!apiServes(api, input.operation)) {
    return `${input.operation} runs only over ${OPERATIONS[input.operation].apis.join(' or ')}, not over ${api}: use api ${OPERATIONS[input.operation].apis[0]}`;
  }
  if (input.maxAge !== undefined) {
    if (!Number.isInteger(input.maxAge) || input.maxAge < MAX_AGE_MIN || input.maxAge > MAX_AGE_MAX) {
      return `maxAge must be a whole number of hours from ${MAX_AGE_MIN} to ${MAX_AGE_MAX} (got ${JSON.stringify(input.maxAge)})`;
    }
  }
  // One purpose, or one per API family (`sim-swap=…,device-status=…`): resolvePurpose picks the one sent.
  if (input.purpose !== undefined) return parsePurposeSetting(input.purpose).problem;
  return undefined;
}

/** Validates and normalizes; throws a non-retryable INVALID_INPUT failure when the input is wrong. */
export function validateCheckRequest(input: Partial<CheckRequest> | undefined): ValidCheck {
  const problem = checkRequestProblem(input);
  if (problem || !input) throw netcheckFailure('INVALID_INPUT', `Invalid check input: ${problem}`);
  const operation = input.operation as Operation;
  const api = input.api ?? DEFAULT_API;
  // A purpose the operation's family does not accept over this API gives way to the family's
  // default (domain/operations.ts, resolvePurpose): one purpose never breaks the other family.
  const purpose = resolvePurpose(input.purpose, operation, api);
  return {
    msisdn: input.msisdn as string,
    operation,
    api,
    ...(purpose !== undefined ? { purpose } : {}),
    ...(operation === 'sim-swap' ? { maxAge: input.maxAge ?? MAX_AGE_DEFAULT } : {}),
  };
}
