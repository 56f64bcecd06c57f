/**
 * The flat CSV row of an assessment batch's record (`netcheck batch --assess --out verdicts.csv`,
 * `netcheck results` of such a batch); cli/output.ts writes it like a check record (cells made
 * safe by csvCell). The verdict line and the evidence table are cli/commands/assess.ts's.
 */
import type { BatchRecord } from '../domain/batch.js';
import type { EvidenceMap } from '../domain/assess.js';

/** The CSV columns of an assessment batch (`netcheck batch --assess --out results.csv`). */
export const ASSESS_CSV_COLUMNS = [
  'index',
  'ref',
  'msisdn',
  'outcome',
  'verdict',
  'reasons',
  'unknown',
  'policy_version',
  'policy_name',
  'sim_swap',
  'roaming',
  'connectivity',
  'carrier_changed',
  'error_code',
  'error_message',
  'api',
  'correlation_id',
  'started',
  'finished',
] as const;

export type AssessRow = Record<(typeof ASSESS_CSV_COLUMNS)[number], string | number | boolean | undefined>;

/** One flat row per assessment record; `msisdn` comes from the input file (records carry no number). */
export function assessRecordRow(record: BatchRecord, msisdn?: string): AssessRow {
  const a = record.assessment;
  const e: EvidenceMap = a?.evidence ?? {};
  return {
    index: record.index,
    ref: record.ref,
    msisdn,
    outcome: record.outcome,
    verdict: a?.verdict,
    reasons: a?.reasons.join(';'),
    unknown: a?.unknown.map((u) => `${u.signal}:${u.code}`).join(';'),
    policy_version: a?.policyVersion,
    policy_name: a?.policyName,
    sim_swap: e.sim_swap ? (e.sim_swap.value.latestSimChange ?? 'none') : undefined,
    roaming: e.roaming?.value.roaming,
    connectivity: e.connectivity?.value.connectivityStatus,
    carrier_changed: e.carrier?.value.changed,
    error_code: record.error?.code,
    error_message: record.error?.message,
    api: a?.api,
    correlation_id: a?.correlationId,
    started: a?.timestamps.started,
    finished: a?.timestamps.finished,
  };
}
