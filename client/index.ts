/**
 * The netcheck client API for fraud pipelines.
 *
 *   const client = await connectClient();                       // TEMPORAL_ADDRESS etc.
 *   const result = await checkNumber(client, { msisdn: '+447700900001', operation: 'sim-swap', maxAge: 24 });
 *   if (result.status === 'ok' && result.data && 'swapped' in result.data && result.data.swapped) { … }
 */
import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from '../common/index.js';
import { ConfigurationError as ConfigError } from '../domain/errors.js';
import { maskMsisdn } from '../domain/msisdn.js';
import { NetcheckOperation, NetcheckSubject } from '../domain/search-attributes.js';
import type { CheckOptions, CheckRequest, CheckResult } from '../domain/types.js';
import { checkRequestProblem } from '../domain/validate.js';
import type { networkCheck } from '../workflows/network-check.js';
import { statusQuery } from '../workflows/queries.js';
import { SUBJECT_KEY_MIN_BYTES, subjectOf } from './subject.js';

export type * from '../domain/types.js';
export {
  ConfigurationError,
  ERROR_CODES,
  errorCodeOf,
  InvalidRequestError,
  NetcheckError,
  UsageError,
  type CallerErrorCode,
  type ErrorCode,
} from '../domain/errors.js';
export { OPERATION_NAMES, type Operation } from '../domain/operations.js';
export { connectClient, temporalConnectConfig, DEFAULT_TASK_QUEUE } from '../common/index.js';
export { statusQuery } from '../workflows/queries.js';
export { subjectOf } from './subject.js';

export interface StartCheckOptions extends CheckOptions {
  /** Task queue of the netcheck workers (default: NETCHECK_TASK_QUEUE or "netcheck"). */
  taskQueue?: string;
  /** Use this workflow id instead of the derived one. */
  workflowId?: string;
  /**
   * Makes the derived workflow id (`netcheck-<operation>-<subject>-<requestId>`): starting again
   * with the same request id attaches to the same run instead of checking twice. Default: random.
   */
  requestId?: string;
  /** `x-correlator` for every call of this check (default: a new UUID). */
  correlationId?: string;
  /** Key of the subject hash (default: NETCHECK_SUBJECT_KEY, at least 32 bytes). */
  subjectKey?: string | Uint8Array;
}

export type CheckHandle = WorkflowHandle<typeof networkCheck>;

/**
 * The key that hashes numbers into subjects: `explicit`, else NETCHECK_SUBJECT_KEY (at least 32
 * bytes). Clients never derive it from the Vonage private key, so that key stays on the workers.
 * Throws a ConfigError that says how to set one.
 */
export function resolveSubjectKey(
  explicit?: string | Uint8Array,
  env: NodeJS.ProcessEnv = process.env,
): string | Uint8Array {
  if (explicit !== undefined && explicit.length > 0) return explicit;
  const key = env.NETCHECK_SUBJECT_KEY;
  const bytes = key === undefined ? 0 : Buffer.byteLength(key, 'utf8');
  if (key !== undefined && bytes >= SUBJECT_KEY_MIN_BYTES) return key;
  throw new ConfigError([
    (key === undefined || bytes === 0
      ? 'NETCHECK_SUBJECT_KEY is not set: clients need it to hash phone numbers into subjects.'
      : `NETCHECK_SUBJECT_KEY is ${bytes} bytes; it must be at least ${SUBJECT_KEY_MIN_BYTES}.`) +
      ' Set it to a random secret of at least 32 bytes, the same on every client (e.g. `netcheck keygen --token` or' +
      ' `openssl rand -hex 32`). Clients no longer derive it from the Vonage private key, so that key stays on the workers.',
  ]);
}

/** Starts a check and returns its handle at once (`await handle.result()` for the CheckResult). */
export async function startCheck(
  client: Client,
  request: CheckRequest,
  options: StartCheckOptions = {},
): Promise<CheckHandle> {
  const problem = checkRequestProblem(request);
  if (problem) throw new TypeError(`Invalid check request: ${problem}`);
  const subject = subjectOf(request.msisdn, resolveSubjectKey(options.subjectKey));
  const workflowId =
    options.workflowId ?? `netcheck-${request.operation}-${subject}-${options.requestId ?? randomUUID()}`;
  const masked = maskMsisdn(request.msisdn);
  try {
    return await client.workflow.start<typeof networkCheck>('networkCheck', {
      taskQueue: options.taskQueue ?? process.env.NETCHECK_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
      workflowId,
      // The same request id never checks twice, even after the first run closed.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [
        {
          ...request,
          skipFirstWait: options.skipFirstWait,
          maxAuthorizations: options.maxAuthorizations,
          fast: options.fast,
          correlationId: options.correlationId,
          subject,
        },
      ],
      typedSearchAttributes: [
        { key: NetcheckOperation, value: request.operation },
        { key: NetcheckSubject, value: subject },
      ],
      staticSummary: `${request.operation} · ${masked}`,
      staticDetails: [
        `**Operation:** ${request.operation}`,
        `**Number:** ${masked}`,
        ...(request.maxAge !== undefined ? [`**maxAge:** ${request.maxAge} h`] : []),
        `**Subject:** ${subject}`,
      ].join('\n\n'),
    });
  } catch (err) {
    // This request id already ran (and closed): attach to that run rather than check twice.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(workflowId);
    throw err;
  }
}

/** Runs a check and waits for its CheckResult. */
export async function checkNumber(
  client: Client,
  request: CheckRequest,
  options: StartCheckOptions = {},
): Promise<CheckResult> {
  const handle = await startCheck(client, request, options);
  return handle.result();
}

/** The live progress of a check (phase, polls, next poll time; the result once done). */
export async function checkStatus(handle: CheckHandle) {
  return handle.query(statusQuery);
}
