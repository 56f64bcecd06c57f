/** The benchmark's output: Markdown tables, the JSON record and an SVG chart of throughput over time. */
import { assessMarkdown, type AssessRunResult } from './assess.js';
import type { FAULT_SCENARIO, FaultRunResult } from './fault.js';
import type { HistoryRunResult, LatencyRunResult, RateRunResult, RunResult } from './runs.js';
import { round } from './stats.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  temporalServer: string;
  /** 1-min load average at the start and the end of the run: other work on the machine skews figures. */
  loadAverage: { start: number; end: number };
}

export interface BenchReport {
  date: string;
  machine: Machine;
  settings: { concurrency: number; latencyMs: number; sizes: number[]; intervals: number[] };
  runs: RunResult[];
  latency: LatencyRunResult[];
  rate: RateRunResult[];
  /** Checks with one authorization_pending poll: events and Temporal Cloud actions per check. */
  history?: HistoryRunResult[];
  fault: FaultRunResult[];
  /** Assessments on each road: requests and seconds per assessment. */
  assess?: AssessRunResult[];
  /** The fault run's fixed settings. */
  faultScenario: typeof FAULT_SCENARIO;
  /** Mode-by-mode settings, for the record. */
  modes: Record<string, unknown>;
}

const num = (v: number | undefined, digits = 1) =>
  v === undefined || !Number.isFinite(v) ? '–' : round(v, digits).toLocaleString('en-US');

function rawFor(report: BenchReport, run: RunResult): RunResult | undefined {
  return report.runs.find(
    (r) => r.mode === 'raw' && r.checks === run.checks && r.intervalSeconds === run.intervalSeconds,
  );
}

export function markdown(report: BenchReport): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(
    `Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, Temporal ${m.temporalServer} (dev server, SQLite WAL). ` +
      `Concurrency ${report.settings.concurrency}, simulator latency ${report.settings.latencyMs} ms per request. ${report.date}; ` +
      `load average ${m.loadAverage.start} at the start, ${m.loadAverage.end} at the end.`,
    '',
    '| mode | N | interval | checks/s | × raw | p50 ms | p95 ms | p99 ms | p50 overhead ms | events/check | worker peak RSS MiB | worker CPU s/1k | server CPU s/1k | simulator CPU s/1k | req/check | ok |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  );
  for (const run of report.runs) {
    const raw = rawFor(report, run);
    const ratio = raw && run.mode !== 'raw' ? num(run.checksPerSecond / raw.checksPerSecond, 2) : '';
    const overhead = raw && run.mode !== 'raw' ? num(run.latencyMs.p50 - raw.latencyMs.p50, 0) : '';
    lines.push(
      `| ${run.mode} | ${num(run.checks, 0)} | ${run.intervalSeconds} s | ${num(run.checksPerSecond)} | ${ratio} | ` +
        `${num(run.latencyMs.p50, 0)} | ${num(run.latencyMs.p95, 0)} | ${num(run.latencyMs.p99, 0)} | ${overhead} | ` +
        `${run.eventsPerCheck ? num(run.eventsPerCheck.mean) : ''} | ${num(run.process.peakRssMiB, 0)} | ` +
        `${num(run.process.cpuSecondsPer1000, 2)} | ${run.server ? num(run.server.cpuSecondsPer1000, 2) : ''} | ` +
        `${num(run.simulator.cpuSecondsPer1000, 2)} | ` +
        `${num(run.requestsPerCheck, 2)} | ${run.ok === run.checks ? 'all' : `${run.ok}/${run.checks}`} |`,
    );
  }
  const rawSingle = report.latency.find((l) => l.variant === 'raw');
  if (report.latency.length > 0) {
    lines.push(
      '',
      `Single checks, one at a time (concurrency 1, interval 0, ${num(report.latency[0]!.checks, 0)} each, after warm-up):`,
      '',
      '| variant | p50 ms | p95 ms | p99 ms | p50 overhead ms | ok |',
      '|---|--:|--:|--:|--:|--:|',
      ...report.latency.map(
        (l) =>
          `| ${l.variant} | ${num(l.latencyMs.p50, 0)} | ${num(l.latencyMs.p95, 0)} | ${num(l.latencyMs.p99, 0)} | ` +
          `${rawSingle && l.variant !== 'raw' ? num(l.latencyMs.p50 - rawSingle.latencyMs.p50, 0) : ''} | ` +
          `${l.ok === l.checks ? 'all' : `${l.ok}/${l.checks}`} |`,
      ),
    );
  }
  if (report.rate.length > 0) {
    const first = report.rate[0]!;
    lines.push(
      '',
      `Rate-limit runs (simulator limit R = netcheck rateLimit R on every worker, interval 0, ${num(first.checks, 0)} checks at concurrency ${first.concurrency}). ` +
        'Utilization = requests the simulator admitted ÷ (R × seconds from the first request to the last):',
      '',
      '| mode | workers | R req/s | admitted | utilization | sustained req/s (median) | max in any 1 s (simulator stats) | max in any 1 s (at receipt) | 429s | simulator lag p99 ms | wall s | ok |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
      ...report.rate.map(
        (r) =>
          `| ${r.mode} | ${r.workers ?? 1} | ${r.limit} | ${num(r.admitted ?? NaN, 0)} | ${num(r.utilization * 100)} % | ${num(r.sustainedPerSecond)} | ${r.maxInAnyWindow1s} | ${r.maxInAnyWindow1sAtReceipt} | ` +
          `${r.refused429} | ${num(r.simulatorLagMs.p99, 0)} | ${num(r.wallSeconds)} | ${r.ok === r.checks ? 'all' : `${r.ok}/${r.checks}`} |`,
      ),
    );
  }
  if (report.history?.length) {
    const first = report.history[0]!;
    lines.push(
      '',
      `History runs (${num(first.checks, 0)} checks each, one authorization_pending poll per check). Temporal Cloud actions counted from the histories ` +
        '(docs.temporal.io/cloud/actions; heartbeats and queries leave no event and are not in the count, ' +
        "except bulk chunks' heartbeats, estimated from each attempt's duration and named apart):",
      '',
      '| mode | interval | events/check (mean) | events/check (max) | actions/check (check) | actions/check (batch share) | actions/check | by kind | ok |',
      '|---|--:|--:|--:|--:|--:|--:|---|--:|',
      ...report.history.map(
        (h) =>
          `| ${h.mode} | ${h.intervalSeconds} s | ${num(h.eventsPerCheck.mean)} | ${h.eventsPerCheck.max} | ${num(h.actionsPerCheck.check, 2)} | ` +
          `${num(h.actionsPerCheck.batchShare, 2)} | ${num(h.actionsPerCheck.total, 2)} | ` +
          `${Object.entries(h.actionsByKind)
            .map(([k, n]) => `${k} ${num(n, 2)}`)
            .join(', ')} | ${h.ok === h.checks ? 'all' : `${h.ok}/${h.checks}`} |`,
      ),
    );
  }
  if (report.fault.length > 0) lines.push('', ...faultMarkdown(report));
  lines.push(...assessMarkdown(report.assess ?? []));
  return lines.join('\n');
}

const share = (v: number) => `${num(v * 100)} %`;

/** The fault run: its outcome and cost, then its requests by endpoint and status. */
function faultMarkdown(report: BenchReport): string[] {
  const s = report.faultScenario;
  const first = report.fault[0]!;
  const notOk = (r: FaultRunResult) =>
    Object.entries(r.notOkByCode)
      .map(([code, n]) => `${n} ${code}`)
      .join(', ') || '0';
  const lines = [
    `Fault run (issue #10 item 7): a sim-swap batch of ${num(first.valid, 0)} valid Virtual Operator numbers + ${first.invalid} invalid ones ` +
      `(batch defaults: concurrency 100), worker rateLimit = simulator limit R = ${s.limit} req/s, ${share(s.unavailableShare)} of requests answered 503 ` +
      `and ${share(s.tooManyRequestsShare)} 429 (Retry-After ${s.retryAfterSeconds} s), CIBA interval ${s.intervalSeconds} s, expires_in ${s.expiresInSeconds} s, ` +
      `fault seed ${s.seed}. Utilization = requests the limiter admitted ÷ (R × seconds from the first request to the last).`,
    '',
    '| mode | valid ok | valid not ok | invalid | re-authorizations (checks) | polls | requests | admitted | utilization | max in any 1 s (simulator stats) | max in any 1 s (at receipt) | limiter 429s | injected 503s / 429s | poll-after-expiry | other protocol violations | wall s |',
    '|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...report.fault.map(
      (r) =>
        `| ${r.mode} | ${r.ok}/${r.valid} | ${notOk(r)} | ${r.invalidRecorded}/${r.invalid} | ${r.reauthorizations} (${r.checksReauthorized}) | ${num(r.polls, 0)} | ` +
        `${num(r.totalRequests, 0)} | ${num(r.admitted, 0)} | ${share(r.utilization)} | ${r.maxInAnyWindow1s} (R = ${r.limit}) | ${r.maxInAnyWindow1sAtReceipt} | ` +
        `${r.limiter429} | ${r.injected503} / ${r.injected429} | ${r.violations['poll-after-expiry']} | ` +
        `${r.protocolViolations - r.violations['poll-after-expiry']} | ${num(r.wallSeconds)} |`,
    ),
  ];
  const endpoints = [...new Set(report.fault.flatMap((r) => Object.keys(r.requests)))].sort();
  const statuses = [
    ...new Set(
      report.fault.flatMap((r) => Object.values(r.requests).flatMap((byStatus) => Object.keys(byStatus))),
    ),
  ].sort();
  lines.push(
    '',
    'Fault run requests by endpoint and status (simulator stats):',
    '',
    `| mode | endpoint | ${statuses.join(' | ')} |`,
    `|---|---|${statuses.map(() => '--:|').join('')}`,
  );
  for (const r of report.fault) {
    for (const endpoint of endpoints) {
      const byStatus = r.requests[endpoint] ?? {};
      lines.push(
        `| ${r.mode} | ${endpoint} | ${statuses.map((st) => num(byStatus[st] ?? 0, 0)).join(' | ')} |`,
      );
    }
  }
  return lines;
}

const COLORS: Record<string, string> = {
  raw: '#555555',
  standard: '#d62728',
  fast: '#1f77b4',
  tuned: '#2ca02c',
  bulk: '#ff7f0e',
  rate: '#9467bd',
};

interface Series {
  label: string;
  color: string;
  values: number[];
}

function panel(
  title: string,
  series: Series[],
  y0: number,
  width: number,
  height: number,
  limit?: number,
): string {
  const left = 50;
  const plotW = width - left - 150;
  const plotH = height - 50;
  const top = y0 + 25;
  const maxX = Math.max(1, ...series.map((s) => s.values.length));
  const maxY = Math.max(1, limit ?? 0, ...series.flatMap((s) => s.values)) * 1.1;
  const x = (i: number) => left + (i / maxX) * plotW;
  const y = (v: number) => top + plotH - (v / maxY) * plotH;
  const out: string[] = [
    `<text x="${left}" y="${y0 + 15}" font-size="13" font-weight="bold">${title}</text>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#999"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#999"/>`,
    `<text x="${left - 5}" y="${top + 4}" font-size="10" text-anchor="end">${Math.round(maxY)}</text>`,
    `<text x="${left - 5}" y="${top + plotH}" font-size="10" text-anchor="end">0</text>`,
    `<text x="${left + plotW}" y="${top + plotH + 14}" font-size="10" text-anchor="end">${maxX} s</text>`,
  ];
  if (limit !== undefined) {
    out.push(
      `<line x1="${left}" y1="${y(limit)}" x2="${left + plotW}" y2="${y(limit)}" stroke="#000" stroke-dasharray="4 3"/>`,
      `<text x="${left + plotW + 5}" y="${y(limit) + 4}" font-size="10">R = ${limit}</text>`,
    );
  }
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => `${x(i + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${points}"/>`);
    out.push(
      `<text x="${left + plotW + 10}" y="${top + 15 + k * 15}" font-size="11" fill="${s.color}">${s.label}</text>`,
    );
  });
  return out.join('\n');
}

/** One panel per (N, interval): checks completed per second by mode; one for the rate-limit run. */
export function svgChart(report: BenchReport): string {
  const width = 760;
  const height = 190;
  const groups = new Map<string, RunResult[]>();
  for (const run of report.runs) {
    const key = `N = ${run.checks.toLocaleString('en-US')}, interval ${run.intervalSeconds} s`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const panels: string[] = [];
  let y0 = 0;
  for (const [key, runs] of groups) {
    panels.push(
      panel(
        `Checks completed per second — ${key}`,
        runs.map((r) => ({ label: r.mode, color: COLORS[r.mode] ?? '#000', values: r.perSecond })),
        y0,
        width,
        height,
      ),
    );
    y0 += height;
  }
  for (const r of report.rate) {
    panels.push(
      panel(
        `Requests per second at the simulator — rate-limit run, ${r.mode}, ${r.workers ?? 1} worker(s), R = ${r.limit}`,
        [{ label: 'received', color: COLORS[r.mode] ?? '#000', values: r.requestsPerSecond }],
        y0,
        width,
        height,
        r.limit,
      ),
    );
    y0 += height;
  }
  for (const r of report.fault) {
    panels.push(
      panel(
        `Requests per second at the simulator — fault run, ${r.mode}`,
        [{ label: 'received', color: COLORS[r.mode] ?? '#000', values: r.requestsPerSecond }],
        y0,
        width,
        height,
        r.limit,
      ),
    );
    y0 += height;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y0}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}

/** Issue #15's targets, each with the figure that decides it (one row per target and run). */
export function targets(report: BenchReport): string {
  const netcheck = report.runs.filter((r) => r.mode !== 'raw');
  const lines = ['| target (issue #15) | measured | reached |', '|---|---|:-:|'];
  const yes = (ok: boolean) => (ok ? 'yes' : 'no');

  for (const limit of [...new Set(report.rate.map((r) => r.limit))]) {
    for (const r of report.rate.filter((x) => x.limit === limit)) {
      const ok = r.utilization >= 0.97 && r.maxInAnyWindow1sAtReceipt <= r.limit && r.refused429 === 0;
      lines.push(
        `| R = ${r.limit}: utilization ≥ 97 %, no 1-s window above R at receipt, no 429 (${r.mode}, ${r.workers ?? 1} worker(s), ${num(r.checks, 0)} checks) | ` +
          `${num(r.utilization * 100)} %, max ${r.maxInAnyWindow1sAtReceipt} at receipt (${r.maxInAnyWindow1s} by the simulator's stats), ${r.refused429} 429s | ${yes(ok)} |`,
      );
    }
  }

  const rawSingle = report.latency.find((l) => l.variant === 'raw');
  const eager = report.latency.find((l) => l.variant === 'fast+eager');
  if (rawSingle && eager) {
    const overhead = eager.latencyMs.p50 - rawSingle.latencyMs.p50;
    lines.push(
      `| single check, fast mode with eager start: p50 overhead over raw ≤ 25 ms | ${num(overhead, 0)} ms (p50 ${num(eager.latencyMs.p50, 0)} vs raw ${num(rawSingle.latencyMs.p50, 0)} ms) | ${yes(overhead <= 25)} |`,
    );
  }

  for (const h of (report.history ?? []).filter((x) => x.mode !== 'bulk')) {
    const limit = h.mode === 'standard' ? 30 : 12;
    lines.push(
      `| ≤ ${limit} history events per check with one pending poll (${h.mode}, interval ${h.intervalSeconds} s) | ` +
        `${num(h.eventsPerCheck.mean)} on average, ${h.eventsPerCheck.max} at most | ${yes(h.eventsPerCheck.max <= limit)} |`,
    );
  }

  // Bulk mode against the raw flow, at each size and interval both ran (the issue asks N = 10,000).
  const bulk = netcheck.filter((r) => r.mode === 'bulk');
  for (const r of bulk) {
    const raw = rawFor(report, r);
    if (!raw) continue;
    const ratio = r.checksPerSecond / raw.checksPerSecond;
    lines.push(
      `| bulk mode ≥ 0.7× raw checks/s (N = ${num(r.checks, 0)}, interval ${r.intervalSeconds} s, concurrency ${r.concurrency}) | ${num(ratio, 2)}× (${num(r.checksPerSecond)} vs raw ${num(raw.checksPerSecond)} checks/s) | ${yes(ratio >= 0.7)} |`,
    );
  }
  for (const r of bulk.filter((x) => x.server)) {
    // CPU seconds per 1,000 checks = CPU milliseconds per check.
    lines.push(
      `| bulk mode: server CPU ≤ 2 ms per check (Temporal server process, /proc; N = ${num(r.checks, 0)}, interval ${r.intervalSeconds} s) | ${num(r.server!.cpuSecondsPer1000, 2)} ms | ${yes(r.server!.cpuSecondsPer1000 <= 2)} |`,
    );
  }

  // Per-check cost flat with size: worker + server CPU per check, and worker peak RSS, smallest to largest N.
  for (const mode of [...new Set(netcheck.map((r) => r.mode))]) {
    const bySize = netcheck
      .filter((r) => r.mode === mode && r.intervalSeconds === 0)
      .sort((a, b) => a.checks - b.checks);
    if (bySize.length < 2) continue;
    const cost = bySize.map((r) => r.process.cpuSecondsPer1000 + (r.server?.cpuSecondsPer1000 ?? 0));
    const rss = bySize.map((r) => r.process.peakRssMiB);
    const spread = (v: number[]) => Math.max(...v) / Math.min(...v) - 1;
    const sizes = bySize.map((r) => num(r.checks, 0)).join(' → ');
    lines.push(
      `| per-check cost flat within ±15 % (${mode}, N = ${sizes}) | worker + server CPU ms/check ${cost.map((c) => num(c, 2)).join(' → ')} (spread ${num(spread(cost) * 100)} %) | ${yes(spread(cost) <= 0.15)} |`,
      `| worker RSS flat within ±15 % (${mode}, N = ${sizes}) | peak MiB ${rss.map((m) => num(m, 0)).join(' → ')} (spread ${num(spread(rss) * 100)} %) | ${yes(spread(rss) <= 0.15)} |`,
    );
  }

  for (const h of (report.history ?? []).filter((x) => x.mode === 'bulk')) {
    lines.push(
      `| Temporal Cloud actions per check, bulk mode ≤ 0.2 (interval ${h.intervalSeconds} s, one pending poll, ${num(h.checks, 0)} checks) | ${num(h.actionsPerCheck.total, 2)} | ${yes(h.actionsPerCheck.total <= 0.2)} |`,
    );
  }

  for (const r of report.fault) {
    lines.push(
      `| every valid number ok under R = ${r.limit} req/s, 503s and 429s, no poll after expiry (fault run, ${r.mode}) | ` +
        `${r.ok}/${r.valid} ok, ${r.reauthorizations} re-authorizations, ${r.violations['poll-after-expiry']} polls after expiry, ` +
        `utilization ${share(r.utilization)}, max ${r.maxInAnyWindow1s} in 1 s | ${yes(r.ok === r.valid && r.protocolViolations === 0)} |`,
    );
  }
  return lines.join('\n');
}
