/**
 * `npm run bench -- --cluster`: netcheck's throughput on the PostgreSQL cluster of
 * `npm run cluster` (Temporal Server's four services as separate processes) with 1 and with 3
 * worker processes, beside the same runs on the dev server. Same numbers, simulator (50 ms per
 * request), concurrency and interval as a standard bench run; N = 1,000 by default, 20 with --smoke.
 *
 * Every run: a fresh simulator, K bench worker processes (bench/child.ts) on a new task queue,
 * one batch of N checks. CPU is read from /proc: the workers together, the Temporal server (the
 * dev server's one process, or the cluster's four services) and, on the cluster, PostgreSQL.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../cli/stack/temporal-cli.js';
import { startCluster, type Cluster } from '../scripts/cluster/index.js';
import { TEMPORAL_SERVER_VERSION } from '../scripts/cluster/server.js';
import { runNetcheck } from './netcheck.js';
import type { BenchOptions, Mode } from './options.js';
import type { Machine } from './report.js';
import { MODE_SETTINGS, nextRun, simulatorFor, startWorker, type BenchContext } from './runs.js';
import { round, summarize, type Summary } from './stats.js';

/** Worker processes per run, on each server. */
export const CLUSTER_WORKER_COUNTS = [1, 3] as const;

export interface ClusterRunResult {
  server: 'dev server' | 'cluster';
  mode: Exclude<Mode, 'raw'>;
  workers: number;
  checks: number;
  intervalSeconds: number;
  concurrency: number;
  ok: number;
  wallSeconds: number;
  checksPerSecond: number;
  latencyMs: Summary;
  eventsPerCheck: number;
  /** CPU seconds per 1,000 checks: all workers together, the Temporal server, PostgreSQL (cluster only). */
  cpuSecondsPer1000: { workers: number; server: number; postgres?: number };
  requestsPerCheck: number;
  violations: number;
}

export interface ClusterBenchReport {
  date: string;
  machine: Machine;
  cluster: { temporalServer: string; services: string[]; historyShards: number; startSeconds: number };
  settings: { concurrency: number; latencyMs: number; sizes: number[]; interval: number };
  runs: ClusterRunResult[];
}

const CLK_TCK = 100;

/** /proc/<pid>/stat fields after the command name: [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds of processes (their own time only). */
function cpuOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

/**
 * CPU seconds of PostgreSQL: the postmaster, its live backends, and the backends that have exited
 * (their time is in the postmaster's cutime/cstime once reaped).
 */
function postgresCpu(postmaster: number): number {
  const own = statFields(postmaster);
  if (!own) return 0;
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

function postmasterPid(cluster: Cluster): number | undefined {
  try {
    const pid = Number(
      readFileSync(path.join(cluster.stateDir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** One batch of `checks` on a new task queue served by `workers` bench worker processes. */
async function run(
  ctx: BenchContext,
  server: ClusterRunResult['server'],
  serverPids: number[],
  postmaster: number | undefined,
  mode: Exclude<Mode, 'raw'>,
  workers: number,
  checks: number,
  interval: number,
): Promise<ClusterRunResult> {
  const runNumber = nextRun();
  const settings = MODE_SETTINGS[mode];
  const sim = await simulatorFor(ctx, interval);
  const taskQueue = `bench-cluster-${runNumber}-${Date.now()}`;
  const started: Awaited<ReturnType<typeof startWorker>>[] = [];
  try {
    for (let i = 0; i < workers; i++) started.push(await startWorker(ctx, sim, taskQueue, settings));
    const workerPids = started.map((w) => w.child.pid!);
    const before = {
      workers: cpuOf(workerPids),
      server: cpuOf(serverPids),
      postgres: postmaster ? postgresCpu(postmaster) : 0,
    };
    const result = await runNetcheck(ctx.client, {
      batchId: taskQueue,
      taskQueue,
      count: checks,
      run: runNumber,
      concurrency: ctx.concurrency,
      fast: settings.fast,
    });
    const per1000 = (seconds: number) => round((seconds * 1000) / checks, 2);
    const cpu = {
      workers: per1000(cpuOf(workerPids) - before.workers),
      server: per1000(cpuOf(serverPids) - before.server),
      ...(postmaster ? { postgres: per1000(postgresCpu(postmaster) - before.postgres) } : {}),
    };
    const wall = (result.finishedAt - result.startedAt) / 1000;
    const latency = summarize(result.checks.map((c) => c.end - c.start));
    const stats = await sim.stats();
    return {
      server,
      mode,
      workers,
      checks,
      intervalSeconds: interval,
      concurrency: ctx.concurrency,
      ok: result.summary.byOutcome.ok,
      wallSeconds: round(wall, 2),
      checksPerSecond: round(checks / wall, 1),
      latencyMs: {
        p50: round(latency.p50, 0),
        p95: round(latency.p95, 0),
        p99: round(latency.p99, 0),
        mean: round(latency.mean, 0),
        max: round(latency.max, 0),
      },
      eventsPerCheck: round(
        result.checks.reduce((a, c) => a + c.historyLength, 0) / (result.checks.length || 1),
        1,
      ),
      cpuSecondsPer1000: cpu,
      requestsPerCheck: round(stats.total / checks, 2),
      violations: Object.values(stats.violations).reduce((a, b) => a + b, 0),
    };
  } finally {
    await Promise.all(started.map((w) => w.stop()));
    await sim.close();
  }
}

const num = (v: number | undefined, digits = 1) =>
  v === undefined || !Number.isFinite(v) ? '–' : round(v, digits).toLocaleString('en-US');

export function clusterMarkdown(report: ClusterBenchReport): string {
  const m = report.machine;
  const c = report.cluster;
  const lines = [
    `Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}. ${report.date}; ` +
      `load average ${m.loadAverage.start} at the start, ${m.loadAverage.end} at the end. ` +
      `Dev server: Temporal ${m.temporalServer}, one process, SQLite WAL. Cluster: Temporal Server ${c.temporalServer}, ` +
      `${c.services.join(', ')} as separate processes, PostgreSQL, ${c.historyShards} history shards (started in ${num(c.startSeconds, 0)} s). ` +
      `Everything on this one machine. Concurrency ${report.settings.concurrency}, interval ${report.settings.interval} s, ` +
      `simulator latency ${report.settings.latencyMs} ms per request.`,
    '',
    '| server | mode | workers | N | checks/s | p50 ms | p95 ms | p99 ms | events/check | workers CPU s/1k | Temporal CPU s/1k | PostgreSQL CPU s/1k | req/check | ok |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...report.runs.map(
      (r) =>
        `| ${r.server} | ${r.mode} | ${r.workers} | ${num(r.checks, 0)} | ${num(r.checksPerSecond)} | ${num(r.latencyMs.p50, 0)} | ` +
        `${num(r.latencyMs.p95, 0)} | ${num(r.latencyMs.p99, 0)} | ${num(r.eventsPerCheck)} | ${num(r.cpuSecondsPer1000.workers, 2)} | ` +
        `${num(r.cpuSecondsPer1000.server, 2)} | ${r.cpuSecondsPer1000.postgres === undefined ? '' : num(r.cpuSecondsPer1000.postgres, 2)} | ` +
        `${num(r.requestsPerCheck, 2)} | ${r.ok === r.checks ? 'all' : `${r.ok}/${r.checks}`} |`,
    ),
  ];
  return lines.join('\n');
}

/**
 * The `--cluster` bench: the dev-server runs on `ctx` (already up), then a cluster is started in a
 * temporary folder, the same runs are made on it, and it is stopped. Writes
 * cluster[-smoke].{json,md}; sets a failing exit code if any check did not come back ok.
 */
export async function clusterBench(
  ctx: BenchContext,
  options: BenchOptions,
  machine: () => Machine,
): Promise<void> {
  const modes = options.modes.filter((m): m is Exclude<Mode, 'raw'> => m !== 'raw');
  const interval = options.intervals[0] ?? 0;
  const sizes = [...options.sizes].sort((a, b) => a - b);
  const runs: ClusterRunResult[] = [];
  const describe = (r: ClusterRunResult) =>
    `  ${r.checksPerSecond} checks/s, p50 ${r.latencyMs.p50} ms, ok ${r.ok}/${r.checks}, ${r.eventsPerCheck} events/check, ` +
    `CPU s/1k: workers ${r.cpuSecondsPer1000.workers}, Temporal ${r.cpuSecondsPer1000.server}` +
    (r.cpuSecondsPer1000.postgres !== undefined ? `, PostgreSQL ${r.cpuSecondsPer1000.postgres}` : '');
  const plan = sizes.flatMap((size) =>
    modes.flatMap((mode) => CLUSTER_WORKER_COUNTS.map((workers) => ({ size, mode, workers }))),
  );

  for (const { size, mode, workers } of plan) {
    ctx.log(
      `dev server: ${mode}, ${workers} worker(s), N = ${size}, interval ${interval} s, concurrency ${ctx.concurrency}`,
    );
    const r = await run(ctx, 'dev server', [ctx.serverPid], undefined, mode, workers, size, interval);
    ctx.log(describe(r));
    runs.push(r);
  }

  // The cluster as root runs PostgreSQL as `postgres`: a folder of its own, not inside ctx.tmpDir (0700).
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-bench-cluster-'));
  const t0 = Date.now();
  ctx.log(`starting the PostgreSQL cluster in ${stateDir}…`);
  const cluster = await startCluster({
    stateDir,
    workers: 0,
    frontendPort: 0,
    log: (line) => ctx.log(`  ${line}`),
  });
  const startSeconds = (Date.now() - t0) / 1000;
  try {
    const clusterCtx: BenchContext = {
      ...ctx,
      client: cluster.client,
      address: cluster.address,
      serverPid: cluster.services.frontend.pid,
    };
    const servicePids = Object.values(cluster.services).map((s) => s.pid);
    const postmaster = postmasterPid(cluster);
    ctx.log(`cluster up in ${Math.round(startSeconds)} s at ${cluster.address}`);
    for (const { size, mode, workers } of plan) {
      ctx.log(
        `cluster: ${mode}, ${workers} worker(s), N = ${size}, interval ${interval} s, concurrency ${ctx.concurrency}`,
      );
      const r = await run(clusterCtx, 'cluster', servicePids, postmaster, mode, workers, size, interval);
      ctx.log(describe(r));
      runs.push(r);
    }
  } finally {
    await cluster.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }

  const report: ClusterBenchReport = {
    date: new Date().toISOString(),
    machine: machine(),
    cluster: {
      temporalServer: TEMPORAL_SERVER_VERSION,
      services: ['frontend', 'history', 'matching', 'worker'],
      historyShards: 4,
      startSeconds: round(startSeconds, 1),
    },
    settings: { concurrency: ctx.concurrency, latencyMs: ctx.latencyMs, sizes, interval },
    runs,
  };
  const md = clusterMarkdown(report);
  console.log(`\n${md}\n`);
  const dir = options.out
    ? path.resolve(options.out)
    : options.label === 'cluster'
      ? path.join(projectRoot, 'bench', 'results')
      : path.join(os.tmpdir(), 'netcheck-bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${options.label}.json`), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(path.join(dir, `${options.label}.md`), `${md}\n`);
  ctx.log(`results in ${dir}/${options.label}.{json,md}`);
  const failed = runs.filter((r) => r.ok !== r.checks || r.violations > 0);
  if (failed.length > 0) {
    console.error(
      `bench: checks that did not come back ok, or broke the protocol:\n  ${failed
        .map(
          (r) => `${r.server} ${r.mode} × ${r.workers}: ${r.ok}/${r.checks} ok, ${r.violations} violations`,
        )
        .join('\n  ')}`,
    );
    process.exitCode = 1;
  }
}
