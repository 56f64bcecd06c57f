/**
 * What the CLI writes to a terminal. Provider-controlled strings (error messages, carrier and
 * country names, anything a check returns) may carry control characters: an ANSI escape sequence
 * can recolour, move the cursor, rewrite earlier lines, set the window title or (OSC 8) fake a
 * link; a carriage return overwrites the line; bidirectional overrides reorder what is shown.
 * So:
 * - `terminalText` removes escape sequences (ESC and 8-bit CSI/OSC), C0 and C1 control
 *   characters, DEL and bidirectional formatting characters; tab and newline are kept only
 *   where several lines are meant (`multiline`), else they become spaces;
 * - `jsonText` is JSON.stringify whose output escapes the same characters as `\uXXXX` (JSON
 *   already escapes C0): the data stays exact, the terminal stays safe;
 * - `printable` is an error message as the CLI prints it: `terminalText` (multiline), then
 *   netcheck's redaction (domain/redact.ts): no phone number, token, JWT or auth_req_id reaches
 *   stderr, whatever the error quotes (a rejected number, a CSV row, a provider message).
 */
import { redact } from '../domain/redact.js';

/* eslint-disable no-control-regex */
/** ANSI / VT escape sequences: CSI, OSC (to BEL or ST), DCS/SOS/PM/APC strings, two-byte escapes; 8-bit CSI and OSC. */
const ESCAPES =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[PX^_][^\u001b\u009c]*(?:\u001b\\|\u009c)?|\u001b[ -/]*[0-~]?|\u009b[0-?]*[ -/]*[@-~]?|\u009d[^\u0007\u009c]*[\u0007\u009c]?/g;
/** Control characters other than tab and newline, DEL, C1, and bidirectional formatting characters. */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */
const LINE_BREAKS = /\r\n|[\t\n\v\f\r\u0085\u2028\u2029]/g;
/** Characters jsonText escapes (JSON.stringify leaves them raw). */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` without escape sequences and control characters (see above). */
export function terminalText(text: string, options: { multiline?: boolean } = {}): string {
  const stripped = text.replace(ESCAPES, '');
  if (options.multiline) return stripped.replace(/\r\n?/g, '\n').replace(CONTROLS, '');
  return stripped.replace(LINE_BREAKS, ' ').replace(CONTROLS, '');
}

/** JSON text that is safe on a terminal and parses back to the same value. */
export function jsonText(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(
    JSON_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** An error message as the CLI prints it: control characters out, numbers and credentials masked. */
export function printable(message: string): string {
  return redact(terminalText(message, { multiline: true }));
}
