/**
 * Every patch id of netcheck's workflows, in one place. A change to what a workflow does (its
 * commands, or the decision that leads to them) is guarded with `patched(id)`, so that runs
 * already going — and the histories in test/fixtures/histories — replay the old way while new
 * runs take the new one. Workflow code imports the ids from here; PATCHES says when each was
 * added and from which release it may move to `deprecatePatch(id)`.
 *
 * The rule (CHANGELOG.md, "Compatibility"): a patch added in release N may become
 * `deprecatePatch` in the second minor release after N at the earliest (N = 0.1.0 → 0.3.0), once
 * the release between told operators to let the runs started before N finish (or reset them); it
 * is removed in the release after that. Until then `patched(id)` stays, and an id is never
 * reused or renamed. Plain constants: no imports, safe anywhere.
 */

/** networkCheck, fast mode: the CIBA interval is waited inside the poll's local activity, not with a timer. */
export const FAST_WAIT_IN_POLL = 'fast-wait-in-poll';
/** networkCheck: with interval 0, a re-poll after authorization_pending waits at least 1 s. */
export const PENDING_REPOLL_FLOOR = 'pending-repoll-floor';
/** networkCheck: the authorization budget counts every bc-authorize of the run, also after a 401. */
export const RUN_WIDE_BUDGET = 'run-wide-authorization-budget';
/** networkCheck, fast mode: CIBA intervals longer than 30 s are waited with a durable timer. */
export const FAST_LONG_WAIT_TIMER = 'fast-long-wait-timer';
/**
 * networkCheck: the polls of an authorization are one activity that waits and polls again
 * itself; it implies every networkCheck patch before it (one marker per new run, not one per patch).
 */
export const LEAN_HISTORY = 'lean-history';
/**
 * networkCheck: the CIBA policy of domain/ciba-flow.ts decides — the first poll counts from the
 * provider's answer, every poll of an authorization runs in a polling activity that hands back
 * a wait too long for it (then the workflow waits with a timer); it implies every networkCheck
 * patch before it (one marker per new run).
 */
export const CIBA_FLOW = 'ciba-flow';
/** batchCheck: every batch option is validated at start (before, only concurrency was). */
export const OPTIONS_VALIDATED = 'batch-options-validated';
/** batchCheck (domain/batch-state.ts): an item whose ref is over FIELD_LIMITS.ref is recorded as invalid. */
export const PATCH_FIELD_LIMITS = 'batch-field-limits';
/** batchCheck: a run also ends (drains, continues as new) when Temporal suggests continue-as-new. */
export const END_RUN_WHEN_SUGGESTED = 'batch-end-run-when-suggested';
/** batchCheck: every check child has an execution timeout (options.checkTimeout, default 1 h). */
export const CHECK_TIMEOUT = 'batch-check-timeout';
/** batchCheck: a new batch's bulk rateLimit must be within RATE_LIMITS. */
export const RATE_BOUNDS = 'batch-rate-bounds';
/**
 * batchCheck: its check children are started with the batch's priority, priority key 4
 * (BATCH_PRIORITY_KEY) where it names none, so a check started on its own (Temporal's default 3)
 * goes first on a shared task queue.
 */
export const BATCH_CHILD_PRIORITY = 'batch-child-priority';
/**
 * batchCheck: an assessment batch (option `assess`) starts a networkAssess child per item instead
 * of a networkCheck. No batch before it could set the option; the marker keeps the choice on replay.
 */
export const BATCH_ASSESS = 'batch-assess';
/** rateLimiter: a run started on the checks' task queue moves to the limiter's own queue at continue-as-new. */
export const RATE_LIMITER_OWN_TASK_QUEUE = 'rate-limiter-own-task-queue';
/**
 * networkCheck, batchCheck, networkAssess (workflows/plaintext-guard.ts): a run whose input
 * arrived unencrypted at a worker with a key ring fails with CONFIGURATION.
 */
export const REFUSE_PLAINTEXT = 'netcheck-refuse-plaintext-input';
/** The same workflows: recorded only when NETCHECK_ALLOW_PLAINTEXT_UNTIL let an unencrypted input through. */
export const PLAINTEXT_ALLOWED = 'netcheck-plaintext-input-allowed';
/**
 * networkCheck, batchCheck, networkAssess (domain/activity-names.ts): activities are scheduled as
 * `netcheck.<name>` (`netcheck.authorize`, …) instead of the bare name. networkCheck asks it first,
 * where it asked CIBA_FLOW, and it implies CIBA_FLOW (one marker per new run); batchCheck asks it
 * at a run's first bulk chunk, networkAssess at its Identity Insights request.
 */
export const NAMESPACED_ACTIVITIES = 'netcheck-namespaced-activities';

export interface PatchEntry {
  /** The id given to `patched()`: never renamed, never reused. */
  readonly id: string;
  /** The workflow(s) that ask for it. */
  readonly workflow: string;
  /** When it was added: the date and the release that first has it ('Unreleased': the next one). */
  readonly added: { readonly date: string; readonly release: string };
  /** The first release that may replace `patched(id)` with `deprecatePatch(id)`. */
  readonly deprecateFrom: string;
}

/** Every patch, oldest first. A test checks that this list and the workflows' `patched()` calls agree. */
export const PATCHES: readonly PatchEntry[] = [
  {
    id: FAST_WAIT_IN_POLL,
    workflow: 'networkCheck',
    added: { date: '2026-11-28', release: '0.1.0' },
    deprecateFrom: '0.3.0',
  },
  {
    id: PENDING_REPOLL_FLOOR,
    workflow: 'networkCheck',
    added: { date: '2026-11-28', release: '0.1.0' },
    deprecateFrom: '0.3.0',
  },
  {
    id: RUN_WIDE_BUDGET,
    workflow: 'networkCheck',
    added: { date: '2026-11-29', release: '0.1.0' },
    deprecateFrom: '0.3.0',
  },
  {
    id: FAST_LONG_WAIT_TIMER,
    workflow: 'networkCheck',
    added: { date: '2026-11-29', release: '0.1.0' },
    deprecateFrom: '0.3.0',
  },
  {
    id: LEAN_HISTORY,
    workflow: 'networkCheck',
    added: { date: '2026-11-29', release: '0.1.0' },
    deprecateFrom: '0.3.0',
  },
  {
    id: OPTIONS_VALIDATED,
    workflow: 'batchCheck',
    added: { date: '2026-11-29', release: '0.1.0' },
    deprecateFrom: '0.3.0',
  },
  {
    id: PATCH_FIELD_LIMITS,
    workflow: 'batchCheck',
    added: { date: '2026-11-29', release: '0.1.0' },
    deprecateFrom: '0.3.0',
  },
  {
    id: END_RUN_WHEN_SUGGESTED,
    workflow: 'batchCheck',
    added: { date: '2026-11-30', release: '0.1.0' },
    deprecateFrom: '0.3.0',
  },
  {
    id: RATE_LIMITER_OWN_TASK_QUEUE,
    workflow: 'rateLimiter',
    added: { date: '2026-11-30', release: '0.1.0' },
    deprecateFrom: '0.3.0',
  },
  {
    id: CHECK_TIMEOUT,
    workflow: 'batchCheck',
    added: { date: '2026-12-07', release: 'Unreleased' },
    deprecateFrom: 'the second minor release after the one that ships it',
  },
  {
    id: RATE_BOUNDS,
    workflow: 'batchCheck',
    added: { date: '2026-12-07', release: 'Unreleased' },
    deprecateFrom: 'the second minor release after the one that ships it',
  },
  {
    id: BATCH_CHILD_PRIORITY,
    workflow: 'batchCheck',
    added: { date: '2026-12-07', release: 'Unreleased' },
    deprecateFrom: 'the second minor release after the one that ships it',
  },
  {
    id: BATCH_ASSESS,
    workflow: 'batchCheck',
    added: { date: '2026-12-07', release: 'Unreleased' },
    deprecateFrom: 'the second minor release after the one that ships it',
  },
  {
    id: CIBA_FLOW,
    workflow: 'networkCheck',
    added: { date: '2026-12-07', release: 'Unreleased' },
    deprecateFrom: 'the second minor release after the one that ships it',
  },
  {
    id: REFUSE_PLAINTEXT,
    workflow: 'networkCheck, batchCheck, networkAssess',
    added: { date: '2026-12-07', release: 'Unreleased' },
    deprecateFrom: 'the second minor release after the one that ships it',
  },
  {
    id: PLAINTEXT_ALLOWED,
    workflow: 'networkCheck, batchCheck, networkAssess',
    added: { date: '2026-12-07', release: 'Unreleased' },
    deprecateFrom: 'the second minor release after the one that ships it',
  },
  {
    id: NAMESPACED_ACTIVITIES,
    workflow: 'networkCheck, batchCheck, networkAssess',
    added: { date: '2026-12-07', release: 'Unreleased' },
    deprecateFrom: 'the second minor release after the one that ships it',
  },
];
