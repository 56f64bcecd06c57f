/**
 * Workflow interceptors the netcheck worker bundles beside its workflows (not a workflow): each
 * finished networkCheck is counted by operation, API and outcome, and its time to authorization
 * recorded, from the input it got and the result it returned. The workflow code is untouched.
 *
 * Workflow metrics go through Temporal's workflow metric meter, which drops them while a
 * workflow replays, so a check counts once however many workers replay it. They reach the
 * worker's Prometheus endpoint with the meter's own tags (namespace, task_queue, workflow_type).
 */
import {
  isCancellation,
  metricMeter,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { TemporalFailure } from '@temporalio/common';
import { errorCodeOf } from '../domain/errors.js';
import { DEFAULT_API, isApi, isOperation } from '../domain/operations.js';
import type { CheckResult, NetworkCheckInput } from '../domain/types.js';

/** Metric names (without the runtime's prefix); worker/metrics.ts documents them all. */
export const WORKFLOW_METRICS = {
  checks: 'netcheck_checks',
  timeToAuthorization: 'netcheck_time_to_authorization_seconds',
} as const;

type Outcome = 'ok' | 'failed' | 'error' | 'cancelled';

function labels(input: NetworkCheckInput | undefined, outcome: Outcome, errorCode?: string) {
  // Input that failed validation may carry anything: keep the label set bounded.
  const operation = isOperation(input?.operation) ? input.operation : 'invalid';
  const api = input?.api === undefined ? DEFAULT_API : isApi(input.api) ? input.api : 'invalid';
  return { operation, api, outcome, ...(errorCode ? { error_code: errorCode } : {}) };
}

function seconds(from: string, to: string | undefined): number | undefined {
  if (to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}

class CheckMetricsInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    if (workflowInfo().workflowType !== 'networkCheck') return next(input);
    const request = input.args[0] as NetworkCheckInput | undefined;
    const checks = metricMeter.createCounter(
      WORKFLOW_METRICS.checks,
      undefined,
      'networkCheck runs finished, by operation, api and outcome (ok, failed, error, cancelled)',
    );
    let result: CheckResult;
    try {
      result = (await next(input)) as CheckResult;
    } catch (err) {
      if (isCancellation(err)) checks.add(1, labels(request, 'cancelled'));
      // Only failures that end the run count; any other error fails the task, which is retried.
      else if (err instanceof TemporalFailure) {
        checks.add(1, labels(request, 'error', errorCodeOf(err) ?? 'UNKNOWN'));
      }
      throw err;
    }
    checks.add(1, labels(request, result.status, result.error?.code));
    const authorized = seconds(result.timestamps.started, result.timestamps.tokenIssued);
    if (authorized !== undefined) {
      metricMeter
        .createHistogram(
          WORKFLOW_METRICS.timeToAuthorization,
          'float',
          's',
          'From the start of a CIBA check until its access token was issued',
        )
        .record(authorized, { operation: result.operation });
    }
    return result;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new CheckMetricsInterceptor()],
});
