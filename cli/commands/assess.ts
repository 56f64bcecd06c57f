/**
 * `netcheck assess <msisdn|->`: one risk verdict from the signals a policy needs, with its
 * evidence. Exit 0 when a verdict was reached (whatever it is), 3 when `--fail-on` matches it or
 * no verdict could be reached, 2 for usage or policy errors (nothing is started then).
 */
import { WorkflowFailedError } from '@temporalio/client';
import {
  DEFAULT_ASSESS_API,
  loadPolicy,
  resolveAssessRequest,
  startAssess,
  startAssessBatch,
  type AssessmentResult,
  type LoadedPolicy,
} from '../../client/assess.js';
import type { BatchHandle } from '../../client/batch.js';
import { clientDefaults, purposeSettingOf, resolveSubjectKey } from '../../client/index.js';
import { resolveProfile, resolveTaskQueue } from '../../common/settings.js';
import type { Profile } from '../../domain/profiles.js';
import { assessInputProblem } from '../../domain/assess.js';
import { innermostMessage } from '../../domain/errors.js';
import { maskMsisdn } from '../../domain/msisdn.js';
import type { Api, Operation } from '../../domain/operations.js';
import {
  SIGNALS,
  VERDICT_SEVERITY,
  type SignalName,
  type SignalValues,
  type Verdict,
} from '../../domain/policy.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { derivedBatchId, readBatchInput } from '../input.js';
import { resultFormat, table } from '../output.js';
import { jsonText, printable, terminalText } from '../terminal.js';
import { withClient } from '../temporal.js';
import type { BatchCommandOptions } from './batch.js';
import { follow, outcomeSummary } from './batch.js';
import { numberArgument, warnWithoutWorkers } from './check.js';

export interface AssessCommandOptions {
  policy?: string;
  api?: Api;
  purpose?: string;
  json?: boolean;
  failOn?: Exclude<Verdict, 'allow'>;
  taskQueue?: string;
  requestId?: string;
  /** --profile: the workers' operator profile (its default task queue; camara: the camara road). */
  profile?: Profile;
}

// ---- how an assessment is shown ----

const HOUR_MS = 3_600_000;

function ago(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms)) return '';
  const hours = ms / HOUR_MS;
  if (hours < 0) return ' (after the answer)';
  return hours < 48 ? ` (${Math.round(hours)} h before)` : ` (${Math.round(hours / 24)} d before)`;
}

/** A signal's value in a few words. */
export function describeSignal<S extends SignalName>(
  signal: S,
  value: SignalValues[S],
  observedAt = '',
): string {
  switch (signal) {
    case 'sim_swap': {
      const latest = (value as SignalValues['sim_swap']).latestSimChange;
      return latest
        ? `last SIM change ${latest}${observedAt ? ago(latest, observedAt) : ''}`
        : 'no SIM change known';
    }
    case 'roaming': {
      const v = value as SignalValues['roaming'];
      if (!v.roaming) return 'not roaming';
      const where = v.countryName?.length ? ` in ${v.countryName.join(', ')}` : '';
      return `roaming${where}${v.countryCode !== undefined ? ` (MCC ${v.countryCode})` : ''}`;
    }
    case 'connectivity':
      return (value as SignalValues['connectivity']).connectivityStatus;
    case 'carrier': {
      const v = value as SignalValues['carrier'];
      const name = (n: typeof v.originalCarrier) => n?.name ?? n?.networkCode ?? '?';
      return v.changed
        ? `changed: ${name(v.originalCarrier)} → ${name(v.currentCarrier)}`
        : `not changed (${name(v.currentCarrier)})`;
    }
  }
  return JSON.stringify(value);
}

/** `block — sim-swap-24h, roaming-new-carrier`, or `allow — no rule fired (the default)`. */
export function verdictText(result: AssessmentResult): string {
  const why = result.reasons.length > 0 ? result.reasons.join(', ') : "no rule fired (the policy's default)";
  return `${result.verdict.toUpperCase()} — ${why}`;
}

function seconds(result: AssessmentResult): string {
  const ms = Date.parse(result.timestamps.finished) - Date.parse(result.timestamps.started);
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '';
}

/**
 * The verdict line, then one row per signal the policy needs: its value (or `unknown: CODE`),
 * when it was observed and where it came from.
 */
export function assessmentText(who: string, result: AssessmentResult): string {
  const head = terminalText(
    `${who} assess: ${verdictText(result)} (${result.api}, ${seconds(result)}; policy ${result.policyName ?? 'policy'}@${result.policyVersion})`,
  );
  if (result.signals.length === 0) return head;
  const evidence = result.evidence;
  const rows = SIGNALS.filter((signal) => result.signals.includes(signal)).map((signal) => {
    const e = evidence[signal];
    if (e) {
      const source = `${e.source.api} ${e.source.via}${e.source.requestId ? ` (request_id ${e.source.requestId})` : ''}`;
      return [signal, describeSignal(signal, e.value as never, e.observedAt), e.observedAt, source];
    }
    const u = result.unknown.find((entry) => entry.signal === signal);
    return [signal, `unknown: ${u?.code ?? '?'}`, '', u ? `${u.source.api} ${u.source.via}` : ''];
  });
  const notes = result.unknown.map((u) => terminalText(`  ${u.signal}: ${u.code} — ${u.message}`));
  return [
    head,
    '',
    table(['signal', 'value', 'observed at', 'source'], rows),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}

/** Whether `verdict` is at least as severe as `failOn`. */
export function failsOn(verdict: Verdict, failOn: Verdict | undefined): boolean {
  return failOn !== undefined && VERDICT_SEVERITY[verdict] >= VERDICT_SEVERITY[failOn];
}

export async function assessCommand(rawMsisdn: string, options: AssessCommandOptions): Promise<ExitCode> {
  // Everything the user can get wrong is checked before anything starts: the policy first.
  const policy: LoadedPolicy = await loadPolicy(options.policy);
  const msisdn = await numberArgument(rawMsisdn);
  const profile = resolveProfile(options.profile);
  const request = resolveAssessRequest(
    {
      msisdn,
      ...(options.api !== undefined ? { api: options.api } : {}),
      ...(options.purpose !== undefined ? { purpose: options.purpose } : {}),
    },
    profile,
  );
  const problem = assessInputProblem({
    ...request,
    ...(profile === 'camara' ? { profile } : {}),
    policy: policy.policy,
  });
  if (problem) throw new UsageError(problem);
  const taskQueue = resolveTaskQueue(options.taskQueue, process.env, profile);
  return withClient(async ({ client, namespace }) => {
    await warnWithoutWorkers(client, namespace, taskQueue);
    const handle = await startAssess(client, request, {
      policy,
      taskQueue,
      profile,
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    if (!options.json) {
      console.error(
        `workflow ${handle.workflowId} · policy ${policy.policy.name ?? 'policy'}@${policy.version} (${policy.source})`,
      );
    }
    let result: AssessmentResult;
    try {
      result = await handle.result();
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      // No verdict: the run failed (a configuration problem, a timeout, terminated). Exit 3.
      console.error(printable(`netcheck: no verdict was reached: ${innermostMessage(err)}`));
      return EXIT.CHECKS_FAILED;
    }
    if (options.json) console.log(jsonText(result, 2));
    else console.log(assessmentText(maskMsisdn(msisdn), result));
    return failsOn(result.verdict, options.failOn) ? EXIT.CHECKS_FAILED : EXIT.OK;
  });
}

/**
 * `netcheck batch <file> --assess [--policy FILE]`: one networkAssess per row, one verdict record
 * per number (JSONL, or CSV with the assessment columns). Rows need only `msisdn` (`api`,
 * `purpose`, `ref` as for checks); an `operation` column is ignored. Exit 0 when every number got a
 * verdict, 3 when some did not (invalid, failed, cancelled), 2 for usage or policy errors.
 */
export async function assessBatchCommand(file: string, options: BatchCommandOptions): Promise<ExitCode> {
  const notWith = [
    ['--op', options.op],
    ['--max-age', options.maxAge],
    ['--bulk', options.bulk],
    ['--chunk-size', options.chunkSize],
    ['--chunk-concurrency', options.chunkConcurrency],
    ['--rate', options.rate],
  ].filter(([, value]) => value !== undefined && value !== false);
  if (notWith.length > 0) {
    throw new UsageError(
      `${notWith.map(([flag]) => flag).join(', ')} do not apply with --assess: the policy says which signals each assessment gathers (a per-number batch's rate is the workers' --rate / NETCHECK_RATE_LIMIT)`,
    );
  }
  resultFormat(options.format, options.out);
  // The policy first: a policy with an error starts nothing.
  const policy = await loadPolicy(options.policy);
  const env = clientDefaults();
  const profile = resolveProfile(options.profile);
  const api = options.api ?? (profile === 'camara' ? 'camara' : (env.api ?? DEFAULT_ASSESS_API));
  const purpose = options.purpose ?? purposeSettingOf(env);
  const input = await readBatchInput(file, {
    operations: ['assess' as Operation],
    api,
    ...(purpose !== undefined ? { purpose } : {}),
  });
  for (const warning of input.warnings) console.error(`note: ${warning}`);
  if (input.items.some((item) => item.operations.some((op) => (op as string) !== 'assess'))) {
    console.error(
      'note: the operation column is ignored with --assess: the policy says what each assessment gathers',
    );
  }
  const taskQueue = resolveTaskQueue(options.taskQueue, process.env, profile);
  const subjectKey = resolveSubjectKey();
  // Another policy is another batch: its version is part of the derived id.
  const batchId =
    options.batchId ??
    derivedBatchId(
      input.bytes,
      { operations: [`assess@${policy.version}` as Operation], api, ...(purpose ? { purpose } : {}) },
      subjectKey,
    );
  return withClient(async ({ client, namespace }) => {
    await warnWithoutWorkers(client, namespace, taskQueue);
    let handle: BatchHandle;
    try {
      handle = await startAssessBatch(
        client,
        input.items.map((item) => ({
          msisdn: item.msisdn,
          ...(item.api !== undefined ? { api: item.api } : {}),
          ...(item.purpose !== undefined ? { purpose: item.purpose } : {}),
          ...(item.ref !== undefined ? { ref: item.ref } : {}),
        })),
        {
          batchId,
          taskQueue,
          subjectKey,
          policy,
          profile,
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        },
      );
    } catch (err) {
      if (err instanceof TypeError) throw new UsageError(err.message.replace(/^batchId/, '--batch-id'));
      throw err;
    }
    const label = `policy ${policy.policy.name ?? 'policy'}@${policy.version} (${policy.source})`;
    if (!options.wait) {
      console.error(
        `assessment batch ${batchId} started: ${input.items.length} numbers, ${label}. Follow it with \`netcheck status ${batchId}\`.`,
      );
      console.log(batchId);
      return EXIT.OK;
    }
    console.error(
      `assessment batch ${batchId}: ${input.items.length} numbers, ${label} (Ctrl-C stops following, not the batch: ` +
        `\`netcheck results ${batchId}\` picks it up again)`,
    );
    const counts = await follow(handle, {
      ...(options.out ? { out: options.out } : {}),
      ...(options.format ? { format: options.format } : {}),
      total: input.items.length,
      msisdnOf: (index) => input.items[index]?.msisdn,
    });
    console.error(
      `assessment batch ${batchId} done: ${counts.records} records — ${outcomeSummary(counts.byOutcome)}${options.out ? ` → ${options.out}` : ''}`,
    );
    return counts.failures > 0 ? EXIT.CHECKS_FAILED : EXIT.OK;
  });
}
