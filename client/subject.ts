/**
 * The subject of a check: a keyed hash of the phone number. It names runs in workflow ids and
 * the NetcheckSubject search attribute, so runs of one number can be found without the number
 * ever being stored in the clear. Same key → same subject, on every client and worker.
 */
import { createHmac, hkdfSync, type KeyObject } from 'node:crypto';

/** HMAC-SHA256 of the E.164 number, hex, 32 characters (128 bits). */
export function subjectOf(msisdn: string, key: string | Uint8Array): string {
  return createHmac('sha256', key).update(msisdn).digest('hex').slice(0, 32);
}

/** A subject key derived from the Vonage application's private key (when no NETCHECK_SUBJECT_KEY is set). */
export function subjectKeyFromPrivateKey(privateKey: KeyObject): Uint8Array {
  const ikm = privateKey.export({ type: 'pkcs8', format: 'der' });
  return new Uint8Array(hkdfSync('sha256', ikm, 'netcheck/subject/v1', 'NetcheckSubject', 32));
}
