/**
 * Assessments from the client API: one risk verdict on one number, with its evidence.
 *
 *   const client = await connectClient();
 *   const result = await assessNumber(client, { msisdn: '+447700900001' }, { policy: 'policy.yaml' });
 *   if (result.verdict === 'block') …   // result.reasons, result.evidence, result.unknown, result.policyVersion
 *
 * The policy is read and checked here, before anything starts: a policy with an error throws a
 * PolicyError (code USAGE) naming every problem with its line, and nothing is started. Without a
 * policy: NETCHECK_POLICY (a JSON or YAML file), else the built-in (DEFAULT_POLICY_YAML).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { WorkflowIdReusePolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import type { WorkflowIdConflictPolicy } from '@temporalio/common';
import { resolveProfile, resolveTaskQueue, settingText, timeoutSettings } from '../common/settings.js';
import type { Profile } from '../domain/profiles.js';
import { ensureEncryptionMatches } from '../codec/policy.js';
import {
  ASSESS_OPERATION,
  assessInputProblem,
  DEFAULT_ASSESS_API,
  SIGNAL_INSIGHTS,
  SIGNAL_OPERATIONS,
  type AssessInput,
  type AssessmentResult,
  type AssessRequest,
} from '../domain/assess.js';
import { InvalidRequestError } from '../domain/errors.js';
import { maskMsisdn } from '../domain/msisdn.js';
import { isApi, type Api } from '../domain/operations.js';
import { compiledPolicyProblem, policySignals, policyVersion } from '../domain/policy.js';
import {
  compilePolicy,
  defaultPolicy,
  MAX_POLICY_BYTES,
  parsePolicy,
  PolicyError,
  type LoadedPolicy,
} from '../domain/policy-parse.js';
import { runSearchAttributes } from '../domain/search-attributes.js';
import type { CheckOptions } from '../domain/types.js';
import { resolveExecutionTimeout, type DurationInput } from '../domain/timeouts.js';
import type { networkAssess } from '../workflows/assess.js';
import { startBatch, type BatchHandle, type StartBatchOptions } from './batch.js';
import { clientDefaults, purposeSettingOf, resolveSubjectKey } from './index.js';
import {
  runToAttach,
  singleRunFields,
  checkIdPolicies,
  checkStartRunOptions,
  type StartRunOptions,
} from './start-options.js';
import { subjectOf } from './subject.js';

export * from './policy.js';
export type * from '../domain/assess.js';

/**
 * A policy: the path of a JSON or YAML file, a policy written as an object (the file's shape), or
 * one already loaded (`loadPolicy`, `parsePolicy`).
 */
export type PolicySource = string | LoadedPolicy | Record<string, unknown>;

function isLoaded(value: unknown): value is LoadedPolicy {
  const v = value as Partial<LoadedPolicy> | null;
  return typeof v === 'object' && v !== null && typeof v.version === 'string' && typeof v.policy === 'object';
}

/**
 * The policy to use, compiled and checked: `source` (a file path, an object, or one loaded
 * already), else the file NETCHECK_POLICY names, else the built-in. Throws PolicyError (code
 * USAGE) with every problem and its line.
 */
export async function loadPolicy(
  source?: PolicySource,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedPolicy> {
  if (source === undefined) {
    const file = settingText('NETCHECK_POLICY', env);
    return file ? readPolicyFile(file, `NETCHECK_POLICY=${file}`) : defaultPolicy();
  }
  if (typeof source === 'string') return readPolicyFile(source, source);
  if (isLoaded(source)) {
    // Loaded elsewhere: checked again, and its version recomputed from what will be evaluated.
    const problem = compiledPolicyProblem(source.policy);
    if (problem) throw new PolicyError(source.source ?? 'inline', [{ path: '', message: problem }]);
    return { ...source, version: policyVersion(source.policy) };
  }
  return compilePolicy(source);
}

async function readPolicyFile(file: string, label: string): Promise<LoadedPolicy> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_POLICY_BYTES) {
      throw new PolicyError(label, [
        {
          path: '',
          message: `the file is larger than ${MAX_POLICY_BYTES / 1024} KiB; a policy is a few rules`,
        },
      ]);
    }
    text = bytes.toString('utf8');
  } catch (err) {
    if (err instanceof PolicyError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new PolicyError(label, [{ path: '', message: `cannot read the file (${code})` }]);
  }
  return parsePolicy(text, label);
}

export interface StartAssessOptions extends CheckOptions, StartRunOptions {
  /** The policy (a file, an object, or loaded); default NETCHECK_POLICY, else the built-in. */
  policy?: PolicySource;
  /** Task queue of the netcheck workers (default NETCHECK_TASK_QUEUE, else the profile's). */
  taskQueue?: string;
  /**
   * The operator profile whose workers run it (docs/profiles.md): its default task queue, and
   * under `camara` the camara road (no Identity Insights: `carrier` is unknown). Default
   * NETCHECK_PROFILE, else `vonage`.
   */
  profile?: Profile;
  /** Use this workflow id instead of the derived one. */
  workflowId?: string;
  /**
   * Makes the derived workflow id (`netcheck-<api>-assess-<subject>-<requestId>`): the same
   * request id attaches to the same assessment instead of assessing twice. Default: random.
   */
  requestId?: string;
  /** `x-correlator` of every request of the assessment (default: a new UUID). */
  correlationId?: string;
  /** Key of the subject hash (default NETCHECK_SUBJECT_KEY, at least 32 bytes). */
  subjectKey?: string | Uint8Array;
  /** As for startCheck: attach to a closed run of this id (default) or assess again. */
  workflowIdReusePolicy?: Exclude<WorkflowIdReusePolicy, 'TERMINATE_IF_RUNNING'>;
  workflowIdConflictPolicy?: Extract<WorkflowIdConflictPolicy, 'USE_EXISTING' | 'FAIL'>;
  /** The assessment's execution timeout (ms or a duration); default NETCHECK_CHECK_TIMEOUT, else 1 h. */
  executionTimeout?: DurationInput;
}

export type AssessHandle = WorkflowHandle<typeof networkAssess> & {
  /** The policy the assessment runs with. */
  readonly policy: LoadedPolicy;
};

export { DEFAULT_ASSESS_API } from '../domain/assess.js';

/** The request with the client's defaults (NETCHECK_API, NETCHECK_PURPOSE) for what it leaves out. */
export function resolveAssessRequest(
  request: AssessRequest,
  profile?: Profile,
): AssessRequest & { api: Api } {
  const defaults = clientDefaults();
  const purpose = request.purpose ?? purposeSettingOf(defaults);
  // An operator's own CAMARA (the camara profile) is the camara road: it has no Identity Insights.
  const fallback =
    (profile ?? resolveProfile()) === 'camara' ? 'camara' : (defaults.api ?? DEFAULT_ASSESS_API);
  return {
    msisdn: request.msisdn,
    api: request.api ?? fallback,
    ...(purpose !== undefined ? { purpose } : {}),
  };
}

/** Starts an assessment and returns its handle at once (`await handle.result()` for the verdict). */
export async function startAssess(
  client: Client,
  assessRequest: AssessRequest,
  options: StartAssessOptions = {},
): Promise<AssessHandle> {
  // The policy first: a policy with an error starts nothing.
  const loaded = await loadPolicy(options.policy);
  if (assessRequest?.api !== undefined && !isApi(assessRequest.api)) {
    throw new InvalidRequestError(
      `api must be camara or identity-insights (got ${JSON.stringify(assessRequest.api)})`,
    );
  }
  const profile = resolveProfile(options.profile);
  const request = resolveAssessRequest(assessRequest, profile);
  // `vonage` (the default) is left out: inputs stay as they were before profiles.
  const onProfile = profile === 'camara' ? { profile } : {};
  const problem = assessInputProblem({ ...request, ...onProfile, policy: loaded.policy });
  if (problem) throw new InvalidRequestError(`Invalid assessment request: ${problem}`);
  checkStartRunOptions(options);
  checkIdPolicies(options);
  const executionTimeout = resolveExecutionTimeout('check', options.executionTimeout, timeoutSettings());
  const { api, msisdn } = request;
  const subject = subjectOf(msisdn, resolveSubjectKey(options.subjectKey));
  const workflowId =
    options.workflowId ??
    `netcheck-${api}-${ASSESS_OPERATION}-${subject}-${options.requestId ?? randomUUID()}`;
  const taskQueue = resolveTaskQueue(options.taskQueue, process.env, profile);
  // Fail closed: a client without keys sends nothing to workers that encrypt (ConfigurationError).
  await ensureEncryptionMatches(client, taskQueue);
  const input: AssessInput = {
    ...request,
    ...onProfile,
    policy: loaded.policy,
    subject,
    ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
    ...(options.fast !== undefined ? { fast: options.fast } : {}),
    ...(options.skipFirstWait !== undefined ? { skipFirstWait: options.skipFirstWait } : {}),
    ...(options.maxAuthorizations !== undefined ? { maxAuthorizations: options.maxAuthorizations } : {}),
  };
  const signals = policySignals(loaded.policy);
  const how =
    api === 'identity-insights'
      ? `one Identity Insights request (${signals.flatMap((s) => SIGNAL_INSIGHTS[s]).join(', ')})`
      : `checks in parallel (${signals.map((s) => SIGNAL_OPERATIONS[s]).join(', ')})`;
  const policyLabel = `${loaded.policy.name ?? 'policy'}@${loaded.version}`;
  const masked = maskMsisdn(msisdn);
  let handle: WorkflowHandle<typeof networkAssess>;
  try {
    handle = await client.workflow.start<typeof networkAssess>('networkAssess', {
      taskQueue,
      workflowId,
      ...singleRunFields(options, runSearchAttributes({ operation: ASSESS_OPERATION, api, subject })),
      workflowExecutionTimeout: executionTimeout,
      args: [input],
      staticSummary: options.staticSummary ?? `assess · ${api} · ${masked} · ${policyLabel}`,
      staticDetails:
        options.staticDetails ??
        [
          `**Assessment** of ${masked} over ${api}`,
          `**Policy:** ${policyLabel} (${loaded.policy.rules.length} rules, default ${loaded.policy.default})`,
          `**Signals:** ${signals.join(', ') || 'none'} — ${how}`,
          ...(request.purpose !== undefined ? [`**Purpose:** ${request.purpose}`] : []),
          `**Subject:** ${subject}`,
        ].join('\n\n'),
    });
  } catch (err) {
    // This request id already ran: attach to that run rather than assess twice.
    handle = await runToAttach<typeof networkAssess>(
      client,
      workflowId,
      err,
      options.workflowIdConflictPolicy,
    );
  }
  return Object.assign(handle, { policy: loaded });
}

/** Runs an assessment and waits for its verdict. */
export async function assessNumber(
  client: Client,
  request: AssessRequest,
  options: StartAssessOptions = {},
): Promise<AssessmentResult> {
  return (await startAssess(client, request, options)).result();
}

/** One number of an assessment batch. */
export interface AssessItem {
  msisdn: string;
  api?: Api;
  purpose?: string;
  /** Your reference, copied into the number's record. */
  ref?: string;
}

export interface StartAssessBatchOptions extends Omit<
  StartBatchOptions,
  'bulk' | 'chunkSize' | 'chunkConcurrency' | 'rateLimit' | 'assess'
> {
  /** The policy of every assessment (default NETCHECK_POLICY, else the built-in). */
  policy?: PolicySource;
  /** As for startAssess: the workers' operator profile (default task queue; camara: the camara road). */
  profile?: Profile;
}

/**
 * A batch of assessments: one networkAssess child per number, one record per number with its
 * `assessment` (verdict, reasons, evidence, unknown, policyVersion). Same batch machinery as
 * startBatch (pages, concurrency, continue-as-new, results()); duplicates are not merged.
 */
export async function startAssessBatch(
  client: Client,
  items: Iterable<AssessItem> | AsyncIterable<AssessItem>,
  options: StartAssessBatchOptions,
): Promise<BatchHandle & { readonly policy: LoadedPolicy }> {
  const { policy: source, api, purpose, profile: given, ...rest } = options;
  const loaded = await loadPolicy(source);
  const defaults = clientDefaults();
  const profile = resolveProfile(given);
  const road = api ?? (profile === 'camara' ? 'camara' : (defaults.api ?? DEFAULT_ASSESS_API));
  const setting = purpose ?? purposeSettingOf(defaults);
  async function* asBatchItems() {
    for await (const item of items) {
      yield {
        msisdn: item.msisdn,
        operations: [ASSESS_OPERATION as never],
        api: item.api ?? road,
        ...((item.purpose ?? setting) !== undefined ? { purpose: item.purpose ?? setting } : {}),
        ...(item.ref !== undefined ? { ref: item.ref } : {}),
      };
    }
  }
  const handle = await startBatch(client, asBatchItems(), {
    ...rest,
    taskQueue: resolveTaskQueue(rest.taskQueue, process.env, profile),
    assess: { policy: loaded.policy, ...(profile === 'camara' ? { profile } : {}) },
    staticDetails:
      rest.staticDetails ??
      [
        `**Assessment batch:** ${rest.batchId}`,
        `**Policy:** ${loaded.policy.name ?? 'policy'}@${loaded.version}`,
        `**API (items without one):** ${road}`,
      ].join('\n\n'),
  });
  return Object.assign(handle, { policy: loaded });
}
