/** `netcheck check <msisdn> --op …`: one check, waited for; the CheckResult as a line or as JSON. */
import { WorkflowFailedError, type Client } from '@temporalio/client';
// @temporalio/proto is CommonJS without named exports for Node's ESM loader.
import proto from '@temporalio/proto';
import { errorCodeOf, failsRun, innermostMessage } from '../../domain/errors.js';
import { maskMsisdn } from '../../domain/msisdn.js';
import {
  acceptsPurpose,
  apiServes,
  defaultPurpose,
  isPurpose,
  OPERATIONS,
  purposeFamily,
  type Api,
  type Operation,
} from '../../domain/operations.js';
import { clientDefaults, resolveRequest, startCheck, type ClientDefaults } from '../../client/index.js';
import { checkRequestProblem } from '../../domain/validate.js';
import { resolveProfile, resolveTaskQueue } from '../../common/settings.js';
import type { Profile } from '../../domain/profiles.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { checkLine } from '../output.js';
import { jsonText } from '../terminal.js';
import * as parse from '../parse.js';
import { numberFromStdin } from '../stdin.js';
import { withClient } from '../temporal.js';

const { temporal } = proto;

export interface CheckCommandOptions {
  op: Operation;
  api?: Api;
  maxAge?: number;
  purpose?: string;
  json?: boolean;
  taskQueue?: string;
  requestId?: string;
  /** --profile: the operator profile whose workers run the check (its default task queue). */
  profile?: Profile;
}

/** Says so on stderr when no worker polls the task queue: the check would wait for one. */
export async function warnWithoutWorkers(
  client: Client,
  namespace: string,
  taskQueue: string,
): Promise<void> {
  try {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if (!pollers || pollers.length === 0) {
      console.error(
        `note: no worker polls task queue "${taskQueue}" right now; the work waits until one does ` +
          '(start one with `netcheck worker`, or `netcheck dev` for a local stack).',
      );
    }
  } catch {
    // Only a hint: never fail the command over it.
  }
}

/**
 * An operation asked over an API that does not serve it (`--op carrier --api camara`, or with
 * NETCHECK_API=camara): a usage error that says which API serves it.
 */
export function apiMismatch(
  operations: readonly Operation[],
  api: Api | undefined,
  source: string,
): UsageError | undefined {
  if (api === undefined) return undefined;
  const wrong = operations.find((op) => !apiServes(api, op));
  if (!wrong) return undefined;
  const serving = OPERATIONS[wrong].apis;
  return new UsageError(
    `${wrong} runs only over ${serving.join(' or ')}, not over ${api} (${source}): pass --api ${serving[0]}`,
  );
}

/** The number from argv, or from stdin when it is `-`. */
export async function numberArgument(raw: string): Promise<string> {
  return raw === '-' ? parse.msisdn(await numberFromStdin()) : raw;
}

export async function checkCommand(rawMsisdn: string, options: CheckCommandOptions): Promise<ExitCode> {
  if (options.maxAge !== undefined && options.op !== 'sim-swap') {
    throw new UsageError(`--max-age applies only to --op sim-swap (got --op ${options.op})`);
  }
  const defaults: ClientDefaults = clientDefaults();
  const mismatch =
    apiMismatch([options.op], options.api, `--api ${options.api}`) ??
    (options.api === undefined
      ? apiMismatch([options.op], defaults.api, `NETCHECK_API=${defaults.api}`)
      : undefined);
  if (mismatch) throw mismatch;
  const msisdn = await numberArgument(rawMsisdn);
  const request = resolveRequest(
    {
      msisdn,
      operation: options.op,
      ...(options.api !== undefined ? { api: options.api } : {}),
      ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
      ...(options.purpose !== undefined ? { purpose: options.purpose } : {}),
    },
    defaults,
  );
  const problem = checkRequestProblem(request);
  if (problem) throw new UsageError(problem);
  // Identity Insights is Vonage's own API: a camara-profile worker has no such road (docs/profiles.md).
  if (resolveProfile(options.profile) === 'camara' && request.api === 'identity-insights') {
    throw new UsageError(
      `${options.op} over identity-insights is Vonage's API, not served by the camara profile: run it with --profile vonage, or run a CAMARA operation over --api camara`,
    );
  }
  // One --purpose applies to the API families that accept it; for a single check whose family does
  // not, netcheck would send the family's default instead: say so rather than send another purpose.
  const family = purposeFamily(options.op);
  if (
    options.purpose !== undefined &&
    isPurpose(options.purpose) &&
    family !== undefined &&
    !acceptsPurpose(options.op, request.api, options.purpose)
  ) {
    throw new UsageError(
      `--purpose ${options.purpose} does not apply to ${options.op} over ${request.api}: Vonage takes ${defaultPurpose(options.op, request.api)} for ${family} there. ` +
        `Leave --purpose out, or write --purpose ${family}=${options.purpose} to send it anyway.`,
    );
  }
  const taskQueue = resolveTaskQueue(options.taskQueue, undefined, options.profile);
  return withClient(async ({ client, namespace }) => {
    await warnWithoutWorkers(client, namespace, taskQueue);
    const handle = await startCheck(client, request, {
      taskQueue,
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    if (!options.json) console.error(`workflow ${handle.workflowId}`);
    let result;
    try {
      result = await handle.result();
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const code = errorCodeOf(err);
        const message = innermostMessage(err);
        if (code && failsRun(code)) {
          // INVALID_INPUT / CONFIGURATION: the request or the worker's settings must change.
          throw new UsageError(`the check was refused: ${message}`);
        }
        throw new Error(`the check workflow failed: ${message}`);
      }
      throw err;
    }
    if (options.json) console.log(jsonText(result, 2));
    else console.log(checkLine(maskMsisdn(msisdn), result));
    return result.status === 'ok' ? EXIT.OK : EXIT.CHECKS_FAILED;
  });
}
