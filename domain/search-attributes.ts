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
