/**
 * The audit trail of checks and assessments, read from Temporal's own records: nothing new runs,
 * the history is the log. For every networkCheck and networkAssess run started in a time range
 * (the visibility list), the first and last events of its history (decoded with the client's data
 * converter, so with the key ring when payloads are encrypted) give one record:
 *
 *   when · subject hash (never the number) · operations · API · purpose · correlation id ·
 *   outcome and error code · verdict, reasons and policy version · who started it
 *
 * "Who started it" is the identity of the client that started the run (NETCHECK_CLIENT_IDENTITY,
 * or the SDK's `<pid>@<host>`), recorded by Temporal in WorkflowExecutionStarted; for a check a
 * batch or an assessment started, the identity that started that batch or assessment (the chain of
 * parents, and of continue-as-new runs, is followed to its first run). What can be exported is what
 * the namespace still holds: its retention period (docs/assess.md, "Audit trail").
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
// @temporalio/proto is CommonJS without named exports for Node's ESM loader.
import proto from '@temporalio/proto';
import {
  ASSESS_OPERATION,
  SIGNAL_OPERATIONS,
  signalPurpose,
  type AssessmentResult,
  type AssessInput,
} from '../domain/assess.js';
import { isApi, isOperation, resolvePurpose } from '../domain/operations.js';
import { causeChain, InvalidRequestError, isErrorCode } from '../domain/errors.js';
import {
  NetcheckApi,
  NetcheckBatchId,
  NetcheckErrorCode,
  NetcheckOperation,
  NetcheckOutcome,
  NetcheckSubject,
  NetcheckVerdict,
} from '../domain/search-attributes.js';
import type { CheckResult, NetworkCheckInput } from '../domain/types.js';

const { temporal } = proto;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
type Failure = proto.temporal.api.failure.v1.IFailure;

/** The workflow types an audit export lists. */
export const AUDITED_WORKFLOWS = { networkCheck: 'check', networkAssess: 'assessment' } as const;

export interface AuditRecord {
  kind: 'check' | 'assessment';
  /** When the run started and closed (ISO-8601). */
  startedAt: string;
  closedAt?: string;
  /** Temporal's status: RUNNING, COMPLETED, FAILED, TIMED_OUT, TERMINATED, CANCELED. */
  status: string;
  /**
   * `ok` (a check answered / an assessment reached its verdict), `failed` (a check's final negative
   * answer: see errorCode), `error` (the run failed: see errorCode), `timed_out`, `terminated`,
   * `cancelled`, or `running`.
   */
  outcome: 'ok' | 'failed' | 'error' | 'timed_out' | 'terminated' | 'cancelled' | 'running';
  errorCode?: string;
  workflowId: string;
  runId: string;
  /** Keyed hash of the number (NetcheckSubject); never the number. */
  subject?: string;
  /** The checks run: the operation of a check; an assessment's signals as their operations. */
  operations: string[];
  api?: string;
  /** The operator profile that answered (a check's result; an assessment's input), when not the default. */
  profile?: string;
  purpose?: string;
  correlationId?: string;
  verdict?: string;
  reasons?: string[];
  /** An assessment's unknown signals, `signal:CODE`. */
  unknown?: string[];
  policyVersion?: string;
  policyName?: string;
  /** The identity of the client that started the run (or the batch or assessment it belongs to). */
  startedBy?: string;
  /** The batch or assessment that started this run, if any. */
  parentWorkflowId?: string;
  batchId?: string;
  taskQueue: string;
  /** Set when the run's payloads could not be decoded (no key ring here?): the record holds what visibility says. */
  note?: string;
}

export interface AuditOptions {
  since: Date;
  /** Default: now. */
  until?: Date;
  /** Only runs of this task queue. */
  taskQueue?: string;
  /** Runs whose histories are read at once (default 8). */
  concurrency?: number;
}

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The visibility query of an export. */
export function auditQuery(options: AuditOptions): string {
  const until = options.until ?? new Date();
  if (!(options.since instanceof Date) || Number.isNaN(options.since.getTime())) {
    throw new InvalidRequestError('since must be a time');
  }
  if (Number.isNaN(until.getTime()) || until <= options.since) {
    throw new InvalidRequestError(
      `until (${until.toISOString()}) must be a time after since (${options.since.toISOString()})`,
    );
  }
  const types = Object.keys(AUDITED_WORKFLOWS)
    .map((type) => `WorkflowType = ${quote(type)}`)
    .join(' OR ');
  return (
    `(${types}) AND StartTime >= ${quote(options.since.toISOString())} AND StartTime < ${quote(until.toISOString())}` +
    (options.taskQueue ? ` AND TaskQueue = ${quote(options.taskQueue)}` : '')
  );
}

const STATUS = temporal.api.enums.v1.WorkflowExecutionStatus;

function outcomeOfStatus(name: string): AuditRecord['outcome'] {
  switch (name) {
    case 'RUNNING':
      return 'running';
    case 'TIMED_OUT':
      return 'timed_out';
    case 'TERMINATED':
      return 'terminated';
    case 'CANCELLED':
    case 'CANCELED':
      return 'cancelled';
    default:
      return 'error';
  }
}

/** The netcheck error code in a failure chain (types are never encrypted), if any. */
function failureCode(failure: Failure | null | undefined): string | undefined {
  for (const f of causeChain(failure, 10) as Failure[]) {
    const type = f.applicationFailureInfo?.type;
    if (isErrorCode(type)) return type;
    if (f.timeoutFailureInfo) return 'TIMEOUT';
  }
  return undefined;
}

/** Reads the audit records of one namespace: see the module comment. */
export async function* exportAudit(client: Client, options: AuditOptions): AsyncIterable<AuditRecord> {
  const query = auditQuery(options);
  const { namespace } = client.options;
  const converter = client.options.loadedDataConverter;
  const service = client.workflowService;
  const concurrency = Math.max(1, Math.min(32, options.concurrency ?? 8));

  const firstEvents = new Map<string, Promise<HistoryEvent | undefined>>();
  /** The WorkflowExecutionStarted event of a run (undefined once it is past retention). */
  const firstEvent = (workflowId: string, runId: string): Promise<HistoryEvent | undefined> => {
    const key = `${workflowId}\u0000${runId}`;
    let event = firstEvents.get(key);
    if (!event) {
      event = service
        .getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, maximumPageSize: 1 })
        .then(
          ({ history }) => history?.events?.[0] ?? undefined,
          () => undefined,
        );
      firstEvents.set(key, event);
    }
    return event;
  };

  /** Who started the run: its own started identity, or its first run's, or its parent's, to the root. */
  async function startedBy(workflowId: string, runId: string, depth = 0): Promise<string | undefined> {
    const started = (await firstEvent(workflowId, runId))?.workflowExecutionStartedEventAttributes;
    if (!started || depth > 10) return undefined;
    const parent = started.parentWorkflowExecution;
    if (parent?.workflowId && parent.runId) return startedBy(parent.workflowId, parent.runId, depth + 1);
    const first = started.firstExecutionRunId;
    if (started.continuedExecutionRunId && first && first !== runId)
      return startedBy(workflowId, first, depth + 1);
    return started.identity ?? undefined;
  }

  async function decode<T>(payloads: Payload[] | null | undefined): Promise<T | undefined> {
    if (!payloads || payloads.length === 0) return undefined;
    return decodeFromPayloadsAtIndex<T>(converter, 0, payloads);
  }

  async function recordOf(info: WorkflowExecutionInfo): Promise<AuditRecord> {
    const kind = AUDITED_WORKFLOWS[info.type as keyof typeof AUDITED_WORKFLOWS];
    const sa = info.typedSearchAttributes;
    const record: AuditRecord = {
      kind,
      startedAt: info.startTime.toISOString(),
      ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
      status: info.status.name,
      outcome: info.status.name === 'COMPLETED' ? 'ok' : outcomeOfStatus(info.status.name),
      workflowId: info.workflowId,
      runId: info.runId,
      operations: [],
      taskQueue: info.taskQueue,
    };
    // What visibility knows, kept where the history says nothing else.
    const fromSearchAttributes = () => {
      const subject = sa.get(NetcheckSubject);
      const operation = sa.get(NetcheckOperation);
      const api = sa.get(NetcheckApi);
      const batchId = sa.get(NetcheckBatchId);
      const code = sa.get(NetcheckErrorCode);
      const verdict = sa.get(NetcheckVerdict);
      const outcome = sa.get(NetcheckOutcome);
      if (subject) record.subject = subject;
      if (operation && operation !== ASSESS_OPERATION && record.operations.length === 0)
        record.operations = [operation];
      if (api) record.api = api;
      if (batchId) record.batchId = batchId;
      if (code && !record.errorCode) record.errorCode = code;
      if (verdict && !record.verdict) record.verdict = verdict;
      if (outcome === 'failed' && record.outcome === 'ok') record.outcome = 'failed';
    };

    const [first, close, by] = await Promise.all([
      firstEvent(info.workflowId, info.runId),
      info.status.code === STATUS.WORKFLOW_EXECUTION_STATUS_RUNNING
        ? Promise.resolve(undefined)
        : service
            .getWorkflowExecutionHistory({
              namespace,
              execution: { workflowId: info.workflowId, runId: info.runId },
              historyEventFilterType:
                temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
            })
            .then(
              ({ history }) => history?.events?.at(-1) ?? undefined,
              () => undefined,
            ),
      startedBy(info.workflowId, info.runId),
    ]);
    if (by !== undefined) record.startedBy = by;
    const started = first?.workflowExecutionStartedEventAttributes;
    const parent = started?.parentWorkflowExecution?.workflowId ?? info.parentExecution?.workflowId;
    if (parent) record.parentWorkflowId = parent;

    try {
      if (kind === 'check') {
        const input = await decode<NetworkCheckInput>(started?.input?.payloads);
        if (input) {
          if (input.subject) record.subject = input.subject;
          if (input.operation) record.operations = [input.operation];
          if (input.api) record.api = input.api;
          // The purpose the check sent (the workflow resolves a setting or none the same way).
          const api = isApi(input.api) ? input.api : 'camara';
          const purpose = isOperation(input.operation)
            ? resolvePurpose(input.purpose, input.operation, api)
            : undefined;
          if (purpose) record.purpose = purpose;
          if (input.correlationId) record.correlationId = input.correlationId;
          if (input.batchId) record.batchId = input.batchId;
        }
        const result = await decode<CheckResult>(
          close?.workflowExecutionCompletedEventAttributes?.result?.payloads,
        );
        if (result) {
          record.outcome = result.status;
          record.api = result.api ?? record.api ?? 'camara';
          if (result.profile !== undefined) record.profile = result.profile;
          record.correlationId = result.correlationId;
          if (result.error) record.errorCode = result.error.code;
        }
      } else {
        const input = await decode<AssessInput>(started?.input?.payloads);
        if (input) {
          if (input.subject) record.subject = input.subject;
          if (input.api) record.api = input.api;
          if (input.profile) record.profile = input.profile;
          if (input.purpose) record.purpose = input.purpose;
          if (input.correlationId) record.correlationId = input.correlationId;
          if (input.batchId) record.batchId = input.batchId;
        }
        const result = await decode<AssessmentResult>(
          close?.workflowExecutionCompletedEventAttributes?.result?.payloads,
        );
        if (result) {
          record.operations = result.signals.map((signal) => SIGNAL_OPERATIONS[signal]);
          // The purposes its requests sent (one per API family that a setting may split).
          const purposes = [
            ...new Set(result.signals.map((s) => signalPurpose(s, result.api, input?.purpose))),
          ];
          const sent = purposes.filter((p): p is NonNullable<typeof p> => p !== undefined);
          if (sent.length > 0) record.purpose = sent.join(';');
          record.api = result.api;
          record.correlationId = result.correlationId;
          record.verdict = result.verdict;
          record.reasons = result.reasons;
          record.unknown = result.unknown.map((u) => `${u.signal}:${u.code}`);
          record.policyVersion = result.policyVersion;
          if (result.policyName !== undefined) record.policyName = result.policyName;
        }
      }
    } catch (err) {
      record.note = `payloads not decoded (${(err as Error).name}): run the export with the workers' key ring (NETCHECK_ENCRYPTION_KEYS)`;
    }
    const failure = close?.workflowExecutionFailedEventAttributes?.failure;
    if (failure) record.errorCode = failureCode(failure) ?? 'INTERNAL';
    fromSearchAttributes();
    return record;
  }

  let batch: WorkflowExecutionInfo[] = [];
  const flush = async function* (): AsyncIterable<AuditRecord> {
    for (let i = 0; i < batch.length; i += concurrency) {
      const records = await Promise.all(batch.slice(i, i + concurrency).map(recordOf));
      yield* records;
    }
    batch = [];
  };
  for await (const info of client.workflow.list({ query, pageSize: 200 })) {
    if (!(info.type in AUDITED_WORKFLOWS)) continue;
    batch.push(info);
    if (batch.length >= 200) yield* flush();
  }
  yield* flush();
}

/** The CSV columns of an audit export, in order. */
export const AUDIT_COLUMNS = [
  'started_at',
  'closed_at',
  'kind',
  'status',
  'outcome',
  'error_code',
  'subject',
  'operations',
  'api',
  'profile',
  'purpose',
  'correlation_id',
  'verdict',
  'reasons',
  'unknown',
  'policy_version',
  'policy_name',
  'started_by',
  'workflow_id',
  'run_id',
  'parent_workflow_id',
  'batch_id',
  'task_queue',
  'note',
] as const;

/** One flat row of an audit record (lists joined with `;`). */
export function auditRow(r: AuditRecord): Record<(typeof AUDIT_COLUMNS)[number], string | undefined> {
  return {
    started_at: r.startedAt,
    closed_at: r.closedAt,
    kind: r.kind,
    status: r.status,
    outcome: r.outcome,
    error_code: r.errorCode,
    subject: r.subject,
    operations: r.operations.join(';'),
    api: r.api,
    profile: r.profile,
    purpose: r.purpose,
    correlation_id: r.correlationId,
    verdict: r.verdict,
    reasons: r.reasons?.join(';'),
    unknown: r.unknown?.join(';'),
    policy_version: r.policyVersion,
    policy_name: r.policyName,
    started_by: r.startedBy,
    workflow_id: r.workflowId,
    run_id: r.runId,
    parent_workflow_id: r.parentWorkflowId,
    batch_id: r.batchId,
    task_queue: r.taskQueue,
    note: r.note,
  };
}
