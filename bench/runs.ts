/**
 * One measured run: a fresh simulator (same keys, same settings for every mode), a fresh child
 * process (raw flow or netcheck worker), and the figures of that run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { LogLevel } from '@temporalio/worker';
import type { HttpOptions } from '../activities/index.js';
import type { SimulatorStats } from '../simulator/index.js';
import type { SimulatorReply, SimulatorRequest } from './simulator-process.js';
import type { ChildMessage, ParentMessage, VonageSettings, WorkerTuning } from './child.js';
import { checkId } from '../workflows/batch.js';
import { countActions, sumActions, type ActionCount } from './actions.js';
import { batchHistories, eventType, runNetcheck } from './netcheck.js';
import type { Mode } from './options.js';
import { cpuBetween, sampleProc, SIMULATOR_PRIORITY, type ProcSample } from './proc.js';
import { maxInWindow, perSecond, round, roundSummary, summarize, type Summary } from './stats.js';

type SimulatorRequestOptions = Extract<SimulatorRequest, { kind: 'start' }>['options'];

export interface BenchContext {
  client: Client;
  address: string;
  serverPid: number;
  bundlePath: string;
  applicationId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  tmpDir: string;
  latencyMs: number;
  concurrency: number;
  log: (line: string) => void;
}

/** What each netcheck mode changes. */
export interface ModeSettings {
  fast: boolean;
  /** Bulk mode: chunk activities run the checks, no workflow per check (docs/bulk.md). */
  bulk?: boolean;
  tuning: WorkerTuning;
  http?: HttpOptions;
  continueAsNewAfter?: number;
}

export const MODE_SETTINGS: Record<Exclude<Mode, 'raw'>, ModeSettings> = {
  /** Every HTTP step an activity; netcheck's and the SDK's defaults. */
  standard: { fast: false, tuning: {} },
  /** HTTP steps as local activities (`fast: true`); defaults otherwise. */
  fast: { fast: true, tuning: {} },
  /** Fast mode plus the worker and HTTP settings the figures called for. */
  tuned: {
    fast: true,
    tuning: { maxConcurrentWorkflowTaskExecutions: 200, maxConcurrentLocalActivityExecutions: 200 },
    http: { connections: 100 },
  },
  /** A bulk batch (`bulk: true`): its defaults (chunks of 200, 4 at once). */
  bulk: { fast: false, bulk: true, tuning: {} },
};

export interface RunResult {
  mode: Mode;
  checks: number;
  intervalSeconds: number;
  concurrency: number;
  ok: number;
  wallSeconds: number;
  checksPerSecond: number;
  /** Per-check latency, ms. */
  latencyMs: Summary;
  /** History events per check (netcheck only): mean, and the most seen. */
  eventsPerCheck?: { mean: number; max: number };
  /** One check's history by event type (netcheck only). */
  sampleHistory?: string[];
  /** The measured child process (raw flow or worker). */
  process: { peakRssMiB: number; cpuSecondsPer1000: number };
  /** The Temporal server process (netcheck only). */
  server?: { cpuSecondsPer1000: number };
  /** The simulator process (standing in for Vonage). */
  simulator: { cpuSecondsPer1000: number };
  requestsPerCheck: number;
  violations: number;
  /** Checks completed in each second of the run. */
  perSecond: number[];
}

/** Single checks, one at a time (concurrency 1), interval 0: where per-check overhead shows undiluted. */
export interface LatencyRunResult {
  variant: LatencyVariant;
  checks: number;
  ok: number;
  /** Starts the server answered with the first workflow task inline (fast+eager only). */
  eagerStarts?: number;
  latencyMs: Summary;
}

/** Untimed checks first: a fresh process's first ones pay for JIT, connections and caches. */
const LATENCY_WARMUP = 5;

export const LATENCY_VARIANTS = ['raw', 'standard', 'fast', 'fast+eager'] as const;
export type LatencyVariant = (typeof LATENCY_VARIANTS)[number];

export interface RateRunResult {
  mode: Exclude<Mode, 'raw'>;
  limit: number;
  /** Worker processes on the task queue, sharing the limit. */
  workers: number;
  concurrency: number;
  checks: number;
  ok: number;
  wallSeconds: number;
  /** Requests the simulator accepted (not 429) per second: the median over whole seconds. */
  sustainedPerSecond: number;
  /** The same over the whole run, first request to last. */
  averagePerSecond: number;
  /** Requests the simulator admitted ÷ (R × the seconds from the first request to the last). */
  utilization: number;
  /** Requests the simulator admitted (all but its limiter's 429s). */
  admitted: number;
  /** From the simulator's stats: it times a request once its body is read, late when its event loop is busy. */
  maxInAnyWindow1s: number;
  /** The same, from the request log's receipt times (when the request's headers arrived). */
  maxInAnyWindow1sAtReceipt: number;
  refused429: number;
  /** Requests received in each second. */
  requestsPerSecond: number[];
  /**
   * How late the simulator answered beyond its set latency: its event loop was busy, so it also
   * timed arrivals late. Bunched late timestamps can fill a 1-s window the client never filled.
   */
  simulatorLagMs: Summary;
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

function startChild(): ChildProcess {
  // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of every child (to see where its CPU goes).
  const profile = process.env.BENCH_CPU_PROF;
  return fork(CHILD, [], {
    execArgv: ['--import', 'tsx', ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The next message from the child; rejects on an error message or an early exit. */
function nextMessage<K extends ChildMessage['kind']>(
  child: ChildProcess,
  kind: K,
): Promise<Extract<ChildMessage, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: ChildMessage) => {
      if (m.kind === kind) {
        cleanup();
        resolve(m as Extract<ChildMessage, { kind: K }>);
      } else if (m.kind === 'error') {
        cleanup();
        reject(new Error(`bench child failed: ${m.message}`));
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`bench child exited (${code}) before "${kind}"`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

const SIMULATOR = fileURLToPath(new URL('./simulator-process.ts', import.meta.url));

/** The simulator for one run, in its own (higher-priority) process. */
export interface SimulatorHandle {
  url: string;
  pid: number;
  stats(): Promise<SimulatorStats>;
  close(): Promise<void>;
}

/** The next reply of the simulator process of a given kind. */
function simulatorReply<K extends SimulatorReply['kind']>(
  child: ChildProcess,
  kind: K,
): Promise<Extract<SimulatorReply, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: SimulatorReply) => {
      if (m.kind !== kind && m.kind !== 'error') return;
      child.off('message', onMessage);
      if (m.kind === 'error') reject(new Error(`simulator: ${m.message}`));
      else resolve(m as Extract<SimulatorReply, { kind: K }>);
    };
    child.on('message', onMessage);
  });
}

/** `extra` overrides the bench's defaults (expires_in 120 s, latency only, no rate limit). */
export async function simulatorFor(
  ctx: BenchContext,
  interval: number,
  extra: Pick<
    SimulatorRequestOptions,
    'rateLimit' | 'requestLog' | 'expiresIn' | 'faults' | 'pendingPolls' | 'scenarios'
  > = {},
): Promise<SimulatorHandle> {
  const child = fork(SIMULATOR, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    os.setPriority(child.pid!, SIMULATOR_PRIORITY);
  } catch {
    // Not allowed (not root): the simulator runs at normal priority; its lag is in the report.
  }
  const started = simulatorReply(child, 'started');
  child.send({
    kind: 'start',
    options: {
      applicationId: ctx.applicationId,
      publicKey: ctx.publicKeyPem,
      port: 0,
      interval,
      expiresIn: 120,
      faults: { latencyMs: ctx.latencyMs },
      ...extra,
    },
  } satisfies SimulatorRequest);
  let url: string;
  try {
    ({ url } = await started);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    pid: child.pid!,
    async stats() {
      const reply = simulatorReply(child, 'stats');
      child.send({ kind: 'stats' } satisfies SimulatorRequest);
      return (await reply).stats;
    },
    async close() {
      if (child.exitCode !== null) return;
      const stopped = simulatorReply(child, 'stopped');
      child.send({ kind: 'stop' } satisfies SimulatorRequest);
      await stopped.catch(() => child.kill('SIGKILL'));
      await stopChild(child);
    },
  };
}

function vonage(ctx: BenchContext, sim: SimulatorHandle, http?: HttpOptions): VonageSettings {
  return {
    applicationId: ctx.applicationId,
    privateKeyPem: ctx.privateKeyPem,
    baseUrl: sim.url,
    ...(http ? { http } : {}),
  };
}

function requestFigures(stats: SimulatorStats, checks: number) {
  return {
    requestsPerCheck: round(stats.total / checks, 2),
    violations: Object.values(stats.violations).reduce((a, b) => a + b, 0),
  };
}

function processFigures(before: ProcSample | undefined, after: ProcSample | undefined, checks: number) {
  return {
    peakRssMiB: round(after?.peakRssMiB ?? NaN, 0),
    cpuSecondsPer1000: round((cpuBetween(before, after) * 1000) / checks, 2),
  };
}

let runCounter = 0;

/** A new run number: keeps the numbers and task queues of the runs apart. */
export const nextRun = () => runCounter++;

export async function rawRun(
  ctx: BenchContext,
  checks: number,
  interval: number,
  http?: HttpOptions,
  concurrency = ctx.concurrency,
  warmup = 0,
): Promise<RunResult> {
  const run = runCounter++;
  const sim = await simulatorFor(ctx, interval);
  const child = startChild();
  try {
    const before = sampleProc(child.pid!);
    const simBefore = sampleProc(sim.pid);
    const done = nextMessage(child, 'raw-done');
    const t0 = Date.now();
    child.send({
      kind: 'raw',
      vonage: vonage(ctx, sim, http),
      count: checks,
      run,
      concurrency,
      warmup,
    } satisfies ParentMessage);
    const result = await done;
    const wall = (Date.now() - t0) / 1000;
    const after = sampleProc(child.pid!);
    const simAfter = sampleProc(sim.pid);
    return {
      mode: 'raw',
      checks,
      intervalSeconds: interval,
      concurrency,
      ok: result.checks.filter((c) => c.ok).length,
      wallSeconds: round(wall, 2),
      checksPerSecond: round(checks / wall, 1),
      latencyMs: roundSummary(summarize(result.checks.map((c) => c.end - c.start))),
      process: processFigures(before, after, checks),
      simulator: { cpuSecondsPer1000: round((cpuBetween(simBefore, simAfter) * 1000) / checks, 2) },
      ...requestFigures(await sim.stats(), checks),
      perSecond: perSecond(
        result.checks.map((c) => c.end),
        t0,
      ),
    };
  } finally {
    await stopChild(child);
    await sim.close();
  }
}

export async function startWorker(
  ctx: BenchContext,
  sim: SimulatorHandle,
  taskQueue: string,
  settings: ModeSettings,
  rateLimit?: number,
  logLevel?: LogLevel,
) {
  const child = startChild();
  const ready = nextMessage(child, 'ready');
  child.send({
    kind: 'worker',
    vonage: vonage(ctx, sim, settings.http),
    address: ctx.address,
    taskQueue,
    bundlePath: ctx.bundlePath,
    tuning: settings.tuning,
    ...(rateLimit !== undefined ? { rateLimit } : {}),
    ...(logLevel !== undefined ? { logLevel } : {}),
  } satisfies ParentMessage);
  try {
    await ready;
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    child,
    async stop() {
      const stopped = nextMessage(child, 'stopped');
      child.send({ kind: 'stop' } satisfies ParentMessage);
      await stopped;
      await stopChild(child);
    },
  };
}

export async function netcheckRun(
  ctx: BenchContext,
  mode: Exclude<Mode, 'raw'>,
  checks: number,
  interval: number,
): Promise<RunResult> {
  const run = runCounter++;
  const settings = MODE_SETTINGS[mode];
  const sim = await simulatorFor(ctx, interval);
  const taskQueue = `bench-${run}-${Date.now()}`;
  const worker = await startWorker(ctx, sim, taskQueue, settings);
  try {
    const before = sampleProc(worker.child.pid!);
    const serverBefore = sampleProc(ctx.serverPid);
    const simBefore = sampleProc(sim.pid);
    const result = await runNetcheck(ctx.client, {
      batchId: taskQueue,
      taskQueue,
      count: checks,
      run,
      concurrency: ctx.concurrency,
      fast: settings.fast,
      bulk: settings.bulk,
      ...(settings.continueAsNewAfter ? { continueAsNewAfter: settings.continueAsNewAfter } : {}),
    });
    const after = sampleProc(worker.child.pid!);
    const serverAfter = sampleProc(ctx.serverPid);
    const simAfter = sampleProc(sim.pid);
    const wall = (result.finishedAt - result.startedAt) / 1000;
    const events = result.checks.map((c) => c.historyLength);
    return {
      mode,
      checks,
      intervalSeconds: interval,
      concurrency: ctx.concurrency,
      ok: result.summary.byOutcome.ok,
      wallSeconds: round(wall, 2),
      checksPerSecond: round(checks / wall, 1),
      latencyMs: roundSummary(summarize(result.checks.map((c) => c.end - c.start))),
      eventsPerCheck: {
        mean: round(events.reduce((a, b) => a + b, 0) / (events.length || 1), 1),
        max: Math.max(...events),
      },
      sampleHistory: result.sampleHistory,
      process: processFigures(before, after, checks),
      server: { cpuSecondsPer1000: round((cpuBetween(serverBefore, serverAfter) * 1000) / checks, 2) },
      simulator: { cpuSecondsPer1000: round((cpuBetween(simBefore, simAfter) * 1000) / checks, 2) },
      ...requestFigures(await sim.stats(), checks),
      perSecond: perSecond(
        result.checks.map((c) => c.end),
        result.startedAt,
      ),
    };
  } finally {
    await worker.stop();
    await sim.close();
  }
}

export async function latencyRun(
  ctx: BenchContext,
  variant: LatencyVariant,
  checks: number,
): Promise<LatencyRunResult> {
  if (variant === 'raw') {
    const run = await rawRun(ctx, checks, 0, MODE_SETTINGS.tuned.http, 1, LATENCY_WARMUP);
    return { variant, checks, ok: run.ok, latencyMs: run.latencyMs };
  }
  const run = runCounter++;
  const sim = await simulatorFor(ctx, 0);
  const taskQueue = `bench-single-${run}-${Date.now()}`;
  const settings = variant === 'standard' ? MODE_SETTINGS.standard : MODE_SETTINGS.fast;
  const worker = await startWorker(ctx, sim, taskQueue, settings);
  try {
    const done = nextMessage(worker.child, 'singles-done');
    worker.child.send({
      kind: 'singles',
      count: checks,
      warmup: LATENCY_WARMUP,
      run,
      fast: variant !== 'standard',
      eager: variant === 'fast+eager',
    } satisfies ParentMessage);
    const result = await done;
    return {
      variant,
      checks,
      ok: result.checks.filter((c) => c.ok).length,
      ...(variant === 'fast+eager' ? { eagerStarts: result.eagerStarts } : {}),
      latencyMs: roundSummary(summarize(result.checks.map((c) => c.end - c.start))),
    };
  } finally {
    await worker.stop();
    await sim.close();
  }
}

/** A batch against a simulator limited to R req/s, the worker's rateLimit also R. */
export async function rateLimitRun(
  ctx: BenchContext,
  mode: Exclude<Mode, 'raw'>,
  limit: number,
  checks: number,
  concurrency: number,
  workerCount = 1,
): Promise<RateRunResult> {
  const run = runCounter++;
  const requestLog = path.join(ctx.tmpDir, `requests-${run}.jsonl`);
  const sim = await simulatorFor(ctx, 0, { rateLimit: limit, requestLog });
  const taskQueue = `bench-rate-${run}-${Date.now()}`;
  const workers = await Promise.all(
    Array.from({ length: workerCount }, () => startWorker(ctx, sim, taskQueue, MODE_SETTINGS[mode], limit)),
  );
  const worker = { stop: () => Promise.all(workers.map((w) => w.stop())) };
  let result;
  try {
    result = await runNetcheck(ctx.client, {
      batchId: taskQueue,
      taskQueue,
      count: checks,
      run,
      concurrency,
      fast: MODE_SETTINGS[mode].fast,
      bulk: MODE_SETTINGS[mode].bulk,
    });
  } finally {
    await worker.stop();
  }
  const stats = await sim.stats();
  await sim.close(); // flushes the request log
  const entries = readFileSync(requestLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { time: string; status: number | string; latencyMs: number });
  const times = entries.map((e) => Date.parse(e.time));
  const accepted = entries.filter((e) => e.status !== 429);
  const first = Math.min(...times);
  const last = Math.max(...times);
  // Sustained: the median of accepted requests per whole second (the last, partial second left
  // out), robust to the batch starting and running out of checks; the average counts those too.
  const bins = perSecond(
    accepted.map((e) => Date.parse(e.time)),
    first,
  ).slice(0, -1);
  const sustained = [...bins].sort((a, b) => a - b)[Math.floor(bins.length / 2)] ?? 0;
  // n requests spread over a span make n − 1 gaps.
  const average = (accepted.length - 1) / Math.max(0.001, (last - first) / 1000);
  return {
    mode,
    limit,
    workers: workerCount,
    concurrency,
    checks,
    ok: result.summary.byOutcome.ok,
    wallSeconds: round((result.finishedAt - result.startedAt) / 1000, 2),
    sustainedPerSecond: round(sustained, 1),
    averagePerSecond: round(average, 1),
    // The definition: admitted ÷ (R × span), not a median of per-second counts.
    utilization: round(accepted.length / (limit * Math.max(0.001, (last - first) / 1000)), 3),
    admitted: accepted.length,
    maxInAnyWindow1s: stats.maxRequestsInAnyWindow1s,
    maxInAnyWindow1sAtReceipt: maxInWindow(times, 1000),
    refused429: entries.length - accepted.length,
    requestsPerSecond: perSecond(times, first),
    simulatorLagMs: roundSummary(
      summarize(entries.filter((e) => e.status === 200).map((e) => Math.max(0, e.latencyMs - ctx.latencyMs))),
    ),
  };
}

/** History and cost of checks with one authorization_pending poll each (events, Temporal Cloud actions). */
export interface HistoryRunResult {
  mode: Exclude<Mode, 'raw'>;
  intervalSeconds: number;
  checks: number;
  ok: number;
  eventsPerCheck: { mean: number; max: number };
  /** Billable actions per check: the check's own history, and its share of the batch's. */
  actionsPerCheck: { check: number; batchShare: number; total: number };
  /** Actions per check by kind (checks and batch together). */
  actionsByKind: Record<string, number>;
  sampleHistory: string[];
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The SDK sends an activity's first heartbeat at once, then at most one per 0.8 × heartbeat timeout. */
const BULK_HEARTBEAT_THROTTLE_MS = 0.8 * 10_000;

function eventMs(event: HistoryEvent): number {
  const t = event.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;
}

/**
 * Heartbeats that reached the server from bulk chunk activities, estimated from how long each
 * attempt ran (they are actions but leave no event): one at the start, then one per throttle
 * interval.
 */
export function bulkHeartbeats(events: HistoryEvent[]): number {
  const started = new Map<string, number>();
  let count = 0;
  for (const e of events) {
    if (e.activityTaskStartedEventAttributes) {
      started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), eventMs(e));
    }
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (closed) {
      const from = started.get(String(closed.scheduledEventId));
      if (from !== undefined) count += 1 + Math.floor((eventMs(e) - from) / BULK_HEARTBEAT_THROTTLE_MS);
    }
  }
  return count;
}

export async function historyRun(
  ctx: BenchContext,
  mode: Exclude<Mode, 'raw'>,
  interval: number,
  checks: number,
): Promise<HistoryRunResult> {
  const run = runCounter++;
  const settings = MODE_SETTINGS[mode];
  const sim = await simulatorFor(ctx, interval, { pendingPolls: 1 });
  const taskQueue = `bench-history-${run}-${Date.now()}`;
  const worker = await startWorker(ctx, sim, taskQueue, settings);
  try {
    const result = await runNetcheck(ctx.client, {
      batchId: taskQueue,
      taskQueue,
      count: checks,
      run,
      concurrency: ctx.concurrency,
      fast: settings.fast,
      bulk: settings.bulk,
    });
    const counts: ActionCount[] = [];
    const lengths: number[] = [];
    let sample: string[] = [];
    // Bulk mode has no workflow per check: its events and actions are the batch's alone.
    for (let i = 0; i < (settings.bulk ? 0 : checks); i++) {
      const history = await ctx.client.workflow.getHandle(checkId(taskQueue, i, 'sim-swap')).fetchHistory();
      const events = history.events ?? [];
      lengths.push(events.length);
      counts.push(countActions(events));
      if (i === 0) sample = events.map(eventType);
    }
    const chain = await batchHistories(ctx.client, taskQueue);
    const batchCounts = chain.map((events) => {
      const own = countActions(events);
      // Result pages are child workflows: each start is an action (check children count in their own histories).
      const pages = events.filter(
        (e) =>
          e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === 'batchResultPage',
      ).length;
      const heartbeats = settings.bulk ? bulkHeartbeats(events) : 0;
      return {
        total: own.total + pages + heartbeats,
        byKind: {
          ...own.byKind,
          'result-page workflows': pages,
          ...(settings.bulk ? { 'chunk heartbeats (estimated)': heartbeats } : {}),
        },
      };
    });
    if (settings.bulk) {
      const events = chain.reduce((n, h) => n + h.length, 0) / checks;
      lengths.push(events);
      sample = (chain[chain.length - 1] ?? []).map(eventType);
    }
    const check = sumActions(counts);
    const batch = sumActions(batchCounts);
    const all = sumActions([check, batch]);
    return {
      mode,
      intervalSeconds: interval,
      checks,
      ok: result.summary.byOutcome.ok,
      eventsPerCheck: {
        mean: round(lengths.reduce((a, b) => a + b, 0) / (lengths.length || 1), 1),
        max: Math.max(...lengths),
      },
      actionsPerCheck: {
        check: round(check.total / checks, 2),
        batchShare: round(batch.total / checks, 2),
        total: round(all.total / checks, 2),
      },
      actionsByKind: Object.fromEntries(
        Object.entries(all.byKind).map(([k, n]) => [k, round(n / checks, 2)]),
      ),
      sampleHistory: sample,
    };
  } finally {
    await worker.stop();
    await sim.close();
  }
}
