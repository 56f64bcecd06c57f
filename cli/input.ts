/**
 * Batch input: CSV with a header, or JSON lines, into BatchItems.
 *
 * Columns / fields: `msisdn` (required), `operation` or `operations` (`;`-separated),
 * `max_age` or `maxAge`, `purpose`, `ref`. Rows without an operation take `--op`.
 * Structural problems (no msisdn column, a line that is not JSON, no operation at all) stop
 * the command with exit 2 and the line number; a wrong value (a number that is not E.164, an
 * unknown operation, maxAge out of range) goes into the batch, which records it as `invalid`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { parse } from 'csv-parse/sync';
import type { BatchItem } from '../domain/batch.js';
import { normalizeMsisdn } from '../domain/msisdn.js';
import type { Operation } from '../domain/operations.js';
import { UsageError } from './errors.js';

export interface InputDefaults {
  operations?: Operation[];
  maxAge?: number;
  purpose?: string;
}

export interface BatchInput {
  items: BatchItem[];
  /** `batch-` + a hash of the file's bytes and the defaults: the same input attaches to the same batch. */
  derivedBatchId: string;
  format: 'csv' | 'jsonl';
  /** Things worth saying that do not stop the command (ignored columns). */
  warnings: string[];
}

type Field = 'msisdn' | 'operations' | 'maxAge' | 'purpose' | 'ref';

const ALIASES: Record<string, Field> = {
  msisdn: 'msisdn',
  phonenumber: 'msisdn',
  number: 'msisdn',
  operation: 'operations',
  operations: 'operations',
  op: 'operations',
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
  maxAge?: unknown;
  purpose?: unknown;
  ref?: unknown;
}

/** A cell or JSON field as trimmed text; undefined when absent or empty. */
function scalar(value: unknown, field: string, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UsageError(`${where}: ${field} must be text or a number (got ${JSON.stringify(value)})`);
}

function toItem(row: RawRow, defaults: InputDefaults): BatchItem {
  const where = `line ${row.line}`;
  const rawNumber = scalar(row.msisdn, 'msisdn', where);
  if (rawNumber === undefined) throw new UsageError(`${where}: no msisdn`);
  let operations: string[];
  if (Array.isArray(row.operations)) {
    operations = row.operations.map((o, i) => scalar(o, `operations[${i}]`, where) ?? '');
  } else {
    operations = (scalar(row.operations, 'operations', where) ?? '').split(/[;|,]/);
  }
  operations = operations.map((o) => o.trim()).filter((o) => o !== '');
  if (operations.length === 0) {
    if (!defaults.operations) {
      throw new UsageError(`${where}: no operation; add an "operation" column (or field) or pass --op`);
    }
    operations = defaults.operations;
  }
  let maxAge: number | undefined = defaults.maxAge;
  const rawMaxAge = scalar(row.maxAge, 'max_age', where);
  if (rawMaxAge !== undefined) {
    maxAge = Number(rawMaxAge);
    if (!Number.isFinite(maxAge)) {
      throw new UsageError(`${where}: max_age must be a number of hours (got "${rawMaxAge}")`);
    }
  }
  const purpose = scalar(row.purpose, 'purpose', where) ?? defaults.purpose;
  const ref = scalar(row.ref, 'ref', where);
  return {
    msisdn: normalizeMsisdn(rawNumber) ?? rawNumber,
    operations: [...new Set(operations)] as Operation[],
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(purpose !== undefined ? { purpose } : {}),
    ...(ref !== undefined ? { ref } : {}),
  };
}

function parseCsv(content: string, warnings: string[]): RawRow[] {
  let header: Array<Field | undefined> = [];
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(content, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (err) {
    throw new UsageError(`the CSV cannot be read: ${(err as Error).message}`);
  }
  const first = records.shift();
  if (!first) return [];
  header = first.record.map(fieldOf);
  if (!header.includes('msisdn')) {
    throw new UsageError(
      `the CSV header (line 1: ${first.record.join(',')}) has no "msisdn" column; ` +
        'expected columns: msisdn, operation(s), max_age, purpose, ref',
    );
  }
  const ignored = first.record.filter((_, i) => header[i] === undefined);
  if (ignored.length > 0) warnings.push(`ignored CSV column(s): ${ignored.join(', ')}`);
  return records.map(({ record, info }) => {
    const row: RawRow = { line: info.lines };
    header.forEach((field, i) => {
      if (field && record[i] !== undefined && row[field] === undefined) row[field] = record[i];
    });
    return row;
  });
}

function parseJsonLines(content: string, warnings: string[]): RawRow[] {
  const rows: RawRow[] = [];
  const ignored = new Set<string>();
  content.split(/\r?\n/).forEach((lineText, i) => {
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
  if (ignored.size > 0) warnings.push(`ignored JSON field(s): ${[...ignored].join(', ')}`);
  return rows;
}

function detectFormat(file: string, content: string): 'csv' | 'jsonl' {
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(jsonl|ndjson|json)$/i.test(file)) return 'jsonl';
  return content.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/** Reads `file` (or stdin for "-") and turns it into batch items. */
export async function readBatchInput(file: string, defaults: InputDefaults): Promise<BatchInput> {
  let bytes: Buffer;
  if (file === '-') {
    bytes = Buffer.from(await text(process.stdin));
  } else {
    try {
      bytes = await readFile(file);
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return parseBatchInput(bytes, file, defaults);
}

export function parseBatchInput(bytes: Buffer, file: string, defaults: InputDefaults): BatchInput {
  const content = bytes.toString('utf8');
  const format = detectFormat(file, content);
  const warnings: string[] = [];
  const rows = format === 'csv' ? parseCsv(content, warnings) : parseJsonLines(content, warnings);
  if (rows.length === 0) throw new UsageError(`${file === '-' ? 'stdin' : file} has no rows to check`);
  const items = rows.map((row) => toItem(row, defaults));
  const hash = createHash('sha256')
    .update(bytes)
    .update('\0')
    .update(JSON.stringify([defaults.operations ?? null, defaults.maxAge ?? null, defaults.purpose ?? null]))
    .digest('hex');
  return { items, derivedBatchId: `batch-${hash.slice(0, 20)}`, format, warnings };
}
