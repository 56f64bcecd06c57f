/**
 * `npm run bench`: what durability costs, measured in one run on one machine.
 *
 *   dev server (SQLite + WAL, headless) ─┐
 *   simulator (fresh per run, 50 ms)  ───┼─► raw flow (child process)   ─► checks/s, latency, CPU, RSS
 *   workflow bundle (built once)     ────┘   netcheck worker (child)    ─► + events/check, server CPU
 *                                            history runs (pending poll)─► events and Cloud actions/check
 *                                            rate-limit runs (1 | 3 wkr)─► utilization, 1-s windows vs R
 *                                            fault run (R, 503s, 429s)  ─► all ok? re-authorizations, utilization
 *                                            priority run (own server)  ─► one check's latency beside a busy batch
 *                                            assessments (both roads)   ─► requests and seconds per assessment
 *
 * Prints Markdown tables and writes JSON, Markdown and an SVG chart to the result directory.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { projectRoot } from '../cli/stack/temporal-cli.js';
import { SOURCE_WORKFLOWS_PATH } from '../scripts/build-bundle.js';
import { parseOptions, plan, type BenchOptions } from './options.js';
import { markdown, svgChart, targets, type BenchReport, type Machine } from './report.js';
import {
  LATENCY_VARIANTS,
  latencyRun,
  MODE_SETTINGS,
  netcheckRun,
  historyRun,
  rateLimitRun,
  rawRun,
  type HistoryRunResult,
  type BenchContext,
  type LatencyRunResult,
  type RateRunResult,
  type RunResult,
} from './runs.js';
import { FAULT_SCENARIO, faultProblems, faultRun, type FaultRunResult } from './fault.js';
import { ASSESS_ROADS, assessProblems, assessRun, type AssessRunResult } from './assess.js';
import { clusterBench } from './cluster.js';
import { priorityMarkdown, priorityRuns, type PriorityRunResult } from './priority.js';
import { startDevServer } from './server.js';

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

function machine(temporalCli: string, loadAtStart: number): Machine {
  let temporalServer = 'unknown';
  try {
    const version = execFileSync(temporalCli, ['--version'], { encoding: 'utf8' });
    temporalServer = /Server ([\d.]+)/.exec(version)?.[1] ?? version.trim();
  } catch {
    // keep "unknown"
  }
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.versions.node,
    os: `${os.type()} ${os.release()}`,
    temporalServer,
    loadAverage: { start: loadAtStart, end: Math.round(os.loadavg()[0]! * 100) / 100 },
  };
}

function resultDir(options: BenchOptions): string {
  if (options.out) return path.resolve(options.out);
  if (options.label === 'latest' || options.label === 'full')
    return path.join(projectRoot, 'bench', 'results');
  return path.join(os.tmpdir(), 'netcheck-bench');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) return;
  const started = Date.now();
  const loadAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-bench-'));
  const server = await startDevServer(tmpDir, log);
  log(`dev server at ${server.address} (SQLite WAL, ${server.dbFile})`);
  const connection = await Connection.connect({ address: server.address });
  try {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const bundlePath = path.join(tmpDir, 'workflow-bundle.js');
    const { code } = await bundleWorkflowCode({
      workflowsPath: SOURCE_WORKFLOWS_PATH,
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    });
    writeFileSync(bundlePath, code);

    const ctx: BenchContext = {
      client: new Client({ connection }),
      address: server.address,
      serverPid: server.pid,
      bundlePath,
      applicationId: randomUUID(),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      tmpDir,
      latencyMs: options.latencyMs,
      concurrency: options.concurrency,
      log,
    };
    if (options.cluster) {
      await clusterBench(ctx, options, () => machine(server.binary, loadAtStart));
      return;
    }

    const latency: LatencyRunResult[] = [];
    for (const variant of options.latencyChecks > 0 ? LATENCY_VARIANTS : []) {
      log(`latency: ${variant}, ${options.latencyChecks} single checks one at a time, interval 0`);
      const result = await latencyRun(ctx, variant, options.latencyChecks);
      log(
        `  p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ok ${result.ok}/${result.checks}`,
      );
      latency.push(result);
    }

    const runs: RunResult[] = [];
    for (const { mode, size, interval } of plan(options)) {
      log(`${mode}: N = ${size}, interval ${interval} s, concurrency ${options.concurrency}`);
      const run =
        mode === 'raw'
          ? await rawRun(ctx, size, interval, MODE_SETTINGS.tuned.http)
          : await netcheckRun(ctx, mode, size, interval);
      log(
        `  ${run.checksPerSecond} checks/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, ok ${run.ok}/${run.checks}` +
          (run.eventsPerCheck ? `, ${run.eventsPerCheck.mean} events/check` : ''),
      );
      runs.push(run);
    }
    const history: HistoryRunResult[] = [];
    for (const interval of options.historyChecks > 0 ? [0, 1] : []) {
      for (const mode of ['standard', 'fast', 'bulk'] as const) {
        // A bulk batch's cost is shared by its checks: run it at a screening-like size (its
        // histories are the batch's alone, so this stays quick).
        const checks = mode === 'bulk' ? options.bulkHistoryChecks : options.historyChecks;
        log(`history: ${mode}, ${checks} checks, interval ${interval} s, one pending poll each`);
        const result = await historyRun(ctx, mode, interval, checks);
        log(
          `  ${result.eventsPerCheck.mean} events/check (max ${result.eventsPerCheck.max}), ${result.actionsPerCheck.total} actions/check`,
        );
        history.push(result);
      }
    }

    const rate: RateRunResult[] = [];
    for (const limit of options.rates) {
      for (const workers of options.rateWorkers) {
        for (const mode of options.rateModes) {
          log(
            `rate-limit run: ${mode}, R = ${limit} req/s, ${workers} worker(s), ${options.rateChecks} checks, concurrency ${options.rateConcurrency}`,
          );
          const result = await rateLimitRun(
            ctx,
            mode,
            limit,
            options.rateChecks,
            options.rateConcurrency,
            workers,
          );
          log(
            `  utilization ${Math.round(result.utilization * 1000) / 10} %, max in any 1 s ${result.maxInAnyWindow1s} (${result.maxInAnyWindow1sAtReceipt} at receipt), ${result.refused429} 429s`,
          );
          rate.push(result);
        }
      }
    }

    const fault: FaultRunResult[] = [];
    for (const mode of options.faultChecks > 0 ? options.faultModes : []) {
      const s = FAULT_SCENARIO;
      log(
        `fault run: ${mode}, ${options.faultChecks} valid + ${s.invalidNumbers.length} invalid numbers, R = ${s.limit} req/s, ` +
          `${s.unavailableShare * 100} % 503, ${s.tooManyRequestsShare * 100} % 429, interval ${s.intervalSeconds} s, expires_in ${s.expiresInSeconds} s`,
      );
      const result = await faultRun(ctx, mode, options.faultChecks);
      log(
        `  ok ${result.ok}/${result.valid}, ${result.reauthorizations} re-authorizations, utilization ${Math.round(result.utilization * 1000) / 10} %, ` +
          `max in any 1 s ${result.maxInAnyWindow1s}, ${result.limiter429} limiter 429s, ${result.wallSeconds} s`,
      );
      fault.push(result);
    }

    const priority: PriorityRunResult[] = [];
    if (options.priorityChecks > 0 && options.prioritySingles > 0) {
      log(
        `priority run: ${options.prioritySingles} single checks while a ${options.priorityChecks}-check batch runs on the same queue, ` +
          'the batch at priority key 3 and at 4 (own dev server, task queue priority on)',
      );
      for (const result of await priorityRuns(ctx, {
        batchChecks: options.priorityChecks,
        singles: options.prioritySingles,
        concurrency: Math.min(500, options.priorityChecks),
        slots: 20,
      })) {
        log(
          `  batch at ${result.batchPriorityKey}: single check p50 ${result.latencyMs.p50} ms, p95 ${result.latencyMs.p95} ms, ok ${result.ok}/${result.singles}`,
        );
        priority.push(result);
      }
    }

    const assess: AssessRunResult[] = [];
    for (const api of options.assessChecks > 0 ? ASSESS_ROADS : []) {
      log(
        `assess: ${api}, ${options.assessChecks} assessments, built-in policy, concurrency ${options.concurrency}`,
      );
      const result = await assessRun(ctx, api, options.assessChecks);
      log(
        `  ${result.requestsPerAssessment} requests/assessment, p50 ${result.secondsPerAssessment.p50} s, ` +
          `${result.assessmentsPerSecond} assessments/s, ok ${result.ok}/${result.assessments}`,
      );
      assess.push(result);
    }

    const report: BenchReport = {
      date: new Date().toISOString(),
      machine: machine(server.binary, loadAtStart),
      settings: {
        concurrency: options.concurrency,
        latencyMs: options.latencyMs,
        sizes: options.sizes,
        intervals: options.intervals,
      },
      runs,
      latency,
      rate,
      history,
      fault,
      assess,
      faultScenario: FAULT_SCENARIO,
      modes: MODE_SETTINGS,
    };
    const md = `${markdown(report)}\n\n${targets(report)}\n${priority.length > 0 ? `\n${priorityMarkdown(priority)}\n` : ''}`;
    console.log(`\n${md}`);
    const dir = resultDir(options);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, `${options.label}.json`),
      `${JSON.stringify({ ...report, priority }, null, 1)}\n`,
    );
    writeFileSync(path.join(dir, `${options.label}.md`), md);
    writeFileSync(path.join(dir, `${options.label}.svg`), svgChart(report));
    log(
      `results in ${dir}/${options.label}.{json,md,svg}; ${Math.round((Date.now() - started) / 1000)} s in all`,
    );
    // Not a timing assertion: every check must come back ok, without a CIBA protocol violation
    // (the fault run's limiter 429s are figures, like the rate-limit runs' windows).
    const problems = [
      ...runs
        .filter((r) => r.ok !== r.checks || r.violations > 0)
        .map(
          (r) =>
            `${r.mode} N=${r.checks} interval ${r.intervalSeconds}: ${r.ok} ok, ${r.violations} violations`,
        ),
      ...latency.filter((l) => l.ok !== l.checks).map((l) => `latency ${l.variant}: ${l.ok}/${l.checks} ok`),
      ...rate.filter((r) => r.ok !== r.checks).map((r) => `rate ${r.mode}: ${r.ok}/${r.checks} ok`),
      ...history
        .filter((h) => h.ok !== h.checks)
        .map((h) => `history ${h.mode} interval ${h.intervalSeconds}: ${h.ok}/${h.checks} ok`),
      ...fault.flatMap(faultProblems),
      ...assess.flatMap(assessProblems),
      ...priority
        .filter((p) => p.ok !== p.singles)
        .map((p) => `priority (batch at ${p.batchPriorityKey}): ${p.ok}/${p.singles} ok`),
    ];
    if (problems.length > 0) {
      console.error(
        `bench: checks that did not come back ok, or broke the protocol:\n  ${problems.join('\n  ')}`,
      );
      process.exitCode = 1;
    }
  } finally {
    await connection.close();
    await server.stop();
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

await main();
