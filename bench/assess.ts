/**
 * The assessment runs: N assessments with the built-in policy (SIM swap, roaming, carrier) on each
 * road, against a fresh simulator (Virtual Operator numbers, every +990 number answered by
 * Identity Insights) and a netcheck worker in its own process. Reported: provider requests per
 * assessment (the simulator's counters, by endpoint) and seconds per assessment (start to verdict,
 * as a client sees it), plus throughput. Identity Insights asks every insight in one request; the
 * CIBA road runs a check per signal (sim-swap-date, device-roaming) in parallel, each with its own
 * bc-authorize, token poll and CAMARA call, and the carrier from Identity Insights.
 */
import { startAssess } from '../client/assess.js';
import type { Api } from '../domain/operations.js';
import type { Verdict } from '../domain/policy.js';
import { benchRequests } from './numbers.js';
import { MODE_SETTINGS, nextRun, simulatorFor, startWorker, type BenchContext } from './runs.js';
import { round, summarize, type Summary } from './stats.js';

export interface AssessRunResult {
  api: Api;
  assessments: number;
  /** Assessments that reached a verdict. */
  ok: number;
  concurrency: number;
  /** Provider requests per assessment, in all and per endpoint (the simulator's counts). */
  requestsPerAssessment: number;
  requestsByEndpoint: Record<string, number>;
  /** Start to verdict, seconds, as the client saw it. */
  secondsPerAssessment: Summary;
  assessmentsPerSecond: number;
  wallSeconds: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** CIBA protocol violations the simulator counted (0 expected). */
  violations: number;
}

/** The roads, in the order they run. */
export const ASSESS_ROADS: readonly Api[] = ['identity-insights', 'camara'];

export async function assessRun(
  ctx: BenchContext,
  api: Api,
  count: number,
  concurrency = ctx.concurrency,
): Promise<AssessRunResult> {
  const run = nextRun();
  const sim = await simulatorFor(ctx, 0, { scenarios: { identityInsightsVirtualOperator: 'every-number' } });
  const taskQueue = `bench-assess-${run}-${Date.now()}`;
  const worker = await startWorker(ctx, sim, taskQueue, MODE_SETTINGS.standard);
  const numbers = benchRequests(count, run).map((r) => r.msisdn);
  const latencies: number[] = [];
  const verdicts: Partial<Record<Verdict, number>> = {};
  let ok = 0;
  const started = Date.now();
  try {
    let next = 0;
    const lane = async () => {
      while (next < numbers.length) {
        const msisdn = numbers[next++]!;
        const t0 = Date.now();
        try {
          const handle = await startAssess(ctx.client, { msisdn, api }, { taskQueue, subjectKey: 'bench' });
          const result = await handle.result();
          ok++;
          verdicts[result.verdict] = (verdicts[result.verdict] ?? 0) + 1;
        } catch {
          // counted as not ok
        }
        latencies.push(Date.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  } finally {
    await worker.stop();
  }
  const wall = (Date.now() - started) / 1000;
  const stats = await sim.stats();
  await sim.close();
  const byEndpoint = Object.fromEntries(
    Object.entries(stats.requests).map(([endpoint, byStatus]) => [
      endpoint,
      round(Object.values(byStatus).reduce((a, b) => a + b, 0) / count, 2),
    ]),
  );
  const seconds = summarize(latencies.map((ms) => ms / 1000));
  return {
    api,
    assessments: count,
    ok,
    concurrency,
    requestsPerAssessment: round(stats.total / count, 2),
    requestsByEndpoint: byEndpoint,
    secondsPerAssessment: {
      p50: round(seconds.p50, 2),
      p95: round(seconds.p95, 2),
      p99: round(seconds.p99, 2),
      mean: round(seconds.mean, 2),
      max: round(seconds.max, 2),
    },
    assessmentsPerSecond: round(count / wall, 1),
    wallSeconds: round(wall, 2),
    verdicts,
    violations: Object.values(stats.violations).reduce((a, b) => a + b, 0),
  };
}

/** The Markdown table of the assessment runs. */
export function assessMarkdown(runs: readonly AssessRunResult[]): string[] {
  if (runs.length === 0) return [];
  const first = runs[0]!;
  return [
    '',
    `Assessments (the built-in policy: SIM swap, roaming, carrier; ${first.assessments} per road, ${first.concurrency} at once, interval 0). ` +
      'Requests are the provider requests the simulator counted; seconds run from start to verdict:',
    '',
    '| road | assessments | requests/assessment | by endpoint | p50 s | p95 s | assessments/s | verdicts | ok |',
    '|---|--:|--:|---|--:|--:|--:|---|--:|',
    ...runs.map(
      (r) =>
        `| ${r.api} | ${r.assessments} | ${r.requestsPerAssessment} | ${Object.entries(r.requestsByEndpoint)
          .map(([e, n]) => `${e} ${n}`)
          .join(
            ', ',
          )} | ${r.secondsPerAssessment.p50} | ${r.secondsPerAssessment.p95} | ${r.assessmentsPerSecond} | ` +
        `${Object.entries(r.verdicts)
          .map(([v, n]) => `${v} ${n}`)
          .join(', ')} | ${r.ok === r.assessments ? 'all' : `${r.ok}/${r.assessments}`} |`,
    ),
  ];
}

/** Why an assessment run fails the bench (empty when it passes): outcomes and protocol only. */
export function assessProblems(r: AssessRunResult): string[] {
  const problems: string[] = [];
  if (r.ok !== r.assessments) problems.push(`assess ${r.api}: ${r.ok}/${r.assessments} reached a verdict`);
  if (r.violations > 0) problems.push(`assess ${r.api}: ${r.violations} protocol violations`);
  if (r.api === 'identity-insights' && r.requestsPerAssessment !== 1) {
    problems.push(`assess identity-insights: ${r.requestsPerAssessment} requests per assessment, not 1`);
  }
  return problems;
}
