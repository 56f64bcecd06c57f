/**
 * The workflow side of "fail closed" (docs/security.md): a worker with a key ring never acts on
 * a netcheck input that a client sent unencrypted. Its codec marks such a payload and netcheck's
 * payload converter carries the mark onto the value (codec/plaintext-mark.ts); the entries
 * (networkCheck, batchCheck, the addPage update) call these functions first.
 *
 * - A marked start input fails the run at once with CONFIGURATION (one patch marker and the
 *   failure: no workflow-task retry loop, no Vonage request).
 * - Runs started before this check existed, or before their worker had a ring, replay as they
 *   ran: the check is behind `patched(REFUSE_PLAINTEXT)`, false when replaying such a history.
 * - NETCHECK_ALLOW_PLAINTEXT_UNTIL (a migration window): a marked input is let through while the
 *   window is open, with a warning in the worker log for every such run and a second patch
 *   marker (PLAINTEXT_ALLOWED) in its history, which also keeps that decision on replay after
 *   the window closed.
 */
import { log, patched, workflowInfo } from '@temporalio/workflow';
import { netcheckFailure } from '../domain/errors.js';
import { plaintextAllowedAt, plaintextMarkOf, type PlaintextMark } from '../codec/plaintext-mark.js';
import { PLAINTEXT_ALLOWED, REFUSE_PLAINTEXT } from './patches.js';

export { PLAINTEXT_ALLOWED, REFUSE_PLAINTEXT };

/** What to tell the user: the client that sent it lacks the ring. */
function refusal(what: string, mark: PlaintextMark): string {
  const key = mark.keyId ? ` (key "${mark.keyId}")` : '';
  return (
    `${what} arrived unencrypted, but this worker encrypts payloads${key}: the client that sent it has no ` +
    'NETCHECK_ENCRYPTION_KEYS. Set NETCHECK_ENCRYPTION_KEYS (or NETCHECK_ENCRYPTION_KEYS_FILE) on that client to ' +
    "the workers' key ring and send it again. Nothing was checked"
  );
}

function allowedLine(what: string, mark: PlaintextMark): string {
  return (
    `netcheck: ${what} arrived unencrypted and was let through: NETCHECK_ALLOW_PLAINTEXT_UNTIL=${mark.allowUntil ?? '?'} ` +
    'on this worker. Set NETCHECK_ENCRYPTION_KEYS on the client that sent it before then.'
  );
}

/**
 * At a workflow's entry: fails the run with CONFIGURATION when its input arrived unencrypted at
 * a worker with a key ring (see the module comment for replay and the migration window).
 */
export function refusePlaintextInput(input: unknown, what: string): void {
  const mark = plaintextMarkOf(input);
  if (mark === undefined || !patched(REFUSE_PLAINTEXT)) return;
  // A replay keeps the decision in history, whatever the window says now.
  const allow = workflowInfo().unsafe.isReplaying || plaintextAllowedAt(mark, Date.now());
  if (allow && patched(PLAINTEXT_ALLOWED)) {
    log.warn(allowedLine(what, mark));
    return;
  }
  throw netcheckFailure('CONFIGURATION', refusal(what, mark));
}

/**
 * In an update's validator: refuses (nothing is written to history) an argument that arrived
 * unencrypted at a worker with a key ring, unless the migration window is open.
 */
export function refusePlaintextArgument(arg: unknown, what: string): void {
  const mark = plaintextMarkOf(arg);
  if (mark === undefined || plaintextAllowedAt(mark, Date.now())) return;
  throw netcheckFailure('CONFIGURATION', refusal(what, mark));
}

/** In the update's handler: logs an argument the migration window let through. */
export function notePlaintextArgument(arg: unknown, what: string): void {
  const mark = plaintextMarkOf(arg);
  if (mark !== undefined) log.warn(allowedLine(what, mark));
}
