/**
 * netcheck's typed search attributes (all Keyword). None holds a phone number: the subject is
 * a keyed hash of it. Register them with `netcheck setup` on a real cluster; the dev server and
 * the test harness register them at start.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const NetcheckOperation = defineSearchAttributeKey('NetcheckOperation', SearchAttributeType.KEYWORD);
export const NetcheckOutcome = defineSearchAttributeKey('NetcheckOutcome', SearchAttributeType.KEYWORD);
export const NetcheckErrorCode = defineSearchAttributeKey('NetcheckErrorCode', SearchAttributeType.KEYWORD);
export const NetcheckBatchId = defineSearchAttributeKey('NetcheckBatchId', SearchAttributeType.KEYWORD);
export const NetcheckApi = defineSearchAttributeKey('NetcheckApi', SearchAttributeType.KEYWORD);
export const NetcheckSubject = defineSearchAttributeKey('NetcheckSubject', SearchAttributeType.KEYWORD);
/** An assessment's verdict (allow, review, block): `NetcheckVerdict = "block"` lists the day's blocks. */
export const NetcheckVerdict = defineSearchAttributeKey('NetcheckVerdict', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [
  NetcheckOperation,
  NetcheckOutcome,
  NetcheckErrorCode,
  NetcheckBatchId,
  NetcheckSubject,
  NetcheckApi,
  NetcheckVerdict,
] as const;

/** The search attributes netcheck sets on a run it starts (a check, an assessment, a batch child). */
export type RunSearchAttributes = Array<
  | { key: typeof NetcheckOperation; value: string }
  | { key: typeof NetcheckApi; value: string }
  | { key: typeof NetcheckBatchId; value: string }
  | { key: typeof NetcheckSubject; value: string }
>;

/** A run's operation and API, its batch when it is a batch's child, its subject when there is one. */
export function runSearchAttributes(run: {
  operation: string;
  api: string;
  batchId?: string;
  subject?: string;
}): RunSearchAttributes {
  return [
    { key: NetcheckOperation, value: run.operation },
    { key: NetcheckApi, value: run.api },
    ...(run.batchId !== undefined ? [{ key: NetcheckBatchId, value: run.batchId }] : []),
    ...(run.subject ? [{ key: NetcheckSubject, value: run.subject }] : []),
  ];
}
