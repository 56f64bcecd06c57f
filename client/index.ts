/**
 * The netcheck client API for fraud pipelines.
 *
 *   const client = await connectClient();                       // TEMPORAL_ADDRESS etc.
 *   const result = await checkNumber(client, { msisdn: '+447700900001', operation: 'sim-swap', maxAge: 24 });
 *   if (result.status === 'ok' && result.operation === 'sim-swap' && result.data.swapped) { … }
 *
 * Defaults a request does not name come from the environment: NETCHECK_API (camara or
 * identity-insights) and NETCHECK_PURPOSE (one of PURPOSES), then from the operation.
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
import { defaultApiFor } from '../domain/batch-state.js';
import { maskMsisdn } from '../domain/msisdn.js';
import {
  API_NAMES,
  defaultPurpose,
  isApi,
  isOperation,
  isPurpose,
  PURPOSES,
  type Api,
  type Purpose,
} from '../domain/operations.js';
import { NetcheckApi, NetcheckOperation, NetcheckSubject } from '../domain/search-attributes.js';
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
export {
  API_NAMES,
  OPERATION_NAMES,
  PURPOSES,
  type Api,
  type Operation,
  type Purpose,
} from '../domain/operations.js';
export { connectClient, temporalConnectConfig, DEFAULT_TASK_QUEUE } from '../common/index.js';
export { statusQuery } from '../workflows/queries.js';
export { subjectOf } from './subject.js';

export interface StartCheckOptions extends CheckOptions {
  /** Task queue of the netcheck workers (default: NETCHECK_TASK_QUEUE or "netcheck"). */
  taskQueue?: string;
  /** Use this workflow id instead of the derived one. */
  workflowId?: string;
  /**
   * Makes the derived workflow id (`netcheck-<api>-<operation>-<subject>-<requestId>`): starting
   * again with the same request id attaches to the same run instead of checking twice. Default:
   * random.
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

/** The client's defaults from the environment: NETCHECK_API and NETCHECK_PURPOSE, both optional. */
export interface ClientDefaults {
  api?: Api;
  purpose?: Purpose;
}

/** Reads NETCHECK_API and NETCHECK_PURPOSE; throws a ConfigError naming the allowed values. */
export function clientDefaults(env: NodeJS.ProcessEnv = process.env): ClientDefaults {
  const problems: string[] = [];
  const api = env.NETCHECK_API?.trim() || undefined;
  const purpose = env.NETCHECK_PURPOSE?.trim() || undefined;
  if (api !== undefined && !isApi(api)) {
    problems.push(
      `NETCHECK_API must be one of ${API_NAMES.join(', ')} (got ${JSON.stringify(api.slice(0, 40))}).`,
    );
  }
  if (purpose !== undefined && !isPurpose(purpose)) {
    problems.push(
      `NETCHECK_PURPOSE ${JSON.stringify(purpose.slice(0, 60))} is not a Vonage Network API purpose; use the one your Vonage application is registered with: ${PURPOSES.join(', ')}.`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...(api !== undefined ? { api: api as Api } : {}),
    ...(purpose !== undefined ? { purpose: purpose as Purpose } : {}),
  };
}

/**
 * The request as it is started: `api` is the request's, else the default's (NETCHECK_API), else
 * the operation's (camara; identity-insights for `carrier`); `purpose` is the request's, else
 * the default's (NETCHECK_PURPOSE) where the operation sends one, else left to the workflow
 * (what Vonage documents for the operation and API).
 */
export function resolveRequest(
  request: CheckRequest,
  defaults: ClientDefaults = clientDefaults(),
): CheckRequest & { api: Api } {
  const operation = request.operation;
  const api = request.api ?? defaults.api ?? defaultApiFor(operation);
  const needsPurpose = isOperation(operation) && isApi(api) && defaultPurpose(operation, api) !== undefined;
  const purpose = request.purpose ?? (needsPurpose ? defaults.purpose : undefined);
  return { ...request, api, ...(purpose !== undefined ? { purpose } : {}) };
}

/** Starts a check and returns its handle at once (`await handle.result()` for the CheckResult). */
export async function startCheck(
  client: Client,
  checkRequest: CheckRequest,
  options: StartCheckOptions = {},
): Promise<CheckHandle> {
  const request = resolveRequest(checkRequest);
  const problem = checkRequestProblem(request);
  if (problem) throw new TypeError(`Invalid check request: ${problem}`);
  const { api, operation } = request;
  const subject = subjectOf(request.msisdn, resolveSubjectKey(options.subjectKey));
  const workflowId =
    options.workflowId ?? `netcheck-${api}-${operation}-${subject}-${options.requestId ?? randomUUID()}`;
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
        { key: NetcheckOperation, value: operation },
        { key: NetcheckApi, value: api },
        { key: NetcheckSubject, value: subject },
      ],
      staticSummary: `${operation} · ${api} · ${masked}`,
      staticDetails: [
        `**Operation:** ${operation}`,
        `**API:** ${api}`,
        `**Number:** ${masked}`,
        ...(request.maxAge !== undefined ? [`**maxAge:** ${request.maxAge} h`] : []),
        ...(request.purpose !== undefined ? [`**Purpose:** ${request.purpose}`] : []),
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
