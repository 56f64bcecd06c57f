/**
 * Temporal task priority for netcheck's runs. A check started on its own (startCheck,
 * checkNumber: someone is waiting for it) keeps Temporal's default priority unless the caller
 * gives one; a batch and its checks run one step lower by default, so an interactive check does
 * not wait behind a 100,000-number batch on the same task queue. Priority key 1 is the highest;
 * Temporal's default is 3 of 5 (servers with task queue priority enabled; others ignore it).
 * Workflow-safe: no I/O, no Node built-ins.
 */
import type { Priority } from '@temporalio/common';

/** Temporal's default priority key (the middle of its default 1–5). */
export const DEFAULT_PRIORITY_KEY = 3;
/** A batch's priority key unless the caller gives one; its checks (children, chunks) inherit it. */
export const BATCH_PRIORITY_KEY = 4;

/** The most bytes of a fairness key (Temporal's limit). */
const FAIRNESS_KEY_MAX_BYTES = 64;

/** Returns what is wrong with a caller's priority, or undefined. */
export function priorityProblem(priority: unknown): string | undefined {
  if (priority === undefined) return undefined;
  if (priority === null || typeof priority !== 'object' || Array.isArray(priority)) {
    return 'priority must be an object: { priorityKey?, fairnessKey?, fairnessWeight? }';
  }
  const { priorityKey, fairnessKey, fairnessWeight, ...rest } = priority as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return `priority has unknown fields: ${unknown.join(', ')}`;
  if (priorityKey !== undefined && !(Number.isInteger(priorityKey) && (priorityKey as number) >= 1)) {
    return `priority.priorityKey must be a whole number from 1 (highest) up (got ${JSON.stringify(priorityKey)})`;
  }
  if (fairnessKey !== undefined) {
    if (typeof fairnessKey !== 'string') return 'priority.fairnessKey must be a string';
    if (new TextEncoder().encode(fairnessKey).length > FAIRNESS_KEY_MAX_BYTES) {
      return `priority.fairnessKey must be at most ${FAIRNESS_KEY_MAX_BYTES} bytes`;
    }
  }
  if (
    fairnessWeight !== undefined &&
    !(typeof fairnessWeight === 'number' && fairnessWeight >= 0.001 && fairnessWeight <= 1000)
  ) {
    return `priority.fairnessWeight must be a number from 0.001 to 1000 (got ${JSON.stringify(fairnessWeight)})`;
  }
  return undefined;
}

/** Only the fields that are set (Temporal decodes an unset priority to undefined fields). */
function defined(priority: Priority | undefined): Priority {
  const out: Priority = {};
  if (priority?.priorityKey !== undefined && priority.priorityKey !== 0)
    out.priorityKey = priority.priorityKey;
  if (priority?.fairnessKey) out.fairnessKey = priority.fairnessKey;
  if (priority?.fairnessWeight !== undefined && priority.fairnessWeight !== 0) {
    out.fairnessWeight = priority.fairnessWeight;
  }
  return out;
}

/** A batch's priority: the caller's, with BATCH_PRIORITY_KEY where it names no key. */
export function batchPriority(priority: Priority | undefined): Priority {
  const given = defined(priority);
  return { ...given, priorityKey: given.priorityKey ?? BATCH_PRIORITY_KEY };
}
