/**
 * The payload encryption key ring: `NETCHECK_ENCRYPTION_KEYS`, or the file named by
 * `NETCHECK_ENCRYPTION_KEYS_FILE`, written as `<key-id>:<base64 of 32 random bytes>` entries
 * separated by commas (a file may also put one per line), newest first. The first key encrypts;
 * every key decrypts, so a rotation adds a new key in front and drops an old one only once no
 * retained history holds payloads encrypted with it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigurationError as ConfigError } from '../domain/errors.js';

export const KEY_BYTES = 32;
/** Letters, digits, `.`, `_` and `-`, at most 64; it is stored in the clear in every payload's metadata. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** How to make a key: said by every key error. */
export const HOW_TO_MAKE_A_KEY =
  'Make one with `netcheck keygen`, or: echo "k1:$(openssl rand -base64 32)" (the part before ":" is the key id).';

export interface KeyRing {
  /** The id of the key that encrypts (the first entry). */
  readonly primary: string;
  /** Every key by id (the primary included), each 32 bytes. */
  readonly keys: ReadonlyMap<string, Buffer>;
  /** Where the ring came from, for messages ("NETCHECK_ENCRYPTION_KEYS", a file path). */
  readonly source: string;
}

/** A new key ring entry `<id>:<base64 of 32 random bytes>`; the default id is `k<yyyymmdd>`. */
export function newKeyEntry(id = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`): string {
  if (!KEY_ID_PATTERN.test(id)) throw new ConfigError([`Key id ${JSON.stringify(id)} ${ID_RULE}`]);
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

const ID_RULE =
  'is not a key id: use letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit).';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses a ring; throws one ConfigError listing every bad entry (never quoting key material). */
export function parseKeyRing(text: string, source: string): KeyRing {
  const entries = text
    .split(/[,\r\n]+/)
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const problems: string[] = [];
  const keys = new Map<string, Buffer>();
  if (entries.length === 0) problems.push(`${source} holds no key.`);
  entries.forEach((entry, i) => {
    const where = `${source}, entry ${i + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) {
      problems.push(`${where} is not "<key-id>:<base64 key>" (no ":" in it).`);
      return;
    }
    const id = entry.slice(0, colon);
    const material = entry.slice(colon + 1);
    if (!KEY_ID_PATTERN.test(id)) {
      problems.push(`${where}: ${JSON.stringify(id.slice(0, 70))} ${ID_RULE}`);
      return;
    }
    if (keys.has(id)) {
      problems.push(`${where}: key id "${id}" appears twice; every key needs its own id.`);
      return;
    }
    const bytes = BASE64.test(material) ? Buffer.from(material, 'base64') : undefined;
    if (!bytes) {
      problems.push(`${where} (key "${id}"): the key is not base64.`);
      return;
    }
    if (bytes.length !== KEY_BYTES) {
      problems.push(
        `${where} (key "${id}"): the key is ${bytes.length} bytes; AES-256 needs exactly ${KEY_BYTES} random bytes.`,
      );
      return;
    }
    keys.set(id, bytes);
  });
  if (problems.length > 0) throw new ConfigError([...problems, HOW_TO_MAKE_A_KEY]);
  return { primary: entries[0]!.slice(0, entries[0]!.indexOf(':')), keys, source };
}

/**
 * The ring configured in `env`, or undefined when neither variable is set (payloads are then
 * stored in the clear). Throws a ConfigError for a bad ring, an unreadable file or both variables.
 */
export function loadKeyRing(env: NodeJS.ProcessEnv = process.env): KeyRing | undefined {
  const inline = env.NETCHECK_ENCRYPTION_KEYS?.trim();
  const file = env.NETCHECK_ENCRYPTION_KEYS_FILE?.trim();
  if (inline && file) {
    throw new ConfigError([
      'Set only one of NETCHECK_ENCRYPTION_KEYS (the keys) and NETCHECK_ENCRYPTION_KEYS_FILE (a file with them).',
    ]);
  }
  if (inline) return parseKeyRing(inline, 'NETCHECK_ENCRYPTION_KEYS');
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `NETCHECK_ENCRYPTION_KEYS_FILE (${file}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`,
    ]);
  }
  return parseKeyRing(text, `NETCHECK_ENCRYPTION_KEYS_FILE (${file})`);
}

/** The ids of a ring, newest first, for messages. */
export function keyIds(ring: KeyRing): string[] {
  return [...ring.keys.keys()];
}
