/**
 * The fault run (issue #10 item 7): a sim-swap batch as a fraud pipeline sends it, against a
 * provider that limits and fails: worker and simulator both at R = 20 req/s, 10 % of requests
 * answered 503 and 5 % 429 (Retry-After 1 s), CIBA interval 1 s, expires_in 20 s. Every valid
 * number must come back ok; the figures show what that cost (re-authorizations, retries) and
 * how much of R the run used.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startBatch } from '../client/batch.js';
import type { BatchItem, BatchRecord } from '../domain/batch.js';
import type { SimulatorStats } from '../simulator/index.js';
import type { RequestLogEntry } from '../simulator/request-log.js';
import { benchRequests } from './numbers.js';
import type { Mode } from './options.js';
import { MODE_SETTINGS, nextRun, simulatorFor, startWorker, type BenchContext } from './runs.js';
import { maxInWindow, perSecond, round } from './stats.js';

/** The scenario's fixed settings (the sizes come from the options). */
export const FAULT_SCENARIO = {
  /** req/s, the simulator's limit and the worker's rateLimit alike. */
  limit: 20,
  intervalSeconds: 1,
  expiresInSeconds: 20,
  unavailableShare: 0.1,
  tooManyRequestsShare: 0.05,
  retryAfterSeconds: 1,
  /** Seed of the simulator's fault draws (the one the correctness test uses). */
  seed: 7,
  /** Numbers that are not E.164: the batch records them `invalid` and sends no request. */
  invalidNumbers: ['+1', '+0123456789', '447700900000', '+44 not', '+'],
} as const;

export type FaultMode = Exclude<Mode, 'raw'>;

export interface FaultRunResult {
  mode: FaultMode;
  limit: number;
  /** Valid Virtual Operator numbers in the batch, and how many came back ok with the right answer. */
  valid: number;
  ok: number;
  /** Valid numbers not ok (or ok with a wrong answer), by error code (`WRONG_DATA` for a wrong answer). */
  notOkByCode: Record<string, number>;
  /** Invalid numbers in the batch, and how many were recorded `invalid`. */
  invalid: number;
  invalidRecorded: number;
  /** Σ (result.authorizations − 1): bc-authorizes beyond each check's first. */
  reauthorizations: number;
  /** Checks that authorized more than once. */
  checksReauthorized: number;
  /** Token polls over all checks. */
  polls: number;
  /** Per endpoint, per status, as the simulator counted them. */
  requests: Record<string, Record<string, number>>;
  totalRequests: number;
  /** Requests the simulator's limiter let through (every request but its own 429s). */
  admitted: number;
  /** First request to last, seconds. */
  requestSpanSeconds: number;
  /** admitted ÷ (R × requestSpanSeconds). */
  utilization: number;
  /** Most requests in any 1-s window by the simulator's stats, and by the request log's receipt times. */
  maxInAnyWindow1s: number;
  maxInAnyWindow1sAtReceipt: number;
  /** 429s from the simulator's limiter (`rate-limit-exceeded`), and the injected ones. */
  limiter429: number;
  injected429: number;
  injected503: number;
  /** Every violation kind the simulator counts. */
  violations: SimulatorStats['violations'];
  /** Violations other than the limiter's: a broken protocol (poll too early, after expiry, …). */
  protocolViolations: number;
  wallSeconds: number;
  /** Requests received in each second (for the chart). */
  requestsPerSecond: number[];
}

/** Virtual Operator numbers (none ends in 99); every other one's last SIM change is inside maxAge. */
function validItems(count: number, run: number): BatchItem[] {
  return benchRequests(count, run).map((r, i) => ({
    msisdn: r.msisdn,
    operations: ['sim-swap'],
    // The Virtual Operator's last SIM change was 500 h ago: 600 → swapped, 100 → not.
    maxAge: i % 2 === 0 ? 600 : 100,
  }));
}

const codeOf = (r: BatchRecord) => r.result?.error?.code ?? r.error?.code ?? r.outcome.toUpperCase();

export async function faultRun(
  ctx: BenchContext,
  mode: FaultMode,
  validCount: number,
): Promise<FaultRunResult> {
  const s = FAULT_SCENARIO;
  const run = nextRun();
  const requestLog = path.join(ctx.tmpDir, `requests-fault-${run}.jsonl`);
  const sim = await simulatorFor(ctx, s.intervalSeconds, {
    expiresIn: s.expiresInSeconds,
    rateLimit: s.limit,
    requestLog,
    faults: {
      latencyMs: ctx.latencyMs,
      seed: s.seed,
      unavailable: s.unavailableShare,
      tooManyRequests: s.tooManyRequestsShare,
      retryAfterSeconds: s.retryAfterSeconds,
    },
  });
  const taskQueue = `bench-fault-${run}-${Date.now()}`;
  const valid = validItems(validCount, run);
  const items = [
    ...valid,
    ...s.invalidNumbers.map((msisdn): BatchItem => ({ msisdn, operations: ['sim-swap'] })),
  ];
  const records: BatchRecord[] = [];
  let startedAt = NaN;
  let finishedAt = NaN;
  let stats: SimulatorStats | undefined;
  try {
    // ERROR: every injected 503 and 429 is retried, and would log a warning with a stack.
    const worker = await startWorker(ctx, sim, taskQueue, MODE_SETTINGS[mode], s.limit, 'ERROR');
    try {
      startedAt = Date.now();
      // The batch's defaults (concurrency 100, dedupe), as a pipeline would start it.
      const handle = await startBatch(ctx.client, items, {
        batchId: taskQueue,
        taskQueue,
        subjectKey: 'bench',
        fast: MODE_SETTINGS[mode].fast,
      });
      for await (const record of handle.results({ pollIntervalMs: 500 })) records.push(record);
      finishedAt = Date.now();
    } finally {
      await worker.stop();
    }
  } finally {
    stats = await sim.stats().catch(() => undefined);
    await sim.close(); // flushes the request log
  }
  if (!stats) throw new Error('fault run: the simulator gave no stats');

  const notOkByCode: Record<string, number> = {};
  let ok = 0;
  for (const r of records.filter((r) => r.index < validCount)) {
    const item = valid[r.index]!;
    const right =
      r.result?.status === 'ok' &&
      r.result.operation === 'sim-swap' &&
      r.result.data.swapped === (item.maxAge === 600);
    if (r.outcome === 'ok' && right) ok++;
    else {
      const code = r.outcome === 'ok' ? 'WRONG_DATA' : codeOf(r);
      notOkByCode[code] = (notOkByCode[code] ?? 0) + 1;
    }
  }
  const missing = validCount - records.filter((r) => r.index < validCount).length;
  if (missing > 0) notOkByCode.NO_RECORD = missing;
  const authorizations = records.map((r) => r.result?.authorizations ?? 0);

  const entries = readFileSync(requestLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RequestLogEntry);
  const times = entries.map((e) => Date.parse(e.time));
  const first = Math.min(...times);
  const span = Math.max(0.001, (Math.max(...times) - first) / 1000);
  const limiter429 = stats.violations['rate-limit-exceeded'];
  const admitted = stats.total - limiter429;
  const { ['rate-limit-exceeded']: _limiter, ...protocol } = stats.violations;
  return {
    mode,
    limit: s.limit,
    valid: validCount,
    ok,
    notOkByCode,
    invalid: s.invalidNumbers.length,
    invalidRecorded: records.filter((r) => r.index >= validCount && r.outcome === 'invalid').length,
    reauthorizations: authorizations.reduce((n, a) => n + Math.max(0, a - 1), 0),
    checksReauthorized: authorizations.filter((a) => a > 1).length,
    polls: records.reduce((n, r) => n + (r.result?.polls ?? 0), 0),
    requests: stats.requests,
    totalRequests: stats.total,
    admitted,
    requestSpanSeconds: round(span, 2),
    utilization: round(admitted / (s.limit * span), 3),
    maxInAnyWindow1s: stats.maxRequestsInAnyWindow1s,
    maxInAnyWindow1sAtReceipt: maxInWindow(times, 1000),
    limiter429,
    injected429: entries.filter((e) => e.fault === 'too-many-requests').length,
    injected503: entries.filter((e) => e.fault === 'unavailable').length,
    violations: stats.violations,
    protocolViolations: Object.values(protocol).reduce((a, b) => a + b, 0),
    wallSeconds: round((finishedAt - startedAt) / 1000, 2),
    requestsPerSecond: perSecond(times, first),
  };
}

/** Why a fault run fails the bench (empty when it passes): not timing, only outcomes and protocol. */
export function faultProblems(r: FaultRunResult): string[] {
  const problems: string[] = [];
  if (r.ok !== r.valid) {
    const codes = Object.entries(r.notOkByCode).map(([code, n]) => `${n} ${code}`);
    problems.push(`fault ${r.mode}: ${r.ok}/${r.valid} valid numbers ok (${codes.join(', ')})`);
  }
  if (r.invalidRecorded !== r.invalid)
    problems.push(`fault ${r.mode}: ${r.invalidRecorded}/${r.invalid} invalid numbers recorded invalid`);
  if (r.protocolViolations > 0) {
    const kinds = Object.entries(r.violations)
      .filter(([kind, n]) => kind !== 'rate-limit-exceeded' && n > 0)
      .map(([kind, n]) => `${n} ${kind}`);
    problems.push(`fault ${r.mode}: protocol violations: ${kinds.join(', ')}`);
  }
  return problems;
}
