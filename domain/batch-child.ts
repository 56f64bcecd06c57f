/**
 * What the batch workflow needs to start one child run, a check (batch-state.ts) or an
 * assessment (assess.ts): its id, its input, its search attributes (runSearchAttributes) and what
 * the Temporal UI shows of it.
 *
 * Workflow-safe: deterministic, no I/O, no Node built-ins, no workflow APIs.
 */
import type { RunSearchAttributes } from './search-attributes.js';

export interface ChildStart<Input> {
  workflowId: string;
  input: Input;
  searchAttributes: RunSearchAttributes;
  staticSummary: string;
  staticDetails: string;
}
