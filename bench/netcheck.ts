/**
 * The netcheck side of a run: the same numbers as one batch through Temporal, then every
 * check's start and close time and history length from visibility, and one history by event type.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { startBatch } from '../client/batch.js';
import type { BatchItem, BatchProgress } from '../domain/batch.js';
import { checkId } from '../workflows/batch.js';
import { benchRequests } from './numbers.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface NetcheckRunOptions {
  batchId: string;
  taskQueue: string;
  count: number;
  run: number;
  concurrency: number;
  fast: boolean;
  /** Bulk mode: chunks of checks run by activities, no workflow per check. */
  bulk?: boolean;
  /** Checks per workflow run before continue-as-new (batch default 2,000). */
  continueAsNewAfter?: number;
}

export interface ClosedCheck {
  /** ms since the epoch: the server's start and close times (bulk: the result's own timestamps) */
  start: number;
  end: number;
  /** Events of the check's workflow (bulk: the batch's events, all runs, shared out per check). */
  historyLength: number;
}

export interface NetcheckRun {
  /** When startBatch was called, and when the batch workflow had completed. */
  startedAt: number;
  finishedAt: number;
  summary: BatchProgress;
  checks: ClosedCheck[];
  /** Event types of one check's history, in order. */
  sampleHistory: string[];
}

export async function runNetcheck(client: Client, options: NetcheckRunOptions): Promise<NetcheckRun> {
  const items: BatchItem[] = benchRequests(options.count, options.run).map((r) => ({
    msisdn: r.msisdn,
    operations: [r.operation],
    ...(r.maxAge !== undefined ? { maxAge: r.maxAge } : {}),
  }));
  const startedAt = Date.now();
  const handle = await startBatch(client, items, {
    batchId: options.batchId,
    taskQueue: options.taskQueue,
    subjectKey: 'bench',
    concurrency: options.concurrency,
    ...(options.bulk ? { bulk: true } : { fast: options.fast }),
    dedupe: false,
    ...(options.continueAsNewAfter ? { continueAsNewAfter: options.continueAsNewAfter } : {}),
  });
  const summary = await handle.result();
  const finishedAt = Date.now();
  if (options.bulk) {
    const histories = await batchHistories(client, options.batchId);
    const events = histories.reduce((n, h) => n + h.length, 0);
    const checks: ClosedCheck[] = [];
    for await (const record of handle.results()) {
      const t = record.result?.timestamps;
      if (!t) continue;
      checks.push({
        start: Date.parse(t.started),
        end: Date.parse(t.finished),
        historyLength: events / options.count,
      });
    }
    return {
      startedAt,
      finishedAt,
      summary,
      checks,
      sampleHistory: (histories[histories.length - 1] ?? []).map(eventType),
    };
  }
  return {
    startedAt,
    finishedAt,
    summary,
    checks: await closedChecks(client, options.batchId, options.count),
    sampleHistory: await historyEventTypes(client, checkId(options.batchId, 0, 'sim-swap')),
  };
}

/** Every run of a workflow (continue-as-new chain), newest first, as event lists. */
export async function batchHistories(client: Client, workflowId: string): Promise<HistoryEvent[][]> {
  const out: HistoryEvent[][] = [];
  let runId: string | undefined;
  for (let i = 0; i < 1_000; i++) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    out.push(history.events ?? []);
    runId =
      history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    if (!runId) break;
  }
  return out;
}

/** An event's type: each event carries exactly one `<type>EventAttributes` field. */
export function eventType(event: HistoryEvent): string {
  const key = Object.entries(event).find(([k, v]) => k.endsWith('EventAttributes') && v)?.[0];
  return key ? key.replace(/EventAttributes$/, '') : 'unknown';
}

/** Every check of the batch from visibility (which trails the batch by a moment). */
async function closedChecks(client: Client, batchId: string, expected: number): Promise<ClosedCheck[]> {
  const query = `NetcheckBatchId = '${batchId}' AND WorkflowType = 'networkCheck' AND ExecutionStatus != 'Running'`;
  for (let attempt = 0; attempt < 60; attempt++) {
    const { count } = await client.workflow.count(query);
    if (count >= expected) break;
    await sleep(500);
  }
  const checks: ClosedCheck[] = [];
  for await (const info of client.workflow.list({ query, pageSize: 1_000 })) {
    checks.push({
      start: info.startTime.getTime(),
      end: (info.closeTime ?? info.startTime).getTime(),
      historyLength: info.historyLength,
    });
  }
  return checks;
}

async function historyEventTypes(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).map(eventType);
}
