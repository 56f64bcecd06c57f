/**
 * How a worker with a key ring tells its workflows that an input arrived unencrypted (the
 * fail-closed rule of docs/security.md). Workflow-safe: no imports, no I/O.
 *
 *   keyless client ──clear payload──► worker codec (EncryptionCodec, markPlaintext) adds the
 *   metadata `netcheck-plaintext` ──► netcheck's payload converter (payload-converter.cts, in the
 *   workflow sandbox) puts a hidden mark on the decoded value ──► networkCheck / batchCheck /
 *   addPage see it (plaintextMarkOf) and fail the run (or refuse the page) with CONFIGURATION.
 *
 * The value itself is unchanged: the mark is a non-enumerable symbol property, invisible to
 * JSON, spreads and equality, so Temporal's own payloads, queries, signals, memos and histories
 * written before encryption was switched on read exactly as before; only the entries that look
 * for it act on it.
 */

/** Payload metadata key the worker's codec adds to a payload that arrived unencrypted. */
export const PLAINTEXT_METADATA_KEY = 'netcheck-plaintext';

/** Symbol of the mark on a decoded value (also spelt in payload-converter.cts). */
export const PLAINTEXT_MARK = Symbol.for('netcheck.plaintext-input');

/** What the mark says: the worker's encrypting key id and, in a migration window, its end. */
export interface PlaintextMark {
  /** The id of the key the worker encrypts with (public: it is in every encrypted payload). */
  keyId?: string;
  /** NETCHECK_ALLOW_PLAINTEXT_UNTIL of the worker, ISO 8601. */
  allowUntil?: string;
}

/** The metadata value for a worker's mark (JSON of a PlaintextMark). */
export function plaintextMetadataValue(mark: PlaintextMark): string {
  return JSON.stringify(mark);
}

/** The mark on a value decoded from an unencrypted payload by a worker with a key ring, else undefined. */
export function plaintextMarkOf(value: unknown): PlaintextMark | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const mark = (value as Record<symbol, unknown>)[PLAINTEXT_MARK];
  if (mark === undefined) return undefined;
  return mark !== null && typeof mark === 'object' ? mark : {};
}

/** Whether a mark's migration window (NETCHECK_ALLOW_PLAINTEXT_UNTIL) is still open at `now` (ms). */
export function plaintextAllowedAt(mark: PlaintextMark, now: number): boolean {
  if (mark.allowUntil === undefined) return false;
  const until = Date.parse(mark.allowUntil);
  return Number.isFinite(until) && now < until;
}
