/**
 * The subject of a check: a keyed hash of the phone number. It names runs in workflow ids and
 * the NetcheckSubject search attribute, so runs of one number can be found without the number
 * ever being stored in the clear. Same key → same subject, on every client and worker.
 */
import { createHmac } from 'node:crypto';

/** HMAC-SHA256 of the E.164 number, hex, 32 characters (128 bits). */
export function subjectOf(msisdn: string, key: string | Uint8Array): string {
  return createHmac('sha256', key).update(msisdn).digest('hex').slice(0, 32);
}

/** The shortest NETCHECK_SUBJECT_KEY accepted, in bytes: whoever guesses the key can test numbers against subjects. */
export const SUBJECT_KEY_MIN_BYTES = 32;
