/**
 * Batch input: CSV with a header, or JSON lines, into BatchItems.
 *
 * Columns / fields: `msisdn` (required), `operation` or `operations` (`;`-separated),
 * `api`, `max_age` or `maxAge`, `purpose`, `ref`. Rows without an operation take `--op` (and
 * likewise `--api`, `--max-age`, `--purpose`).
 * Structural problems stop the command with exit 2 and the line number, before anything is
 * sent: no msisdn column, a line that is not JSON, no operation at all, a max_age that is not
 * written as digits, a field longer than its limit (FIELD_LIMITS: ref 256 characters), an
 * input over MAX_INPUT_BYTES or with more rows than MAX_BATCH_ITEMS. A wrong value (a number
 * that is not E.164, an unknown operation or API, maxAge out of range, a purpose Vonage does
 * not list) goes into the batch, which records it as `invalid`.
 */
import { createHmac } from 'node:crypto';
import { open } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { BatchItem } from '../domain/batch.js';
import { FIELD_LIMITS, MAX_BATCH_ITEMS, MAX_OPERATIONS_PER_ITEM } from '../domain/batch-pages.js';
import { normalizeMsisdn } from '../domain/msisdn.js';
import { NUMBER_MASK, redact } from '../domain/redact.js';
import type { Api, Operation } from '../domain/operations.js';
import { UsageError } from './errors.js';
import { readCapped } from './stdin.js';

/** The largest batch input file (or stdin) the CLI reads: 32 MiB (several hundred thousand rows). */
export const MAX_INPUT_BYTES = 32 * 1024 * 1024;

export interface InputDefaults {
  operations?: Operation[];
  api?: Api;
  maxAge?: number;
  purpose?: string;
}

export interface BatchInput {
  items: BatchItem[];
  /** The bytes read (for the derived batch id). */
  bytes: Buffer;
  format: 'csv' | 'jsonl';
  /** Things worth saying that do not stop the command (ignored columns). */
  warnings: string[];
}

type Field = 'msisdn' | 'operations' | 'api' | 'maxAge' | 'purpose' | 'ref';

const ALIASES: Record<string, Field> = {
  msisdn: 'msisdn',
  phonenumber: 'msisdn',
  number: 'msisdn',
  operation: 'operations',
  operations: 'operations',
  op: 'operations',
  api: 'api',
  maxage: 'maxAge',
  purpose: 'purpose',
  ref: 'ref',
  reference: 'ref',
};

/** `max_age`, `maxAge`, `Max Age` → `maxage`. */
function fieldOf(name: string): Field | undefined {
  return ALIASES[name.toLowerCase().replace(/[^a-z]/g, '')];
}

interface RawRow {
  line: number;
  msisdn?: unknown;
  operations?: unknown;
  api?: unknown;
  maxAge?: unknown;
  purpose?: unknown;
  ref?: unknown;
}

/** A cell or JSON field as trimmed text; undefined when absent or empty. */
function scalar(value: unknown, field: string, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UsageError(
    `${where}: ${field} must be text or a number (got ${redact(JSON.stringify(value) ?? typeof value).slice(0, 60)})`,
  );
}

/** A field longer than its limit stops the command: no request is sent with it. */
function capped(
  value: string | undefined,
  field: keyof typeof FIELD_LIMITS,
  where: string,
): string | undefined {
  const limit = FIELD_LIMITS[field];
  if (value !== undefined && value.length > limit) {
    throw new UsageError(
      `${where}: ${field} is ${value.length} characters long; at most ${limit} (shorten it, or leave it out)`,
    );
  }
  return value;
}

function toItem(row: RawRow, defaults: InputDefaults): BatchItem {
  const where = `line ${row.line}`;
  const rawNumber = scalar(row.msisdn, 'msisdn', where);
  if (rawNumber === undefined) throw new UsageError(`${where}: no msisdn`);
  const msisdn = capped(normalizeMsisdn(rawNumber) ?? rawNumber, 'msisdn', where)!;
  let operations: string[];
  if (Array.isArray(row.operations)) {
    operations = row.operations.map((o, i) => scalar(o, `operations[${i}]`, where) ?? '');
  } else {
    operations = (scalar(row.operations, 'operations', where) ?? '').split(/[;|,]/);
  }
  operations = [...new Set(operations.map((o) => o.trim()).filter((o) => o !== ''))];
  for (const operation of operations) capped(operation, 'operation', where);
  if (operations.length > MAX_OPERATIONS_PER_ITEM) {
    throw new UsageError(`${where}: ${operations.length} operations; at most ${MAX_OPERATIONS_PER_ITEM}`);
  }
  if (operations.length === 0) {
    if (!defaults.operations) {
      throw new UsageError(`${where}: no operation; add an "operation" column (or field) or pass --op`);
    }
    operations = defaults.operations;
  }
  let maxAge: number | undefined = defaults.maxAge;
  const rawMaxAge = scalar(row.maxAge, 'max_age', where);
  if (rawMaxAge !== undefined) {
    // Hours are written as digits: `1e3`, `24.5` or `-1` is a mistake to fix, not a value to check.
    if (!/^\d{1,6}$/.test(rawMaxAge)) {
      throw new UsageError(
        `${where}: max_age must be a whole number of hours written as digits (got "${redact(rawMaxAge).slice(0, 20)}")`,
      );
    }
    maxAge = Number(rawMaxAge);
  }
  const api = capped(scalar(row.api, 'api', where), 'api', where) ?? defaults.api;
  const purpose = capped(scalar(row.purpose, 'purpose', where), 'purpose', where) ?? defaults.purpose;
  const ref = capped(scalar(row.ref, 'ref', where), 'ref', where);
  return {
    msisdn,
    operations: operations as Operation[],
    ...(api !== undefined ? { api: api as Api } : {}),
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(purpose !== undefined ? { purpose } : {}),
    ...(ref !== undefined ? { ref } : {}),
  };
}

/** An input with more rows than one batch takes stops the command (exit 2) before anything is sent. */
function tooManyRows(name: string, limit: number): UsageError {
  const n = limit.toLocaleString('en-US');
  return new UsageError(
    `${name} has more than ${n} rows, the most one batch takes: split it into parts of at most ${n} rows ` +
      '(each CSV part with the header line) and run `netcheck batch` on each part',
  );
}

function parseCsv(content: string, warnings: string[], name: string, limit: number): RawRow[] {
  let header: Array<Field | undefined> = [];
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(content, {
      // The header, the rows a batch takes and one more (enough to know there are too many).
      to: limit + 2,
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (err) {
    // csv-parse quotes the field it stopped at (`value is "…"`): personal data, left out.
    const message = (err as Error).message.replace(/,?\s*value is [\s\S]*$/, '');
    throw new UsageError(`the CSV cannot be read: ${redact(message)}`);
  }
  const first = records.shift();
  if (!first) return [];
  if (records.length > limit) throw tooManyRows(name, limit);
  header = first.record.map(fieldOf);
  if (!header.includes('msisdn')) {
    // Line 1 may be a row of data (a file without a header): shown with its numbers masked.
    const shown = redact(first.record.join(',')).slice(0, 200);
    const data = shown.includes(NUMBER_MASK) || first.record.some((cell) => normalizeMsisdn(cell));
    throw new UsageError(
      `the CSV header (line 1: ${shown}) has no "msisdn" column; ` +
        (data
          ? 'line 1 looks like data: add a header line first, e.g. msisdn,operation'
          : 'expected columns: msisdn, operation(s), api, max_age, purpose, ref'),
    );
  }
  const ignored = first.record.filter((_, i) => header[i] === undefined);
  if (ignored.length > 0) warnings.push(`ignored CSV column(s): ${redact(ignored.join(', '))}`);
  return records.map(({ record, info }) => {
    const row: RawRow = { line: info.lines };
    header.forEach((field, i) => {
      if (field && record[i] !== undefined && row[field] === undefined) row[field] = record[i];
    });
    return row;
  });
}

function parseJsonLines(content: string, warnings: string[], name: string, limit: number): RawRow[] {
  const rows: RawRow[] = [];
  const ignored = new Set<string>();
  const lines = content.split(/\r?\n/);
  // One row per non-blank line: count them before parsing any.
  if (lines.reduce((n, line) => (line.trim() === '' ? n : n + 1), 0) > limit) throw tooManyRows(name, limit);
  lines.forEach((lineText, i) => {
    if (lineText.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch {
      throw new UsageError(`line ${i + 1}: not a JSON object (JSON lines input: one {"msisdn": …} per line)`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new UsageError(`line ${i + 1}: expected a JSON object like {"msisdn": "+447700900001"}`);
    }
    const row: RawRow = { line: i + 1 };
    for (const [key, v] of Object.entries(value)) {
      const field = fieldOf(key);
      if (field) row[field] ??= v;
      else ignored.add(key);
    }
    rows.push(row);
  });
  if (ignored.size > 0) warnings.push(`ignored JSON field(s): ${redact([...ignored].join(', '))}`);
  return rows;
}

function detectFormat(file: string, content: string): 'csv' | 'jsonl' {
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(jsonl|ndjson|json)$/i.test(file)) return 'jsonl';
  return content.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/** Reads `file` (or stdin for "-"), at most MAX_INPUT_BYTES, and turns it into batch items. */
export async function readBatchInput(file: string, defaults: InputDefaults): Promise<BatchInput> {
  let bytes: Buffer;
  if (file === '-') {
    bytes = await readCapped(process.stdin, MAX_INPUT_BYTES, 'stdin');
  } else {
    try {
      const handle = await open(file, 'r');
      try {
        bytes = await readCapped(handle.createReadStream({ autoClose: false }), MAX_INPUT_BYTES, file);
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return parseBatchInput(bytes, file, defaults);
}

/**
 * `batch-` + an HMAC (keyed with the subject key) of the input bytes and the defaults: running
 * the same command again attaches to the same batch, and without the key the id says nothing
 * about the numbers in the file.
 */
export function derivedBatchId(
  bytes: Buffer,
  defaults: InputDefaults,
  key: string | Uint8Array,
  mode?: 'bulk',
): string {
  const mac = createHmac('sha256', key)
    .update('netcheck/batch-id/v1\0')
    .update(bytes)
    .update('\0')
    .update(
      JSON.stringify([
        defaults.operations ?? null,
        defaults.maxAge ?? null,
        defaults.purpose ?? null,
        defaults.api ?? null,
        ...(mode ? [mode] : []),
      ]),
    )
    .digest('hex');
  return `batch-${mac.slice(0, 20)}`;
}

export function parseBatchInput(
  bytes: Buffer,
  file: string,
  defaults: InputDefaults,
  maxRows: number = MAX_BATCH_ITEMS,
): BatchInput {
  const content = bytes.toString('utf8');
  const format = detectFormat(file, content);
  const warnings: string[] = [];
  const name = file === '-' ? 'stdin' : file;
  const rows =
    format === 'csv'
      ? parseCsv(content, warnings, name, maxRows)
      : parseJsonLines(content, warnings, name, maxRows);
  if (rows.length === 0) throw new UsageError(`${name} has no rows to check`);
  const items = rows.map((row) => toItem(row, defaults));
  return { items, bytes, format, warnings };
}
