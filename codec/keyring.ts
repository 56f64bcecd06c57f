/**
 * The payload encryption key ring: `NETCHECK_ENCRYPTION_KEYS`, or the file named by
 * `NETCHECK_ENCRYPTION_KEYS_FILE`, written as `<key-id>:<base64 of 32 random bytes>` entries
 * separated by commas (a file may also put one per line), newest first. The first key encrypts;
 * every key decrypts, so a rotation adds a new key in front and drops an old one only once no
 * retained history holds payloads encrypted with it.
 *
 * The rules around it (docs/security.md, "Fail closed"), read by workers and clients alike:
 * - `NETCHECK_ENCRYPTION=off` says the deployment is deliberately unencrypted (no key may be
 *   set then); `NETCHECK_ENCRYPTION=on` says a key ring is required. Unset (or empty): keys when
 *   a ring is set, else the zero-config path (payloads in the clear, the worker warns once).
 * - A key variable that is set but empty (or only whitespace) is a configuration error, never
 *   "no encryption": an empty `NETCHECK_ENCRYPTION_KEYS=` is a mistake more often than a choice.
 * - `NETCHECK_ALLOW_PLAINTEXT_UNTIL=<ISO date>` (workers with a ring): until then, a netcheck
 *   input that arrives unencrypted is let through (and logged per run) instead of failing its run.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rawSetting } from '../common/settings.js';
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
  /**
   * NETCHECK_ALLOW_PLAINTEXT_UNTIL: until this time, a worker with this ring lets a netcheck
   * input that arrives unencrypted through (saying so in its log for every such run) instead of
   * failing the run with CONFIGURATION. A migration window, for clients that get their keys later.
   */
  readonly allowPlaintextUntil?: Date;
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

/** `NETCHECK_ENCRYPTION`: `off` (deliberately unencrypted) or `on` (a key ring is required). */
export const ENCRYPTION_MODES = ['off', 'on'] as const;
export type EncryptionMode = (typeof ENCRYPTION_MODES)[number];

/** What the environment says about payload encryption (see loadEncryption). */
export interface EncryptionSettings {
  /** The key ring, when one is set. */
  ring?: KeyRing;
  /**
   * `keys`: a ring is set. `off`: NETCHECK_ENCRYPTION=off, no ring, deliberately. `unset`: no
   * ring and nothing said (the zero-config path: dev server, tests).
   */
  mode: 'keys' | 'off' | 'unset';
}

const KEYS = 'NETCHECK_ENCRYPTION_KEYS';
const KEYS_FILE = 'NETCHECK_ENCRYPTION_KEYS_FILE';
const MODE = 'NETCHECK_ENCRYPTION';
const ALLOW_UNTIL = 'NETCHECK_ALLOW_PLAINTEXT_UNTIL';
// Every read through the registry (common/settings.ts).
/** A date, or a date and time with a zone (Z or ±hh:mm): what NETCHECK_ALLOW_PLAINTEXT_UNTIL takes. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** The NETCHECK_ENCRYPTION value, or undefined when unset or empty; a ConfigError message for any other. */
function modeOf(env: NodeJS.ProcessEnv, problems: string[]): EncryptionMode | undefined {
  const given = rawSetting(MODE, env);
  const raw = given?.trim().toLowerCase();
  if (!raw) return undefined;
  if ((ENCRYPTION_MODES as readonly string[]).includes(raw)) return raw as EncryptionMode;
  problems.push(
    `${MODE} must be "off" (payloads deliberately in the clear) or "on" (a key ring is required); got ${JSON.stringify(given!.slice(0, 20))}.`,
  );
  return undefined;
}

/**
 * Reads NETCHECK_ENCRYPTION, NETCHECK_ENCRYPTION_KEYS(_FILE) and NETCHECK_ALLOW_PLAINTEXT_UNTIL
 * together; throws one ConfigError naming every problem (never quoting key material): a bad
 * ring, an unreadable file, both variables, a key variable set but empty, keys with
 * NETCHECK_ENCRYPTION=off, no keys with NETCHECK_ENCRYPTION=on, a NETCHECK_ALLOW_PLAINTEXT_UNTIL
 * that is not an ISO date (without a ring it is ignored: it is the workers' setting).
 */
export function loadEncryption(env: NodeJS.ProcessEnv = process.env): EncryptionSettings {
  const problems: string[] = [];
  const mode = modeOf(env, problems);
  const inline = rawSetting(KEYS, env);
  const file = rawSetting(KEYS_FILE, env);
  for (const [name, value] of [
    [KEYS, inline],
    [KEYS_FILE, file],
  ] as const) {
    if (value !== undefined && value.trim() === '') {
      problems.push(
        `${name} is set but empty. Set it to the workers' key ring (\`netcheck keygen\` makes a key), ` +
          `or, to run without encryption on purpose, unset it and set ${MODE}=off on every worker and client.`,
      );
    }
  }
  const hasInline = Boolean(inline?.trim());
  const hasFile = Boolean(file?.trim());
  if (hasInline && hasFile) {
    problems.push(`Set only one of ${KEYS} (the keys) and ${KEYS_FILE} (a file with them).`);
  }
  let ring: KeyRing | undefined;
  if (problems.length === 0 && (hasInline || hasFile)) {
    try {
      ring = hasInline ? parseKeyRing(inline!.trim(), KEYS) : readRingFile(file!.trim());
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  }
  const keysSet = hasInline || hasFile;
  if (mode === 'off' && keysSet) {
    problems.push(
      `${MODE}=off says payloads stay in the clear, but ${hasInline ? KEYS : KEYS_FILE} is set: unset ${MODE} to encrypt with the ring, or unset the key variable.`,
    );
  }
  if (mode === 'on' && !keysSet) {
    problems.push(`${MODE}=on requires a key ring: set ${KEYS} (or ${KEYS_FILE}). ${HOW_TO_MAKE_A_KEY}`);
  }
  const allowUntil = allowPlaintextUntil(env, keysSet, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  if (ring) return { ring: allowUntil ? { ...ring, allowPlaintextUntil: allowUntil } : ring, mode: 'keys' };
  return { mode: mode === 'off' ? 'off' : 'unset' };
}

function readRingFile(file: string): KeyRing {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `${KEYS_FILE} (${file}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`,
    ]);
  }
  return parseKeyRing(text, `${KEYS_FILE} (${file})`);
}

function allowPlaintextUntil(env: NodeJS.ProcessEnv, keysSet: boolean, problems: string[]): Date | undefined {
  const raw = rawSetting(ALLOW_UNTIL, env)?.trim();
  if (!raw) return undefined;
  const at = ISO_DATE.test(raw) ? new Date(raw) : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    problems.push(
      `${ALLOW_UNTIL} must be an ISO 8601 date or time, e.g. 2026-07-01 or 2026-07-01T12:00:00Z (got ${JSON.stringify(raw.slice(0, 40))}).`,
    );
    return undefined;
  }
  // Only a worker with a ring acts on it; clients without keys may share the same environment.
  return keysSet ? at : undefined;
}

/**
 * The ring configured in `env`, or undefined when no key variable is set (payloads are then
 * stored in the clear, deliberately with NETCHECK_ENCRYPTION=off). Applies every rule of
 * loadEncryption and throws its ConfigError.
 */
export function loadKeyRing(env: NodeJS.ProcessEnv = process.env): KeyRing | undefined {
  return loadEncryption(env).ring;
}

/** The ids of a ring, newest first, for messages. */
export function keyIds(ring: KeyRing): string[] {
  return [...ring.keys.keys()];
}
