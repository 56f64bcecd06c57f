/**
 * The netcheck client API for fraud pipelines.
 *
 *   const client = await connectClient();                       // TEMPORAL_ADDRESS etc.
 *   const result = await checkNumber(client, { msisdn: '+447700900001', operation: 'sim-swap', maxAge: 24 });
 *   if (result.status === 'ok' && result.operation === 'sim-swap' && result.data.swapped) { … }
 *
 * Defaults a request does not name come from the environment: NETCHECK_API (camara or
 * identity-insights) and NETCHECK_PURPOSE (one of PURPOSES, or one per API family:
 * `sim-swap=FraudPreventionAndDetection,device-status=NotApplicable`), then from the operation.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowIdReusePolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import type { WorkflowIdConflictPolicy } from '@temporalio/common';
import { resolveTaskQueue, settingText, timeoutSettings } from '../common/settings.js';
import { ensureEncryptionMatches } from '../codec/policy.js';
import { ConfigurationError as ConfigError, InvalidRequestError } from '../domain/errors.js';
import { defaultApiFor } from '../domain/batch-pages.js';
import { maskMsisdn } from '../domain/msisdn.js';
import {
  acceptsPurpose,
  API_NAMES,
  formatPurposeSetting,
  isApi,
  isOperation,
  parsePurposeSetting,
  purposeFamily,
  resolvePurpose,
  type Api,
  type Purpose,
  type PurposeMap,
} from '../domain/operations.js';
import { runSearchAttributes } from '../domain/search-attributes.js';
import type { CheckOptions, CheckRequest, CheckResult } from '../domain/types.js';
import type { Profile } from '../domain/profiles.js';
import { resolveExecutionTimeout, type DurationInput } from '../domain/timeouts.js';
import { checkRequestProblem } from '../domain/validate.js';
import type { networkCheck } from '../workflows/network-check.js';
import { statusQuery } from '../workflows/queries.js';
import { resolveSubjectKey, subjectOf } from './subject.js';
import {
  runToAttach,
  singleRunFields,
  checkIdPolicies,
  checkStartRunOptions,
  type StartRunOptions,
} from './start-options.js';

export type * from '../domain/types.js';
export {
  ConfigurationError,
  ERROR_CODES,
  errorCodeOf,
  InvalidRequestError,
  MissingPackageError,
  NetcheckError,
  UsageError,
  type CallerErrorCode,
  type ErrorCode,
} from '../domain/errors.js';
export { BATCH_PRIORITY_KEY, DEFAULT_PRIORITY_KEY } from '../domain/priority.js';
export type { StartRunOptions } from './start-options.js';
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
export { resolveSubjectKey, subjectOf } from './subject.js';
// Assessments: the policy language and the result types. Starting one (assessNumber, startAssess,
// startAssessBatch, loadPolicy) is client/assess.ts, exported by the package root and
// 'netcheck/client/assess' (it builds on this module and on client/batch.ts, as startBatch does).
export * from './policy.js';
export { AUDIT_COLUMNS, auditRow, exportAudit, type AuditOptions, type AuditRecord } from './audit.js';
export { clientIdentity, CLIENT_IDENTITY_MAX } from '../common/identity.js';

export interface StartCheckOptions extends CheckOptions, StartRunOptions {
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
  /**
   * The operator profile whose workers run the check (docs/profiles.md): without `taskQueue` or
   * NETCHECK_TASK_QUEUE, its task queue (`netcheck-camara` for `camara`). Default NETCHECK_PROFILE, else `vonage`.
   */
  profile?: Profile;
  /**
   * When a run with this workflow id has closed. Default `REJECT_DUPLICATE`: attach to that run
   * (the same request id never checks twice). `ALLOW_DUPLICATE_FAILED_ONLY`: check again if it
   * failed, timed out, was cancelled or terminated (e.g. a CONFIGURATION failure fixed since),
   * attach to it if it completed. `ALLOW_DUPLICATE`: always check again.
   */
  workflowIdReusePolicy?: Exclude<WorkflowIdReusePolicy, 'TERMINATE_IF_RUNNING'>;
  /**
   * When a run with this workflow id is running. Default `USE_EXISTING`: attach to it. `FAIL`:
   * throw Temporal's WorkflowExecutionAlreadyStartedError.
   */
  workflowIdConflictPolicy?: Extract<WorkflowIdConflictPolicy, 'USE_EXISTING' | 'FAIL'>;
  /**
   * The check's workflow execution timeout: milliseconds, or a duration such as `'30m'`, `'1h'`
   * (1 s–366 days). Default NETCHECK_CHECK_TIMEOUT, else 1 hour. A check that runs out fails
   * its run (TIMED_OUT) instead of waiting on a provider for ever.
   */
  executionTimeout?: DurationInput;
}

export type CheckHandle = WorkflowHandle<typeof networkCheck>;

/**
 * The client's defaults from the environment: NETCHECK_API and NETCHECK_PURPOSE, both optional.
 * NETCHECK_PURPOSE is one purpose (`purpose`, applied to each API family that accepts it) or one
 * per family (`purposes`, e.g. `sim-swap=FraudPreventionAndDetection,device-status=NotApplicable`).
 */
export interface ClientDefaults {
  api?: Api;
  purpose?: Purpose;
  purposes?: PurposeMap;
}

/** Reads NETCHECK_API and NETCHECK_PURPOSE; throws a ConfigError naming the allowed values. */
export function clientDefaults(env: NodeJS.ProcessEnv = process.env): ClientDefaults {
  const problems: string[] = [];
  const api = settingText('NETCHECK_API', env);
  const purposeText = settingText('NETCHECK_PURPOSE', env);
  if (api !== undefined && !isApi(api)) {
    problems.push(
      `NETCHECK_API must be one of ${API_NAMES.join(', ')} (got ${JSON.stringify(api.slice(0, 40))}).`,
    );
  }
  const purpose =
    purposeText === undefined ? undefined : parsePurposeSetting(purposeText, 'NETCHECK_PURPOSE');
  if (purpose?.problem !== undefined) problems.push(`${purpose.problem}.`);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...(api !== undefined ? { api: api as Api } : {}),
    ...(purpose?.setting ?? {}),
  };
}

/** The defaults' purpose setting as text (one purpose, or `family=purpose,…`), if any. */
export function purposeSettingOf(defaults: ClientDefaults): string | undefined {
  if (defaults.purposes !== undefined) return formatPurposeSetting({ purposes: defaults.purposes });
  return defaults.purpose;
}

/**
 * The request as it is started: `api` is the request's, else the default's (NETCHECK_API), else
 * the operation's (camara; identity-insights for `carrier`); `purpose` is the one the check
 * sends (`resolvePurpose`) from the request's purpose setting, else the default's
 * (NETCHECK_PURPOSE): one purpose where the operation's family accepts it, a map's entry for the
 * family, else Vonage's default for the family. Without any setting it is left to the workflow
 * (what Vonage documents for the operation and API); `carrier` sends none. A map's entry the
 * family does not accept over this API stays in the map form (`device-status=…`), so that the
 * workflow, which resolves the purpose again, sends it as written.
 */
export function resolveRequest(
  request: CheckRequest,
  defaults: ClientDefaults = clientDefaults(),
): CheckRequest & { api: Api } {
  const { purpose: given, ...rest } = request;
  const operation = request.operation;
  const api = request.api ?? defaults.api ?? defaultApiFor(operation);
  const setting = given ?? purposeSettingOf(defaults);
  // Nothing to resolve, or a request validation will refuse: it goes on as given.
  if (
    setting === undefined ||
    !isOperation(operation) ||
    !isApi(api) ||
    parsePurposeSetting(setting).problem
  ) {
    return { ...rest, api, ...(given !== undefined ? { purpose: given } : {}) };
  }
  const purpose = resolvePurpose(setting, operation, api);
  if (purpose === undefined) return { ...rest, api };
  // A map's entry the family does not accept over this API is sent as written: it travels in the
  // map form, which the workflow resolves the same way (as one purpose it would give way).
  const family = purposeFamily(operation);
  const sent =
    family !== undefined && !acceptsPurpose(operation, api, purpose) ? `${family}=${purpose}` : purpose;
  return { ...rest, api, purpose: sent };
}

/** Starts a check and returns its handle at once (`await handle.result()` for the CheckResult). */
export async function startCheck(
  client: Client,
  checkRequest: CheckRequest,
  options: StartCheckOptions = {},
): Promise<CheckHandle> {
  const request = resolveRequest(checkRequest);
  const problem = checkRequestProblem(request);
  if (problem) throw new InvalidRequestError(`Invalid check request: ${problem}`);
  checkStartRunOptions(options);
  checkIdPolicies(options);
  const executionTimeout = resolveExecutionTimeout('check', options.executionTimeout, timeoutSettings());
  const { api, operation } = request;
  const subject = subjectOf(request.msisdn, resolveSubjectKey(options.subjectKey));
  const workflowId =
    options.workflowId ?? `netcheck-${api}-${operation}-${subject}-${options.requestId ?? randomUUID()}`;
  const masked = maskMsisdn(request.msisdn);
  const taskQueue = resolveTaskQueue(options.taskQueue, undefined, options.profile);
  // Fail closed: a client without keys sends nothing to workers that encrypt (ConfigurationError).
  await ensureEncryptionMatches(client, taskQueue);
  try {
    return await client.workflow.start<typeof networkCheck>('networkCheck', {
      taskQueue,
      workflowId,
      // By default the same request id never checks twice, even after the first run closed.
      ...singleRunFields(options, runSearchAttributes({ operation, api, subject })),
      workflowExecutionTimeout: executionTimeout,
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
      staticSummary: options.staticSummary ?? `${operation} · ${api} · ${masked}`,
      staticDetails:
        options.staticDetails ??
        [
          `**Operation:** ${operation}`,
          `**API:** ${api}`,
          `**Number:** ${masked}`,
          ...(request.maxAge !== undefined ? [`**maxAge:** ${request.maxAge} h`] : []),
          ...(request.purpose !== undefined ? [`**Purpose:** ${request.purpose}`] : []),
          `**Subject:** ${subject}`,
        ].join('\n\n'),
    });
  } catch (err) {
    // This request id already ran: attach to that run rather than check twice.
    return runToAttach<typeof networkCheck>(client, workflowId, err, options.workflowIdConflictPolicy);
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
