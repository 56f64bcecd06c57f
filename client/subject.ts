/**
 * The subject of a check: a keyed hash of the phone number. It names runs in workflow ids and
 * the NetcheckSubject search attribute, so runs of one number can be found without the number
 * ever being stored in the clear. Same key → same subject, on every client and worker.
 */
import { createHmac } from 'node:crypto';
import { collectSecret } from '../common/settings.js';
import { ConfigurationError as ConfigError } from '../domain/errors.js';

/** HMAC-SHA256 of the E.164 number, hex, 32 characters (128 bits). */
export function subjectOf(msisdn: string, key: string | Uint8Array): string {
  return createHmac('sha256', key).update(msisdn).digest('hex').slice(0, 32);
}

/** The shortest NETCHECK_SUBJECT_KEY accepted, in bytes: whoever guesses the key can test numbers against subjects. */
export const SUBJECT_KEY_MIN_BYTES = 32;

/**
 * The key that hashes numbers into subjects: `explicit`, else NETCHECK_SUBJECT_KEY (at least 32
 * bytes). Clients never derive it from the Vonage private key, so that key stays on the workers.
 * Throws a ConfigError that says how to set one.
 */
export function resolveSubjectKey(
  explicit?: string | Uint8Array,
  env: NodeJS.ProcessEnv = process.env,
): string | Uint8Array {
  if (explicit !== undefined && explicit.length > 0) return explicit;
  // NETCHECK_SUBJECT_KEY, or the file NETCHECK_SUBJECT_KEY_FILE names (a compose secret).
  const problems: string[] = [];
  const secret = collectSecret('NETCHECK_SUBJECT_KEY', env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const key = secret?.value;
  const bytes = key === undefined ? 0 : Buffer.byteLength(key, 'utf8');
  if (key !== undefined && bytes >= SUBJECT_KEY_MIN_BYTES) return key;
  throw new ConfigError([
    (key === undefined || bytes === 0
      ? 'NETCHECK_SUBJECT_KEY is not set: clients need it to hash phone numbers into subjects.'
      : `${secret!.source === 'NETCHECK_SUBJECT_KEY' ? 'NETCHECK_SUBJECT_KEY' : `The subject key in ${secret!.source}`} is ${bytes} bytes; it must be at least ${SUBJECT_KEY_MIN_BYTES}.`) +
      ' Set it (or NETCHECK_SUBJECT_KEY_FILE, a file holding it) to a random secret of at least 32 bytes, the same on every client (e.g. `netcheck keygen --token` or' +
      ' `openssl rand -hex 32`). Clients no longer derive it from the Vonage private key, so that key stays on the workers.',
  ]);
}
