/**
 * Canonical JSON: object keys sorted (by UTF-16 code units), undefined fields left out, strings
 * as ECMAScript's JSON.stringify writes them — one text per value. A policy's version hashes it;
 * a batch's input fingerprint is an HMAC of it (docs/contract.md "Batch input fingerprint").
 *
 * Workflow-safe: no I/O, no Node built-ins.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
