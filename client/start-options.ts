/**
 * What a caller adds to how netcheck starts a run (a check or a batch): its own typed search
 * attributes and memo beside netcheck's, the summary and details the Temporal UI shows, the
 * task priority, and what happens when the workflow id is taken.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowHandle,
  type WorkflowOptions,
} from '@temporalio/client';
import {
  TypedSearchAttributes,
  type Workflow,
  type Priority,
  type SearchAttributePair,
  type WorkflowIdConflictPolicy,
  type WorkflowIdReusePolicy,
} from '@temporalio/common';
import { InvalidRequestError } from '../domain/errors.js';
import { priorityProblem } from '../domain/priority.js';
import { SEARCH_ATTRIBUTES, type RunSearchAttributes } from '../domain/search-attributes.js';

export interface StartRunOptions {
  /**
   * Your own typed search attributes (registered on the namespace), set beside netcheck's
   * (NetcheckOperation, NetcheckApi, NetcheckSubject; NetcheckBatchId on a batch). netcheck's
   * keys are its own: naming one here is refused. Never put a phone number in one.
   */
  typedSearchAttributes?: SearchAttributePair[] | TypedSearchAttributes;
  /** Your memo for the run (not indexed, visible in the UI and `describe()`). */
  memo?: Record<string, unknown>;
  /** The UI's one-line summary of the run, instead of netcheck's (which shows the masked number). */
  staticSummary?: string;
  /** The UI's details of the run (Markdown), instead of netcheck's. */
  staticDetails?: string;
  /**
   * Temporal task priority: `priorityKey` (1 = highest; Temporal's default 3), `fairnessKey`
   * (e.g. a tenant id), `fairnessWeight`. A check started on its own keeps Temporal's default;
   * a batch (and its checks) defaults to priority key 4, one below. Servers without task queue
   * priority ignore it.
   */
  priority?: Priority;
}

const NETCHECK_KEYS = new Set<string>(SEARCH_ATTRIBUTES.map((key) => key.name));
const REUSE_POLICIES: readonly string[] = [
  'ALLOW_DUPLICATE',
  'ALLOW_DUPLICATE_FAILED_ONLY',
  'REJECT_DUPLICATE',
];
const CONFLICT_POLICIES: readonly string[] = ['USE_EXISTING', 'FAIL'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The caller's search attribute pairs; throws InvalidRequestError for a malformed one or one of netcheck's keys. */
export function callerSearchAttributes(options: StartRunOptions): SearchAttributePair[] {
  const given = options.typedSearchAttributes;
  if (given === undefined) return [];
  if (!(given instanceof TypedSearchAttributes) && !Array.isArray(given)) {
    throw new InvalidRequestError(
      'typedSearchAttributes must be an array of { key, value } pairs (keys from defineSearchAttributeKey) or a TypedSearchAttributes',
    );
  }
  const pairs: unknown[] = given instanceof TypedSearchAttributes ? given.getAll() : given;
  return pairs.map((pair, i) => {
    const key = isPlainObject(pair) && isPlainObject(pair.key) ? pair.key : undefined;
    if (
      !key ||
      typeof key.name !== 'string' ||
      typeof key.type !== 'string' ||
      !('value' in (pair as object))
    ) {
      throw new InvalidRequestError(
        `typedSearchAttributes[${i}] must be { key, value } with a key from defineSearchAttributeKey(name, type)`,
      );
    }
    if (NETCHECK_KEYS.has(key.name)) {
      throw new InvalidRequestError(
        `typedSearchAttributes[${i}]: ${key.name} is netcheck's own search attribute and is set by netcheck; use a key of your own`,
      );
    }
    return pair as SearchAttributePair;
  });
}

/** Checks the options every start takes; throws InvalidRequestError naming the first problem. */
export function checkStartRunOptions(
  options: StartRunOptions,
  reservedMemoKeys: readonly string[] = [],
): void {
  callerSearchAttributes(options);
  if (options.memo !== undefined) {
    if (!isPlainObject(options.memo)) throw new InvalidRequestError('memo must be an object');
    const taken = Object.keys(options.memo).filter((key) => reservedMemoKeys.includes(key));
    if (taken.length > 0) {
      throw new InvalidRequestError(`memo key ${taken.join(', ')} is netcheck's own; use another key`);
    }
  }
  for (const name of ['staticSummary', 'staticDetails'] as const) {
    const value: unknown = options[name];
    if (value !== undefined && typeof value !== 'string')
      throw new InvalidRequestError(`${name} must be a string`);
  }
  const problem = priorityProblem(options.priority);
  if (problem) throw new InvalidRequestError(problem);
}

/** Checks the id policies a start takes; throws InvalidRequestError for any other value. */
export function checkIdPolicies(options: {
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
  workflowIdConflictPolicy?: WorkflowIdConflictPolicy;
}): void {
  const { workflowIdReusePolicy: reuse, workflowIdConflictPolicy: conflict } = options;
  if (reuse !== undefined && !REUSE_POLICIES.includes(reuse)) {
    throw new InvalidRequestError(
      `workflowIdReusePolicy must be one of ${REUSE_POLICIES.join(', ')} (got ${JSON.stringify(reuse)})`,
    );
  }
  if (conflict !== undefined && !CONFLICT_POLICIES.includes(conflict)) {
    throw new InvalidRequestError(
      `workflowIdConflictPolicy must be one of ${CONFLICT_POLICIES.join(', ')} (got ${JSON.stringify(conflict)})`,
    );
  }
}

/**
 * The run to attach to when a start found its workflow id taken (Temporal's
 * WorkflowExecutionAlreadyStartedError): a closed run always (a request id runs once), a running
 * one unless the caller chose `FAIL` (then the error). Any other error is thrown again.
 */
export async function runToAttach<T extends Workflow>(
  client: Client,
  workflowId: string,
  err: unknown,
  conflictPolicy: string | undefined,
): Promise<WorkflowHandle<T>> {
  if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  const existing = client.workflow.getHandle<T>(workflowId);
  if (conflictPolicy === 'FAIL' && (await existing.describe()).status.name === 'RUNNING') throw err;
  return existing;
}

/**
 * A single run's start fields on the caller's terms (a check, an assessment): by default a
 * request id runs once and a running one is attached to; netcheck's search attributes, then the
 * caller's; the caller's memo and priority when given.
 */
export function singleRunFields(
  options: StartRunOptions & {
    workflowIdReusePolicy?: Exclude<WorkflowIdReusePolicy, 'TERMINATE_IF_RUNNING'>;
    workflowIdConflictPolicy?: Extract<WorkflowIdConflictPolicy, 'USE_EXISTING' | 'FAIL'>;
  },
  netcheck: RunSearchAttributes,
): Pick<
  WorkflowOptions,
  'workflowIdReusePolicy' | 'workflowIdConflictPolicy' | 'typedSearchAttributes' | 'memo' | 'priority'
> {
  return {
    workflowIdReusePolicy: options.workflowIdReusePolicy ?? 'REJECT_DUPLICATE',
    workflowIdConflictPolicy: options.workflowIdConflictPolicy ?? 'USE_EXISTING',
    typedSearchAttributes: [...netcheck, ...callerSearchAttributes(options)],
    ...(options.memo !== undefined ? { memo: options.memo } : {}),
    ...(options.priority !== undefined ? { priority: options.priority } : {}),
  };
}
