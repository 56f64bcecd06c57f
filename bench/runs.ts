/**
 * One measured run: a fresh simulator (same keys, same settings for every mode), a fresh child
 * process (raw flow or netcheck worker), and the figures of that run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { HttpOptions } from '../activities/index.js';
import { startSimulator, type Simulator, type SimulatorStats } from '../simulator/index.js';
import type { ChildMessage, ParentMessage, VonageSettings, WorkerTuning } from './child.js';
import { runNetcheck } from './netcheck.js';
import type { Mode } from './options.js';
import { cpuBetween, sampleProc, type ProcSample } from './proc.js';
import { perSecond, round, summarize, type Summary } from './stats.js';

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
  tuned: { fast: true, tuning: {} },
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
  /** The bench process itself: the simulator and the Temporal client. */
  simulatorAndClient: { cpuSecondsPer1000: number };
  requestsPerCheck: number;
  violations: number;
  /** Checks completed in each second of the run. */
  perSecond: number[];
}

export interface RateRunResult {
  limit: number;
  checks: number;
  ok: number;
  wallSeconds: number;
  /** Requests the simulator accepted (not 429) per second, first to last request. */
  sustainedPerSecond: number;
  utilization: number;
  maxInAnyWindow1s: number;
  refused429: number;
  /** Requests received in each second. */
  requestsPerSecond: number[];
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

async function simulatorFor(
  ctx: BenchContext,
  interval: number,
  extra: { rateLimit?: number; requestLog?: string } = {},
) {
  return startSimulator({
    applicationId: ctx.applicationId,
    publicKey: ctx.publicKeyPem,
    port: 0,
    interval,
    expiresIn: 120,
    faults: { latencyMs: ctx.latencyMs },
    ...extra,
  });
}

function vonage(ctx: BenchContext, sim: Simulator, http?: HttpOptions): VonageSettings {
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

/** CPU seconds this process used since `since`. */
function ownCpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

let runCounter = 0;

export async function rawRun(
  ctx: BenchContext,
  checks: number,
  interval: number,
  http?: HttpOptions,
): Promise<RunResult> {
  const run = runCounter++;
  const sim = await simulatorFor(ctx, interval);
  const child = startChild();
  try {
    const before = sampleProc(child.pid!);
    const ownBefore = process.cpuUsage();
    const done = nextMessage(child, 'raw-done');
    const t0 = Date.now();
    child.send({
      kind: 'raw',
      vonage: vonage(ctx, sim, http),
      count: checks,
      run,
      concurrency: ctx.concurrency,
    } satisfies ParentMessage);
    const result = await done;
    const wall = (Date.now() - t0) / 1000;
    const after = sampleProc(child.pid!);
    const own = ownCpuSeconds(ownBefore);
    return {
      mode: 'raw',
      checks,
      intervalSeconds: interval,
      concurrency: ctx.concurrency,
      ok: result.checks.filter((c) => c.ok).length,
      wallSeconds: round(wall, 2),
      checksPerSecond: round(checks / wall, 1),
      latencyMs: roundSummary(summarize(result.checks.map((c) => c.end - c.start))),
      process: processFigures(before, after, checks),
      simulatorAndClient: { cpuSecondsPer1000: round((own * 1000) / checks, 2) },
      ...requestFigures(sim.stats(), checks),
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

function roundSummary(s: Summary): Summary {
  return {
    p50: round(s.p50, 0),
    p95: round(s.p95, 0),
    p99: round(s.p99, 0),
    mean: round(s.mean, 0),
    max: round(s.max, 0),
  };
}

async function startWorker(
  ctx: BenchContext,
  sim: Simulator,
  taskQueue: string,
  settings: ModeSettings,
  rateLimit?: number,
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
    const ownBefore = process.cpuUsage();
    const result = await runNetcheck(ctx.client, {
      batchId: taskQueue,
      taskQueue,
      count: checks,
      run,
      concurrency: ctx.concurrency,
      fast: settings.fast,
      ...(settings.continueAsNewAfter ? { continueAsNewAfter: settings.continueAsNewAfter } : {}),
    });
    const after = sampleProc(worker.child.pid!);
    const serverAfter = sampleProc(ctx.serverPid);
    const own = ownCpuSeconds(ownBefore);
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
      simulatorAndClient: { cpuSecondsPer1000: round((own * 1000) / checks, 2) },
      ...requestFigures(sim.stats(), checks),
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

/** Standard mode (rate limits apply to regular activities only) against a simulator limited to R. */
export async function rateLimitRun(ctx: BenchContext, limit: number, checks: number): Promise<RateRunResult> {
  const run = runCounter++;
  const requestLog = path.join(ctx.tmpDir, `requests-${run}.jsonl`);
  const sim = await simulatorFor(ctx, 0, { rateLimit: limit, requestLog });
  const taskQueue = `bench-rate-${run}-${Date.now()}`;
  const worker = await startWorker(ctx, sim, taskQueue, MODE_SETTINGS.standard, limit);
  let result;
  try {
    result = await runNetcheck(ctx.client, {
      batchId: taskQueue,
      taskQueue,
      count: checks,
      run,
      concurrency: ctx.concurrency,
      fast: false,
    });
  } finally {
    await worker.stop();
    await sim.close(); // flushes the request log
  }
  const stats = sim.stats();
  const entries = readFileSync(requestLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { time: string; status: number | string });
  const times = entries.map((e) => Date.parse(e.time));
  const accepted = entries.filter((e) => e.status !== 429).length;
  const first = Math.min(...times);
  const last = Math.max(...times);
  // n requests spread over a span make n - 1 gaps.
  const sustained = (accepted - 1) / Math.max(0.001, (last - first) / 1000);
  return {
    limit,
    checks,
    ok: result.summary.byOutcome.ok,
    wallSeconds: round((result.finishedAt - result.startedAt) / 1000, 2),
    sustainedPerSecond: round(sustained, 1),
    utilization: round(sustained / limit, 3),
    maxInAnyWindow1s: stats.maxRequestsInAnyWindow1s,
    refused429: entries.length - accepted,
    requestsPerSecond: perSecond(times, first),
  };
}
