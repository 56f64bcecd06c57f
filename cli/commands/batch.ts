/** `netcheck batch`, `netcheck status`, `netcheck results`: batches from a file, followed to the end. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { BatchProgress, BatchRecord } from '../../domain/batch.js';
import type { Api, Operation } from '../../domain/operations.js';
import { getBatch, startBatch, type BatchHandle } from '../../client/batch.js';
import { resolveTaskQueue } from '../../common/settings.js';
import type { Profile } from '../../domain/profiles.js';
import {
  clientDefaults,
  InvalidRequestError,
  purposeSettingOf,
  resolveSubjectKey,
} from '../../client/index.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { derivedBatchId, readBatchInput, type InputDefaults } from '../input.js';
import { recordWriter, resultFormat } from '../output.js';
import { progressView } from '../progress.js';
import { jsonText } from '../terminal.js';
import { withClient } from '../temporal.js';
import { apiMismatch, warnWithoutWorkers } from './check.js';

export interface BatchCommandOptions {
  op?: Operation[];
  api?: Api;
  maxAge?: number;
  /** One purpose, or one per API family (`sim-swap=…,device-status=…`). */
  purpose?: string;
  batchId?: string;
  concurrency?: number;
  bulk?: boolean;
  chunkSize?: number;
  chunkConcurrency?: number;
  rate?: number;
  out?: string;
  format?: string;
  /** false with --no-wait. */
  wait: boolean;
  taskQueue?: string;
  /** --profile: the operator profile whose workers run the batch (its default task queue). */
  profile?: Profile;
  /** Assess each number (one verdict record per number) instead of running checks. */
  assess?: boolean;
  /** With --assess: the policy file (default NETCHECK_POLICY, else the built-in). */
  policy?: string;
}

function isFailure(record: BatchRecord): boolean {
  return record.outcome !== 'ok';
}

interface FollowResult {
  records: number;
  failures: number;
  byOutcome: Record<string, number>;
}

/** Streams every record to the writer as it arrives, with progress on stderr. */
export async function follow(
  handle: BatchHandle,
  options: {
    out?: string;
    format?: string;
    total?: number;
    msisdnOf?: (index: number) => string | undefined;
  },
): Promise<FollowResult> {
  const writer = await recordWriter(resultFormat(options.format, options.out), options.out);
  const view = progressView();
  let total = options.total ?? (await handle.progress()).total;
  const counts: FollowResult = { records: 0, failures: 0, byOutcome: {} };
  // Ctrl-C stops following (and restores the terminal), never the batch.
  const onSignal = () => {
    view.stop();
    console.error(
      `\nstopped following batch ${handle.batchId}; it goes on. \`netcheck results ${handle.batchId}\` picks it up again.`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  // Records arrive a result page at a time; the progress query moves the counters in between.
  let live = { done: 0, failed: 0 };
  const show = () =>
    view.update({
      done: Math.max(counts.records, live.done),
      total,
      failed: Math.max(counts.failures, live.failed),
    });
  const poller = setInterval(() => {
    handle.progress().then(
      (p) => {
        total = Math.max(total, p.total);
        live = { done: p.done, failed: p.byOutcome.failed + p.byOutcome.invalid + p.byOutcome.cancelled };
        show();
      },
      () => undefined, // only a display; the results loop reports real errors
    );
  }, 1_000);
  show();
  try {
    for await (const record of handle.results()) {
      await writer.write(record, options.msisdnOf?.(record.index));
      counts.records++;
      counts.byOutcome[record.outcome] = (counts.byOutcome[record.outcome] ?? 0) + 1;
      if (isFailure(record)) counts.failures++;
      total = Math.max(total, counts.records);
      show();
    }
  } finally {
    clearInterval(poller);
    process.off('SIGINT', onSignal);
    view.update({ done: counts.records, total, failed: counts.failures });
    view.stop();
    await writer.close();
  }
  return counts;
}

export function outcomeSummary(byOutcome: Record<string, number>): string {
  return ['ok', 'failed', 'invalid', 'cancelled'].map((o) => `${byOutcome[o] ?? 0} ${o}`).join(', ');
}

async function existingBatch(
  client: Client,
  namespace: string,
  batchId: string,
): Promise<{ handle: BatchHandle; progress: BatchProgress }> {
  const handle = getBatch(client, batchId);
  try {
    return { handle, progress: await handle.progress() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new UsageError(
        `no batch "${batchId}" on namespace "${namespace}" (check the id, TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE)`,
      );
    }
    throw err;
  }
}

export async function batchCommand(file: string, options: BatchCommandOptions): Promise<ExitCode> {
  // `--assess` is assessBatchCommand's (cli/commands/assess.ts; batch.flags.ts sends it there).
  if (options.assess) throw new UsageError('an assessment batch runs through `netcheck batch --assess`');
  if (options.policy !== undefined) throw new UsageError('--policy applies only with --assess');
  // Everything the user can get wrong is checked before anything starts.
  resultFormat(options.format, options.out);
  const env = clientDefaults();
  const api = options.api ?? env.api;
  const mismatch =
    options.op &&
    (apiMismatch(options.op, options.api, `--api ${options.api}`) ??
      (options.api === undefined ? apiMismatch(options.op, env.api, `NETCHECK_API=${env.api}`) : undefined));
  if (mismatch) throw mismatch;
  const defaults: InputDefaults = {
    ...(options.op ? { operations: options.op } : {}),
    ...(api !== undefined ? { api } : {}),
    ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
    ...(options.purpose !== undefined ? { purpose: options.purpose } : {}),
  };
  const bulkOnly = [
    ['--chunk-size', options.chunkSize],
    ['--chunk-concurrency', options.chunkConcurrency],
    ['--rate', options.rate],
  ].filter(([, value]) => value !== undefined);
  if (!options.bulk && bulkOnly.length > 0) {
    throw new UsageError(
      `${bulkOnly.map(([flag]) => flag).join(', ')} apply only with --bulk (a per-check batch's rate is the workers' --rate / NETCHECK_RATE_LIMIT)`,
    );
  }
  const input = await readBatchInput(file, defaults);
  for (const warning of input.warnings) console.error(`note: ${warning}`);
  const taskQueue = resolveTaskQueue(options.taskQueue, undefined, options.profile);
  const subjectKey = resolveSubjectKey();
  const batchId =
    options.batchId ??
    derivedBatchId(
      input.bytes,
      {
        ...defaults,
        ...(purposeSettingOf(env) && !options.purpose ? { purpose: purposeSettingOf(env) } : {}),
      },
      subjectKey,
      // The same file in bulk mode is another batch (without --bulk, ids stay what they were).
      options.bulk ? 'bulk' : undefined,
    );
  const checks = input.items.reduce((n, item) => n + item.operations.length, 0);

  return withClient(async ({ client, namespace }) => {
    await warnWithoutWorkers(client, namespace, taskQueue);
    let handle: BatchHandle;
    try {
      handle = await startBatch(client, input.items, {
        batchId,
        taskQueue,
        subjectKey,
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        ...(options.bulk
          ? {
              bulk: true,
              ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
              ...(options.chunkConcurrency !== undefined
                ? { chunkConcurrency: options.chunkConcurrency }
                : {}),
              ...(options.rate !== undefined ? { rateLimit: options.rate } : {}),
            }
          : {}),
      });
    } catch (err) {
      if (err instanceof InvalidRequestError) {
        throw new UsageError(err.message.replace(/^batchId/, '--batch-id'), { cause: err });
      }
      throw err;
    }
    if (!options.wait) {
      console.error(
        `batch ${batchId} started: ${input.items.length} items, ${checks} checks. Follow it with \`netcheck status ${batchId}\`.`,
      );
      console.log(batchId);
      return EXIT.OK;
    }
    console.error(
      `batch ${batchId}: ${input.items.length} items, ${checks} checks (Ctrl-C stops following, not the batch: ` +
        `\`netcheck results ${batchId}\` picks it up again)`,
    );
    const counts = await follow(handle, {
      ...(options.out ? { out: options.out } : {}),
      ...(options.format ? { format: options.format } : {}),
      total: checks,
      msisdnOf: (index) => input.items[index]?.msisdn,
    });
    console.error(
      `batch ${batchId} done: ${counts.records} records — ${outcomeSummary(counts.byOutcome)}${options.out ? ` → ${options.out}` : ''}`,
    );
    return counts.failures > 0 ? EXIT.CHECKS_FAILED : EXIT.OK;
  });
}

export async function statusCommand(batchId: string, options: { json?: boolean }): Promise<ExitCode> {
  return withClient(async ({ client, namespace }) => {
    const { progress } = await existingBatch(client, namespace, batchId);
    if (options.json) console.log(jsonText(progress, 2));
    else {
      const b = progress.byOutcome;
      console.log(
        `batch ${progress.batchId}: ${progress.state}${progress.inputComplete ? '' : ' (input still arriving)'} — ` +
          `${progress.done}/${progress.total} done (${outcomeSummary(b)}), ${progress.inFlight} in flight, ${progress.queued} queued`,
      );
      const codes = Object.entries(progress.byErrorCode);
      if (codes.length > 0) console.log(`errors: ${codes.map(([code, n]) => `${code} ${n}`).join(', ')}`);
      if (progress.duplicates > 0)
        console.log(`duplicates (checked once, result shared): ${progress.duplicates}`);
    }
    const finished = progress.state === 'completed' || progress.state === 'cancelled';
    const failures = progress.byOutcome.failed + progress.byOutcome.invalid + progress.byOutcome.cancelled;
    return finished && failures > 0 ? EXIT.CHECKS_FAILED : EXIT.OK;
  });
}

export async function resultsCommand(
  batchId: string,
  options: { format?: string; out?: string },
): Promise<ExitCode> {
  resultFormat(options.format, options.out);
  return withClient(async ({ client, namespace }) => {
    const { handle, progress } = await existingBatch(client, namespace, batchId);
    const counts = await follow(handle, { ...options, total: progress.total });
    console.error(`batch ${batchId}: ${counts.records} records — ${outcomeSummary(counts.byOutcome)}`);
    return counts.failures > 0 ? EXIT.CHECKS_FAILED : EXIT.OK;
  });
}
