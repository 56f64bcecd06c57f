/** The chaos run's verdict and report (Markdown for people, JSON for tools). */
import type { BatchProgress } from '../../domain/batch.js';
import type { SimulatorStats, ViolationKind } from '../../simulator/index.js';
import type { BadInputCase } from './bad-input.js';
import type { ChaosSettings } from './stack.js';
import type { LogFindings, RecordFindings } from './verify.js';

export interface Disruption {
  kind: string;
  at: string;
  /** Records done when it happened. */
  doneBefore: number;
  /** Kill → replacement polling / server serving again. */
  downMs: number;
  /** Worker kills: flows with an activity running on the killed worker. */
  affectedFlows?: number;
  /** Worker kills: median ms from the kill until an affected flow progressed again. */
  resumeMedianMs?: number;
  /**
   * Worker kills: kill → the server had given up every activity started on the dead worker
   * (heartbeat timeout); the rest of the time lost is the retry policy's backoff of each attempt.
   */
  noticedMs?: number;
  /** Worker kills: affected flows that had not progressed when the run stopped looking. */
  notResumed?: number;
  /** Server / simulator restarts: serving again → the batch's next record. */
  resumeAfterUpMs?: number | undefined;
  /** Time lost: from the kill until the affected flows progress again (the last of them). */
  lostMs?: number | undefined;
}

export interface ChaosResult {
  settings: ChaosSettings;
  smoke: boolean;
  checks: number;
  concurrency: number;
  machine: string;
  date: string;
  wallSeconds: number;
  batchSeconds: number;
  state: string;
  progress: BatchProgress | undefined;
  records: RecordFindings;
  log: LogFindings;
  /** One per simulator process, read before it stopped. */
  simulatorStats: SimulatorStats[];
  disruptions: Disruption[];
  badInput: BadInputCase[];
  /** startBatch failed while sending the input (the batch then never gets all its items). */
  sendError?: string;
  /** The longest the batch went without a new record, and the records done when it ended. */
  longestStall?: { ms: number; atRecord: number };
}

/** Client misbehaviours that break the run; the others are reported as figures. */
const PROTOCOL_VIOLATIONS: ViolationKind[] = [
  'poll-too-early',
  'poll-after-expiry',
  'token-for-other-number',
  'token-for-other-scope',
  'token-expired',
  'unencoded-plus',
  'rate-limit-exceeded',
];

function sumViolations(stats: SimulatorStats[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of stats) for (const [k, n] of Object.entries(s.violations)) out[k] = (out[k] ?? 0) + n;
  return out;
}

const seconds = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

export function chaosReport(r: ChaosResult): { markdown: string; json: unknown; violations: string[] } {
  const f = r.records;
  const violations: string[] = [];
  if (r.sendError !== undefined) violations.push(`startBatch failed while sending the input: ${r.sendError}`);
  if (r.state !== 'completed') violations.push(`the batch ended ${r.state}, not completed`);
  if (f.lost > 0) violations.push(`${f.lost} items without a record (lost)`);
  if (f.duplicated > 0) violations.push(`${f.duplicated} extra records (duplicated)`);
  if (f.stray > 0) violations.push(`${f.stray} records for no input item`);
  violations.push(...f.wrongAnswers.slice(0, 20).map((w) => `wrong answer: ${w}`));
  if (f.wrongAnswers.length > 20) violations.push(`… ${f.wrongAnswers.length - 20} more wrong answers`);
  violations.push(...f.unknownCodes.slice(0, 20).map((w) => `code outside the taxonomy: ${w}`));
  const simViolations = sumViolations(r.simulatorStats);
  for (const kind of PROTOCOL_VIOLATIONS) {
    if ((simViolations[kind] ?? 0) > 0) violations.push(`simulator counted ${simViolations[kind]} × ${kind}`);
  }
  if (r.simulatorStats.length < 2)
    violations.push(`stats of ${r.simulatorStats.length} simulator process(es), 2 expected`);
  for (const c of r.badInput) if (!c.ok) violations.push(`bad input "${c.name}": ${c.got}`);
  for (const d of r.disruptions) {
    if ((d.notResumed ?? 0) > 0) violations.push(`${d.kind} at ${d.at}: ${d.notResumed} flows never resumed`);
  }

  const limiterMax = Math.max(0, ...r.simulatorStats.map((s) => s.maxRequestsInAnyWindow1s));
  const json = {
    checks: r.checks,
    lost: f.lost,
    duplicated: f.duplicated,
    passed: violations.length === 0,
    violations,
    smoke: r.smoke,
    machine: r.machine,
    date: r.date,
    wallSeconds: Math.round(r.wallSeconds),
    batchSeconds: Math.round(r.batchSeconds),
    settings: r.settings,
    concurrency: r.concurrency,
    finalCounts: {
      records: f.records,
      byOutcome: f.byOutcome,
      failuresByCode: f.failuresByCode,
      asExpected: f.asExpected,
      wrongAnswers: f.wrongAnswers.length,
    },
    faultsInjected: r.log.faults,
    // Requests the simulator saw beyond what the records needed (bc-authorizes + polls + checks,
    // or one Identity Insights call each): the retries of failed, hung and reset requests.
    retries: Math.max(0, r.log.requests - f.neededRequests),
    providerRequests: r.log.requests,
    polls: f.polls,
    reauthorizations: f.reauthorizations,
    checksReauthorized: f.checksReauthorized,
    disruptions: r.disruptions,
    longestStall: r.longestStall,
    rateLimit: {
      limit: r.settings.rate,
      maxInAnyWindow1sPerProcess: r.simulatorStats.map((s) => s.maxRequestsInAnyWindow1s),
      maxInAnyWindow1sAcrossRestarts: r.log.maxInAnyWindow1s,
      refusedByLimiter: r.log.rateLimited,
    },
    simulatorViolations: simViolations,
    requestsByEndpoint: r.log.byEndpoint,
    badInput: r.badInput,
  };

  const lines: string[] = [];
  lines.push(`# netcheck chaos run — ${r.smoke ? 'smoke' : 'full'}: ${r.checks} checks`);
  lines.push('');
  lines.push(`**${violations.length === 0 ? 'PASSED' : 'FAILED'}** · ${r.date} · ${r.machine}`);
  lines.push('');
  lines.push(
    `Batch ${r.state} in ${r.batchSeconds.toFixed(0)} s (whole run ${r.wallSeconds.toFixed(0)} s), concurrency ${r.concurrency}, ` +
      `rate limit ${r.settings.rate} req/s on the workers and the simulator.`,
  );
  lines.push('');
  lines.push('| figure | value |');
  lines.push('| --- | --- |');
  lines.push(`| checks | ${r.checks} |`);
  lines.push(`| records | ${f.records} |`);
  lines.push(`| lost | ${f.lost} |`);
  lines.push(`| duplicated | ${f.duplicated} |`);
  lines.push(
    `| outcomes | ${Object.entries(f.byOutcome)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')} |`,
  );
  lines.push(
    `| failures by code | ${
      Object.entries(f.failuresByCode)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    } |`,
  );
  lines.push(`| as the simulator's truth says | ${f.asExpected} of ${f.records} |`);
  lines.push(`| wrong answers | ${f.wrongAnswers.length} |`);
  lines.push(`| provider requests | ${r.log.requests} |`);
  lines.push(
    `| retries (requests beyond what the records needed) | ${Math.max(0, r.log.requests - f.neededRequests)} |`,
  );
  if (r.longestStall)
    lines.push(
      `| longest time without a new record | ${(r.longestStall.ms / 1000).toFixed(1)} s (ending at record ${r.longestStall.atRecord}) |`,
    );
  lines.push(`| token polls | ${f.polls} |`);
  lines.push(`| re-authorizations | ${f.reauthorizations} (in ${f.checksReauthorized} checks) |`);
  lines.push(
    `| faults injected | ${
      Object.entries(r.log.faults)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    } |`,
  );
  lines.push(
    `| most requests in a 1-s window | ${limiterMax} per simulator process; ${r.log.maxInAnyWindow1s} across restarts (limit ${r.settings.rate}) |`,
  );
  lines.push(
    `| simulator violations | ${
      Object.entries(simViolations)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    } |`,
  );
  lines.push('');
  lines.push('## Disruptions and time lost');
  lines.push('');
  lines.push(
    '| disruption | at record | down (kill → back) | affected flows | median resume | stranded activities noticed | time lost |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const d of r.disruptions) {
    lines.push(
      `| ${d.kind} | ${d.doneBefore} | ${seconds(d.downMs)} | ${d.affectedFlows ?? 'all'} | ` +
        `${seconds(d.resumeMedianMs ?? (d.resumeAfterUpMs === undefined ? undefined : d.downMs + d.resumeAfterUpMs))} | ` +
        `${d.noticedMs === undefined ? '—' : seconds(d.noticedMs)} | ${seconds(d.lostMs)} |`,
    );
  }
  lines.push('');
  lines.push(
    'Time lost is measured from the kill until the affected flows progress again: for a worker, until the ' +
      'last flow that had an activity running on it has that activity taken up by another worker (or is done); ' +
      'for the server and the simulator, until the batch records its next check. "Stranded activities noticed": ' +
      'until the server had timed out every activity still started on the dead worker (5-s heartbeat timeout); ' +
      "what follows is each activity's retry backoff (1 s doubling to 30 s: an attempt that follows four " +
      'failures waits 16 s, whatever the failure).',
  );
  lines.push('');
  lines.push('## Bad input, fed at the same time');
  lines.push('');
  lines.push('| case | expected | result |');
  lines.push('| --- | --- | --- |');
  for (const c of r.badInput) lines.push(`| ${c.name} | ${c.expected} | ${c.ok ? 'ok' : `**${c.got}**`} |`);
  lines.push('');
  lines.push('## Violations');
  lines.push('');
  lines.push(violations.length === 0 ? 'None.' : violations.map((v) => `- ${v}`).join('\n'));
  lines.push('');
  return { markdown: lines.join('\n'), json, violations };
}
