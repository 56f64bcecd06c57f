/**
 * What the batch workflow needs to start one child run, a check (batch-state.ts) or an
 * assessment (assess.ts): the same id scheme's id, its input, the search attributes every batch
 * child carries, and what the Temporal UI shows of it.
 *
 * Workflow-safe: deterministic, no I/O, no Node built-ins, no workflow APIs.
 */
import { NetcheckApi, NetcheckBatchId, NetcheckOperation, NetcheckSubject } from './search-attributes.js';

export type BatchChildSearchAttributes = Array<
  | { key: typeof NetcheckOperation; value: string }
  | { key: typeof NetcheckApi; value: string }
  | { key: typeof NetcheckBatchId; value: string }
  | { key: typeof NetcheckSubject; value: string }
>;

export interface ChildStart<Input> {
  workflowId: string;
  input: Input;
  searchAttributes: BatchChildSearchAttributes;
  staticSummary: string;
  staticDetails: string;
}

/** A batch child's search attributes: its operation, API and batch, and its subject when the client sent one. */
export function batchChildSearchAttributes(
  operation: string,
  api: string,
  batchId: string,
  subject: string | undefined,
): BatchChildSearchAttributes {
  return [
    { key: NetcheckOperation, value: operation },
    { key: NetcheckApi, value: api },
    { key: NetcheckBatchId, value: batchId },
    ...(subject ? [{ key: NetcheckSubject, value: subject }] : []),
  ];
}
