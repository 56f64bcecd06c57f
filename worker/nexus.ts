/**
 * The `netcheck` Nexus service: a caller in another namespace — in any language — starts checks
 * through a Nexus endpoint, without knowing netcheck's task queue, workflow ids or subject key
 * (docs/contract.md, "Nexus"). Register it with `new NetcheckPlugin({ …, nexus: true })`, then
 * point an endpoint at the worker's namespace and task queue:
 *
 *   temporal operator nexus endpoint create --name netcheck \
 *     --target-namespace netcheck --target-task-queue netcheck
 *
 * Both operations are backed by the same workflows the client API starts:
 * - `check` (NexusCheckInput → CheckResult) runs one `networkCheck`. Its workflow id is the one
 *   startCheck derives, with the caller's `requestId` or else the Nexus request id, so a retried
 *   or repeated call is the same check: it attaches to the run while it is open, and answers with
 *   that run's result once it has closed.
 * - `batch` (NexusBatchInput → BatchProgress) starts a `batchCheck` under the caller's batch id and
 *   sends it the items in pages, as startBatch does; the operation completes with the batch's
 *   summary. The same batch id is the same batch.
 */
import {
  TemporalOperationHandler,
  TemporalOperationResult,
  operationInfo,
  type TemporalNexusClient,
} from '@temporalio/nexus';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import * as nexus from 'nexus-rpc';
// The client modules load workflow definitions (queries, updates); a worker that runs only from a
// prebuilt bundle has no workflows/ beside it, so they load when an operation first starts.
import { resolveSubjectKey, subjectOf } from '../client/subject.js';
import type { BatchItem, BatchOptions, BatchProgress } from '../domain/batch.js';
import { batchOptionsProblem } from '../domain/batch-options.js';
import { maskMsisdn } from '../domain/msisdn.js';
import {
  NetcheckApi,
  NetcheckBatchId,
  NetcheckOperation,
  NetcheckSubject,
} from '../domain/search-attributes.js';
import type { CheckOptions, CheckRequest, CheckResult } from '../domain/types.js';
import { resolveExecutionTimeout } from '../domain/timeouts.js';
import { checkRequestProblem } from '../domain/validate.js';
import { timeoutSettings } from '../common/settings.js';
import type { batchCheck } from '../workflows/batch.js';
import type { networkCheck } from '../workflows/network-check.js';

/** The input of the `check` operation: a check request, its options and an idempotency key. */
export interface NexusCheckInput extends CheckRequest, CheckOptions {
  /**
   * The same number, operation, api and requestId is one check (1–100 letters, digits, `.`, `_`,
   * `:`, `-`). Default: the Nexus request id, which stays the same when the caller retries.
   */
  requestId?: string;
  /** `x-correlator` of every call of this check (a UUID; default: a new one). */
  correlationId?: string;
}

/** The input of the `batch` operation: at most NEXUS_BATCH_MAX_ITEMS items. */
export interface NexusBatchInput {
  /** Names the batch (and its workflow): the same id is the same batch. */
  batchId: string;
  items: BatchItem[];
  options?: BatchOptions;
}

export const NEXUS_SERVICE_NAME = 'netcheck';
/** More items than this go through the client API's page protocol, in netcheck's namespace. */
export const NEXUS_BATCH_MAX_ITEMS = 1_000;

/** The service definition; a caller declares the same names and types (or uses its SDK's untyped client). */
export const netcheckNexusService = nexus.service(NEXUS_SERVICE_NAME, {
  check: nexus.operation<NexusCheckInput, CheckResult>(),
  batch: nexus.operation<NexusBatchInput, BatchProgress>(),
});

export interface NetcheckNexusOptions {
  /** Key of the subject hash (default NETCHECK_SUBJECT_KEY): the same as the clients'. */
  subjectKey?: string | Uint8Array;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const BATCH_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
/** As startBatch gives it (client/batch.ts): a batch's replays need more than the default 10 s. */
const BATCH_WORKFLOW_TASK_TIMEOUT = '20 seconds';

function badRequest(message: string): nexus.HandlerError {
  return new nexus.HandlerError('BAD_REQUEST', message);
}

/**
 * A repeat of a closed check or batch (REJECT_DUPLICATE refused a new run under its id): the
 * operation answers at once with that run's result. Any other error is rethrown.
 */
async function closedRun<T>(
  client: TemporalNexusClient,
  workflowId: string,
  err: unknown,
): Promise<TemporalOperationResult<T>> {
  if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  return TemporalOperationResult.sync((await client.client.workflow.getHandle(workflowId).result()) as T);
}

/** The handler of the `netcheck` service. Throws a ConfigurationError when there is no subject key. */
export function netcheckNexusHandler(options: NetcheckNexusOptions = {}) {
  const key = resolveSubjectKey(options.subjectKey);

  return nexus.serviceHandler(netcheckNexusService, {
    check: new TemporalOperationHandler<NexusCheckInput, CheckResult>({
      async start(ctx, client, input) {
        if (!input || typeof input !== 'object') throw badRequest('the check input is missing');
        const { requestId, correlationId, skipFirstWait, maxAuthorizations, fast, ...request } = input;
        // Defaults as the client API takes them: NETCHECK_API and NETCHECK_PURPOSE, then per operation.
        const { resolveRequest } = await import('../client/index.js');
        const resolved = resolveRequest(request);
        const problem = checkRequestProblem(resolved);
        if (problem) throw badRequest(`Invalid check input: ${problem}`);
        if (requestId !== undefined && (typeof requestId !== 'string' || !REQUEST_ID.test(requestId))) {
          throw badRequest('requestId must be 1–100 letters, digits, ".", "_", ":" or "-"');
        }
        const { api, operation } = resolved;
        const subject = subjectOf(resolved.msisdn, key);
        const workflowId = `netcheck-${api}-${operation}-${subject}-${requestId ?? ctx.requestId}`;
        try {
          return await client.startWorkflow<typeof networkCheck>('networkCheck', {
            workflowId,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            workflowIdConflictPolicy: 'USE_EXISTING',
            // As startCheck: NETCHECK_CHECK_TIMEOUT, else 1 hour.
            workflowExecutionTimeout: resolveExecutionTimeout('check', undefined, timeoutSettings()),
            args: [{ ...resolved, skipFirstWait, maxAuthorizations, fast, correlationId, subject }],
            typedSearchAttributes: [
              { key: NetcheckOperation, value: operation },
              { key: NetcheckApi, value: api },
              { key: NetcheckSubject, value: subject },
            ],
            staticSummary: `${operation} · ${api} · ${maskMsisdn(resolved.msisdn)} · via Nexus`,
          });
        } catch (err) {
          return closedRun(client, workflowId, err);
        }
      },
    }),

    batch: new TemporalOperationHandler<NexusBatchInput, BatchProgress>({
      async start(_ctx, client, input) {
        if (!input || typeof input !== 'object') throw badRequest('the batch input is missing');
        const { batchId, items, options = {} } = input;
        if (typeof batchId !== 'string' || !BATCH_ID.test(batchId)) {
          throw badRequest(
            'batchId must be 1–200 letters, digits and . _ : - starting with a letter or digit',
          );
        }
        if (!Array.isArray(items) || items.length === 0 || items.length > NEXUS_BATCH_MAX_ITEMS) {
          throw badRequest(
            `items must hold 1 to ${NEXUS_BATCH_MAX_ITEMS} items; send larger inputs with the client API's pages`,
          );
        }
        const problem = batchOptionsProblem(options);
        if (problem) throw badRequest(`Invalid batch options: ${problem}`);
        let result: TemporalOperationResult<BatchProgress>;
        try {
          result = await client.startWorkflow<typeof batchCheck>('batchCheck', {
            workflowId: batchId,
            args: [{ batchId, options }],
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            workflowTaskTimeout: BATCH_WORKFLOW_TASK_TIMEOUT,
            // As startBatch: NETCHECK_BATCH_TIMEOUT, else 7 days, for the whole chain of runs.
            workflowExecutionTimeout: resolveExecutionTimeout('batch', undefined, timeoutSettings()),
            typedSearchAttributes: [{ key: NetcheckBatchId, value: batchId }],
            staticSummary: `netcheck batch ${batchId} · via Nexus`,
          });
        } catch (err) {
          return closedRun(client, batchId, err);
        }
        // The run backs the operation; its input goes in as startBatch sends it (numbered, hashed,
        // deduplicated, in pages). On a retry, the pages the batch already has are skipped.
        const { startBatch } = await import('../client/batch.js');
        await startBatch(client.client, items, {
          ...options,
          batchId,
          subjectKey: key,
          taskQueue: operationInfo().taskQueue,
        });
        return result;
      },
    }),
  });
}
