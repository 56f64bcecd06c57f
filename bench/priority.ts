/**
 * The priority run: how long one check started on its own (a signup, someone waiting) takes
 * while a large batch keeps the same task queue busy, with and without the batch's lower task
 * priority (startBatch's default priority key 4 vs the check's default 3; "without": the batch at
 * 3 too). A figure, not an assertion.
 *
 * Task queue priority is a server feature: this run starts a dev server of its own with it on
 * (`matching.useNewMatcher`), one worker whose slots the batch fills (so tasks wait on the queue,
 * where priority decides their order), then the batch, then single checks one after another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { startBatch } from '../client/batch.js';
import { checkNumber } from '../client/index.js';
import { BATCH_PRIORITY_KEY, DEFAULT_PRIORITY_KEY } from '../domain/priority.js';
import { benchRequests } from './numbers.js';
import { MODE_SETTINGS, simulatorFor, startWorker, type BenchContext } from './runs.js';
import { startDevServer } from './server.js';
import { roundSummary, summarize, type Summary } from './stats.js';

/** What the priority run's server needs (Temporal server 1.29: task queue priority behind this flag). */
export const PRIORITY_SERVER_FLAGS = ['--dynamic-config-value', 'matching.useNewMatcher=true'];

export interface PriorityRunResult {
  /** `with`: the batch at its default priority key 4; `without`: the batch at 3, like the checks. */
  variant: 'with' | 'without';
  batchPriorityKey: number;
  checkPriorityKey: number;
  batchChecks: number;
  batchConcurrency: number;
  /** The worker's activity and workflow task slots (the batch keeps them busy). */
  workerSlots: number;
  singles: number;
  ok: number;
  /** One single check, start to result, while the batch ran. */
  latencyMs: Summary;
  /** Batch checks done while the single checks ran. */
  batchDoneMeanwhile: number;
}

export interface PriorityOptions {
  batchChecks: number;
  singles: number;
  concurrency: number;
  slots: number;
}

/** Both variants, on a server of their own; the runs of `ctx` are not affected. */
export async function priorityRuns(
  ctx: BenchContext,
  options: PriorityOptions,
): Promise<PriorityRunResult[]> {
  const dir = mkdtempSync(path.join(ctx.tmpDir, 'priority-'));
  const server = await startDevServer(dir, ctx.log, PRIORITY_SERVER_FLAGS);
  const connection = await Connection.connect({ address: server.address });
  const pctx: BenchContext = {
    ...ctx,
    client: new Client({ connection }),
    address: server.address,
    serverPid: server.pid,
  };
  try {
    const results: PriorityRunResult[] = [];
    for (const variant of ['without', 'with'] as const)
      results.push(await priorityRun(pctx, variant, options));
    return results;
  } finally {
    await connection.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function priorityRun(
  ctx: BenchContext,
  variant: 'with' | 'without',
  options: PriorityOptions,
): Promise<PriorityRunResult> {
  const sim = await simulatorFor(ctx, 0);
  const taskQueue = `bench-priority-${variant}-${Date.now()}`;
  const worker = await startWorker(ctx, sim, taskQueue, {
    ...MODE_SETTINGS.standard,
    tuning: {
      maxConcurrentActivityTaskExecutions: options.slots,
      maxConcurrentWorkflowTaskExecutions: options.slots,
    },
  });
  const batchId = taskQueue;
  const batchPriorityKey = variant === 'with' ? BATCH_PRIORITY_KEY : DEFAULT_PRIORITY_KEY;
  try {
    const items = benchRequests(options.batchChecks, variant === 'with' ? 91 : 92).map((r) => ({
      msisdn: r.msisdn,
      operations: [r.operation],
    }));
    const batch = await startBatch(ctx.client, items, {
      batchId,
      taskQueue,
      subjectKey: 'bench',
      concurrency: options.concurrency,
      dedupe: false,
      // `with`: startBatch's default (BATCH_PRIORITY_KEY); `without`: the checks' own priority.
      ...(variant === 'without' ? { priority: { priorityKey: DEFAULT_PRIORITY_KEY } } : {}),
    });
    // The batch in full swing: its checks fill the worker's slots and wait on the queue.
    for (let i = 0; i < 600; i++) {
      const p = await batch.progress();
      if (p.inFlight >= Math.min(options.concurrency, options.batchChecks) / 2 || p.done > 0) break;
      await sleep(100);
    }
    const before = (await batch.progress()).done;
    const latencies: number[] = [];
    let ok = 0;
    for (const request of benchRequests(options.singles, variant === 'with' ? 93 : 94)) {
      const start = Date.now();
      const result = await checkNumber(ctx.client, request, { taskQueue, subjectKey: 'bench' });
      latencies.push(Date.now() - start);
      if (result.status === 'ok') ok++;
    }
    const after = await batch.progress();
    return {
      variant,
      batchPriorityKey,
      checkPriorityKey: DEFAULT_PRIORITY_KEY,
      batchChecks: options.batchChecks,
      batchConcurrency: options.concurrency,
      workerSlots: options.slots,
      singles: options.singles,
      ok,
      latencyMs: roundSummary(summarize(latencies)),
      batchDoneMeanwhile: after.done - before,
    };
  } finally {
    // The rest of the batch is not the point: stop it (its checks with it) and the worker.
    await ctx.client.workflow
      .getHandle(batchId)
      .terminate('priority run done')
      .catch(() => undefined);
    await worker.stop();
    await sim.close();
  }
}

/** The run as a Markdown table. */
export function priorityMarkdown(results: PriorityRunResult[]): string {
  if (results.length === 0) return '';
  const first = results[0]!;
  return [
    `### One check while a ${first.batchChecks.toLocaleString('en-US')}-check batch runs on the same task queue`,
    '',
    `One worker (${first.workerSlots} activity and workflow task slots), the batch at concurrency ${first.batchConcurrency}, ` +
      `${first.singles} single checks one after another (priority key ${first.checkPriorityKey}), interval 0; ` +
      'a dev server with task queue priority on.',
    '',
    '| batch priority key | single check p50 (ms) | p95 (ms) | max (ms) | ok | batch checks done meanwhile |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.batchPriorityKey}${r.variant === 'with' ? ' (default)' : ' (same as the check)'} | ${r.latencyMs.p50} | ${r.latencyMs.p95} | ${r.latencyMs.max} | ${r.ok}/${r.singles} | ${r.batchDoneMeanwhile} |`,
    ),
  ].join('\n');
}
