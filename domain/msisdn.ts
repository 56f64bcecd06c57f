/** Phone numbers (MSISDN, E.164). Workflow-safe. */

const E164 = /^\+[1-9]\d{4,14}$/;

/** `+` then 5–15 digits, no leading zero (E.164). */
export function isE164(value: unknown): value is string {
  return typeof value === 'string' && E164.test(value);
}

/**
 * Accepts the forms people paste (`+44 7700 900000`, `+44-7700-900000`) and returns the
 * canonical `+<digits>`; returns undefined when the result is not E.164.
 */
export function normalizeMsisdn(value: string): string | undefined {
  const compact = value.trim().replace(/[\s\-().]/g, '');
  return isE164(compact) ? compact : undefined;
}

/** `+44*******000`: enough for a human to tell runs apart, not enough to identify anyone. */
export function maskMsisdn(msisdn: string): string {
  if (msisdn.length <= 6) return '+' + '*'.repeat(Math.max(0, msisdn.length - 1));
  return msisdn.slice(0, 3) + '*'.repeat(msisdn.length - 6) + msisdn.slice(-3);
}
