/**
 * Redaction: the one function every layer uses before text leaves the process (worker logs,
 * spans, failure messages built from provider text, the CLI's stderr). Pure and workflow-safe.
 *
 * `redact(text)` replaces, in this order:
 * 1. PEM private key blocks → `[redacted private key]`;
 * 2. the known `secrets` given (exact strings of 8+ characters) → `[redacted]`;
 * 3. the known `numbers` given, in any spelling: their last 9 digits (and any of the digits
 *    before them, or a national `0`) with up to 3 non-alphanumeric characters between digits,
 *    even glued to letters → `[number]`;
 * 4. JWTs (`eyJ…` header, three base64url parts, or five for JWE) → `[redacted]`;
 * 5. `Bearer <credential>` / `Basic <credential>` → `Bearer [redacted]`;
 * 6. labelled credentials: `access_token`, `refresh_token`, `id_token`, `auth_req_id`,
 *    `client_assertion`, `client_secret`, `token`, `sealedToken`, `taskToken`, `password`,
 *    `api_key` (any case, camelCase too) followed by `=`, `:` or a JSON `":"` → the key kept, the
 *    value `[redacted]`;
 * 7. opaque tokens: 32+ characters of the base64url alphabet that mix upper case, lower case and
 *    digits (access tokens, sealed-token ciphertext) → `[redacted]` (file paths and ids in lower
 *    case stay);
 * 8. phone numbers in any separator form (the rule below) → `[number]`.
 *
 * **The phone number rule.** A run of digits (ASCII or fullwidth), optionally led by `+`, `%2B`
 * or `＋` and/or an opening parenthesis, whose digits may be separated by up to three of: space,
 * no-break space, `.`, `-` (and the Unicode dashes), `(`, `)`, `/`, `_`, `·`, `%20`, a soft hyphen
 * or a zero-width character. Such a run is a number when it holds **7 or more digits** (the
 * shortest international numbers have 7), whatever the separators: `+44 7700 900001`, `44-7700-900-001`, `(0)7700.900.001`, `07700 900001`,
 * `%2B447700900001`, `tel:+447700900001`, `x447700900001`. Runs of 6 digits or fewer are left
 * alone (HTTP statuses, ports, small counts and durations), and so are, when they stand alone:
 * ISO-8601 dates and timestamps (`2026-05-01`, `2026-05-01T12:34:56.789Z`), IPv4 addresses with
 * an optional port (`127.0.0.1:7233`), UUIDs and hexadecimal identifiers of 16+ characters with a
 * letter in them (workflow ids, subjects, batch ids). A date or address written right after a
 * digit or `+` (and one separator) is not protected: it may be part of a number. So longer
 * figures of our own are masked too (`3600000 ms` → `[number] ms`): the rule errs towards privacy.
 * A number glued inside a hexadecimal identifier is not recognised by this rule; pass it as a
 * known number (rule 3) where it is known.
 *
 * `redactValue(value)` applies `redact` to every string of a value, recursively (objects, arrays,
 * errors with their message, stack and cause), drops task tokens (`taskToken`, `base64TaskToken`
 * keys), replaces the value of any key that names a credential, masks JS numbers of 10+ integer
 * digits (a number stored as a number) and keeps symbol keys (loggers keep timestamps there).
 */

export const NUMBER_MASK = '[number]';
export const SECRET_MASK = '[redacted]';
export const PRIVATE_KEY_MASK = '[redacted private key]';

export interface RedactOptions {
  /** Exact secrets to replace wherever they occur (8+ characters; shorter ones are ignored). */
  secrets?: readonly string[];
  /** Phone numbers known to be in the text: replaced in any spelling (see rule 3). */
  numbers?: readonly string[];
}

/** Digits: ASCII and fullwidth. */
const D = '[0-9\\uFF10-\\uFF19]';
/** Between two digits of a number: up to three separators. */
const SEP = '(?:[ \\u00A0.\\-\\u2010-\\u2015()/_\\u00B7\\u00AD\\u200B-\\u200D\\u2060\\uFEFF]|%20){1,3}';
/** What may lead a number: `+`, `%2B` or `＋` (then perhaps a space and a parenthesis), or a parenthesis. */
const LEAD = '(?:(?:\\+|%2[Bb]|\\uFF0B)[ \\u00A0]?\\(?|\\()?';
/** Not right after a digit or a `+` (and one separator): a date or an address there may be a number's part. */
const NOT_IN_NUMBER = '(?<![0-9+\\uFF10-\\uFF19][ .\\-]?)';

const PROTECTED = [
  // UUID
  '(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z])',
  // hexadecimal identifier with a letter in it
  '(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{16,}(?![0-9A-Za-z])',
  // ISO-8601 date, perhaps with a time and a zone
  `${NOT_IN_NUMBER}(?:19|20)\\d\\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])` +
    '(?:[T ](?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:[.,]\\d{1,9})?)?(?:Z|[+-](?:[01]\\d|2[0-3]):?[0-5]\\d)?)?(?![0-9])',
  // IPv4 address, perhaps with a port
  `${NOT_IN_NUMBER}(?<![0-9.])(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)(?:\\.(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}(?::\\d{1,5})?(?!\\.?[0-9])`,
];
const NUMBER = `(?<![0-9\\uFF10-\\uFF19])${LEAD}${D}(?:(?:${SEP})?${D})*`;
/** One scan: a protected form is matched (and kept) before a number can start inside it. */
const SCAN = new RegExp(`(${PROTECTED.join('|')})|(${NUMBER})`, 'g');
const DIGIT = /[0-9\uFF10-\uFF19]/g;
/** Fewest digits a run needs to count as a phone number. */
export const MIN_NUMBER_DIGITS = 7;

const PEM_PRIVATE_KEY =
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g;
const AUTH_SCHEME = /\b(Bearer|Basic)(\s+)[A-Za-z0-9\-._~+/]+=*/gi;
/** Keys whose value is a credential (in text, and in objects for redactValue). */
const CREDENTIAL_KEY =
  '(?:access|refresh|id|sealed|task|bearer)[_-]?token|auth[_-]?req[_-]?id|client[_-]?(?:assertion|secret)|' +
  'api[_-]?key|password|private[_-]?key|authorization|token';
const LABELLED = new RegExp(
  `(?<![A-Za-z0-9_])("?)(${CREDENTIAL_KEY})\\1(\\s*[:=]\\s*)(["']?)(?!\\[redacted\\])(?!Bearer\\b|Basic\\b)([^\\s"'&,;}\\])]+)`,
  'gi',
);
const OPAQUE = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])/g;

/** A regular expression for a known number in any spelling (rule 3), or undefined for too few digits. */
function knownNumberPattern(number: string): RegExp | undefined {
  const digits = number.replace(/[^0-9]/g, '');
  if (digits.length < MIN_NUMBER_DIGITS) return undefined;
  const sep = '(?:[^0-9A-Za-z\\uFF10-\\uFF19]|%20){0,3}';
  const spell = (part: string) => [...part].join(sep);
  const core = digits.slice(-9);
  const before = digits.slice(0, -9);
  // Any tail of the digits before the core (the whole country code, part of it, or none).
  const tails = [...before].map((_, i) => spell(before.slice(i)));
  const head = tails.length > 0 ? `(?:(?:${tails.join('|')})${sep})?` : '';
  return new RegExp(`(?:(?:\\+|%2[Bb]|\\uFF0B)${sep})?(?:0${sep})?${head}${spell(core)}`, 'g');
}

function hasUpperLowerDigit(text: string): boolean {
  return /[A-Z]/.test(text) && /[a-z]/.test(text) && /[0-9]/.test(text);
}

/** Masks numbers, tokens, JWTs, auth_req_ids, private keys and the given secrets in `text` (see above). */
export function redact(text: string, options: RedactOptions = {}): string {
  let out = text.replace(PEM_PRIVATE_KEY, PRIVATE_KEY_MASK);
  for (const secret of options.secrets ?? []) {
    if (typeof secret === 'string' && secret.length >= 8) out = out.split(secret).join(SECRET_MASK);
  }
  for (const number of options.numbers ?? []) {
    const pattern = typeof number === 'string' ? knownNumberPattern(number) : undefined;
    if (pattern) out = out.replace(pattern, NUMBER_MASK);
  }
  out = out
    .replace(JWT, SECRET_MASK)
    .replace(AUTH_SCHEME, (_m, scheme: string, space: string) => `${scheme}${space}${SECRET_MASK}`)
    .replace(
      LABELLED,
      (_m, quote: string, key: string, assign: string, open: string) =>
        `${quote}${key}${quote}${assign}${open}${SECRET_MASK}`,
    )
    .replace(OPAQUE, (token) => (hasUpperLowerDigit(token) ? SECRET_MASK : token));
  return out.replace(SCAN, (match: string, kept: string | undefined) => {
    if (kept !== undefined) return match;
    return (match.match(DIGIT)?.length ?? 0) >= MIN_NUMBER_DIGITS ? NUMBER_MASK : match;
  });
}

/** Keys whose value never reaches a log: the Temporal task token. */
const DROPPED_KEYS = /^(?:base64)?task[_-]?token$/i;
const CREDENTIAL_KEY_EXACT = new RegExp(`^(?:${CREDENTIAL_KEY}|jwt|secret|ciphertext)$`, 'i');
const MAX_DEPTH = 12;

/**
 * `value` with every string redacted (see `redact`), recursively; task tokens dropped and
 * credential-named keys replaced. Plain data in, plain data out: errors keep their class (the
 * copy's prototype) with message, stack and own properties redacted; dates and functions are kept;
 * binary data becomes `[N bytes]`.
 */
export function redactValue(value: unknown, options: RedactOptions = {}): unknown {
  return redactInner(value, options, 0, new WeakMap());
}

function redactInner(
  value: unknown,
  options: RedactOptions,
  depth: number,
  seen: WeakMap<object, unknown>,
): unknown {
  switch (typeof value) {
    case 'string':
      return redact(value, options);
    case 'number':
      return Number.isFinite(value) && Math.abs(value) >= 1e9 && Number.isInteger(value)
        ? NUMBER_MASK
        : value;
    case 'bigint':
    case 'boolean':
    case 'undefined':
    case 'symbol':
    case 'function':
      return value;
  }
  if (value === null) return value;
  const object = value as object;
  if (seen.has(object)) return seen.get(object);
  if (depth >= MAX_DEPTH) return '[…]';
  if (object instanceof Date) return object;
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    return `[${object.byteLength} bytes]`;
  }
  if (Array.isArray(object)) {
    const copy: unknown[] = [];
    seen.set(object, copy);
    for (const item of object) copy.push(redactInner(item, options, depth + 1, seen));
    return copy;
  }
  if (object instanceof Map) {
    const copy: Record<string, unknown> = {};
    seen.set(object, copy);
    for (const [k, v] of object as Map<unknown, unknown>) {
      copyEntry(copy, redact(String(k), options), v, options, depth, seen);
    }
    return copy;
  }
  if (object instanceof Set) {
    const copy: unknown[] = [];
    seen.set(object, copy);
    for (const item of object as Set<unknown>) copy.push(redactInner(item, options, depth + 1, seen));
    return copy;
  }
  const isError = object instanceof Error;
  const copy: Record<string | symbol, unknown> = isError
    ? (Object.create(Object.getPrototypeOf(object) as object) as Record<string, unknown>)
    : {};
  seen.set(object, copy);
  if (isError) {
    const error = object;
    // Not enumerable on an Error: copied by hand (non-enumerable, as on the original).
    for (const key of ['name', 'message', 'stack', 'cause'] as const) {
      if (Object.prototype.hasOwnProperty.call(error, key) || key === 'message') {
        Object.defineProperty(copy, key, {
          value: redactInner(error[key], options, depth + 1, seen),
          enumerable: false,
          writable: true,
          configurable: true,
        });
      }
    }
  }
  for (const key of Reflect.ownKeys(object)) {
    if (isError && typeof key === 'string' && ['name', 'message', 'stack', 'cause'].includes(key)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(object, key);
    if (!descriptor?.enumerable) continue;
    const item = (object as Record<string | symbol, unknown>)[key];
    if (typeof key === 'symbol') {
      copy[key] = item;
      continue;
    }
    copyEntry(copy, key, item, options, depth, seen);
  }
  return copy;
}

function copyEntry(
  copy: Record<string | symbol, unknown>,
  key: string,
  item: unknown,
  options: RedactOptions,
  depth: number,
  seen: WeakMap<object, unknown>,
): void {
  if (DROPPED_KEYS.test(key)) return;
  if (CREDENTIAL_KEY_EXACT.test(key) && item !== undefined && item !== null && item !== '') {
    copy[key] = SECRET_MASK;
    return;
  }
  copy[key] = redactInner(item, options, depth + 1, seen);
}
