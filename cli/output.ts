/** How the CLI shows check results and batch records: one readable line, a table, JSONL or CSV. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { BatchRecord } from '../domain/batch.js';
import type { CheckData, CheckResult } from '../domain/types.js';
import { UsageError } from './errors.js';

/** What the data of an `ok` check says, in a few words. */
export function describeData(operation: string, data: CheckData | undefined): string {
  if (!data) return '';
  switch (operation) {
    case 'sim-swap':
      return 'swapped' in data
        ? data.swapped
          ? 'SIM swapped within maxAge'
          : 'no SIM swap within maxAge'
        : '';
    case 'sim-swap-date':
      return 'latestSimChange' in data && data.latestSimChange
        ? `latest SIM change ${data.latestSimChange}`
        : 'no SIM change known';
    case 'device-connectivity':
      return 'connectivityStatus' in data ? data.connectivityStatus : '';
    case 'device-roaming':
      if (!('roaming' in data)) return '';
      if (!data.roaming) return 'not roaming';
      return `roaming${data.countryCode !== undefined ? ` in ${data.countryCode}` : ''}${
        data.countryName && data.countryName.length > 0 ? ` (${data.countryName.join(', ')})` : ''
      }`;
    default:
      return JSON.stringify(data);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function seconds(result: CheckResult): string {
  const ms = Date.parse(result.timestamps.finished) - Date.parse(result.timestamps.started);
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '';
}

/** `+44*******001 sim-swap: ok — no SIM swap within maxAge (1 authorization, 1 poll, 2.1 s)` */
export function checkLine(who: string, result: CheckResult): string {
  const stats = `${plural(result.authorizations, 'authorization')}, ${plural(result.polls, 'poll')}, ${seconds(result)}`;
  if (result.status === 'ok') {
    return `${who} ${result.operation}: ok — ${describeData(result.operation, result.data)} (${stats})`;
  }
  return `${who} ${result.operation}: FAILED ${result.error?.code ?? '?'} — ${result.error?.message ?? ''} (${stats})`;
}

/** Short text for a table cell: the data for `ok`, the code for anything else. */
export function recordSummary(record: BatchRecord): string {
  if (record.outcome === 'ok') return describeData(record.operation, record.result?.data);
  return record.error?.code ?? record.result?.error?.code ?? record.outcome;
}

export const CSV_COLUMNS = [
  'index',
  'ref',
  'msisdn',
  'operation',
  'outcome',
  'error_code',
  'error_message',
  'swapped',
  'latest_sim_change',
  'connectivity_status',
  'roaming',
  'country_code',
  'country_name',
  'polls',
  'authorizations',
  'correlation_id',
  'duplicate_of',
  'started',
  'finished',
] as const;

type Row = Record<(typeof CSV_COLUMNS)[number], string | number | boolean | undefined>;

/** One flat CSV row per record; `msisdn` comes from the input file (records carry no number). */
export function recordRow(record: BatchRecord, msisdn?: string): Row {
  const result = record.result;
  const data = (result?.data ?? {}) as Record<string, unknown>;
  const error = record.error ?? result?.error;
  return {
    index: record.index,
    ref: record.ref,
    msisdn,
    operation: record.operation,
    outcome: record.outcome,
    error_code: error?.code,
    error_message: error?.message,
    swapped: data.swapped as boolean | undefined,
    latest_sim_change: data.latestSimChange as string | undefined,
    connectivity_status: data.connectivityStatus as string | undefined,
    roaming: data.roaming as boolean | undefined,
    country_code: data.countryCode as number | undefined,
    country_name: Array.isArray(data.countryName) ? data.countryName.join(';') : undefined,
    polls: result?.polls,
    authorizations: result?.authorizations,
    correlation_id: result?.correlationId,
    duplicate_of: record.duplicateOf,
    started: result?.timestamps.started,
    finished: result?.timestamps.finished,
  };
}

/** The record as one JSON line, with the input's number beside the index when known. */
export function recordJson(record: BatchRecord, msisdn?: string): string {
  const { index, ref, ...rest } = record;
  return JSON.stringify({
    index,
    ...(ref !== undefined ? { ref } : {}),
    ...(msisdn ? { msisdn } : {}),
    ...rest,
  });
}

export type ResultFormat = 'jsonl' | 'csv';

/** --format wins; else the extension of --out (.csv → CSV); else JSONL. */
export function resultFormat(format: string | undefined, out: string | undefined): ResultFormat {
  if (format !== undefined) {
    if (format === 'jsonl' || format === 'csv') return format;
    throw new UsageError(`--format must be jsonl or csv (got "${format}")`);
  }
  if (out && /\.csv$/i.test(out)) return 'csv';
  if (out && !/\.(jsonl|ndjson|json)$/i.test(out)) {
    throw new UsageError(`--out ${out}: name a .jsonl or .csv file (or pass --format jsonl|csv)`);
  }
  return 'jsonl';
}

export interface RecordWriter {
  write(record: BatchRecord, msisdn?: string): Promise<void>;
  /** Flushes and closes the file (leaves stdout open). */
  close(): Promise<void>;
}

/** Writes records as they arrive, to a file or to stdout. */
export function recordWriter(format: ResultFormat, out: string | undefined): RecordWriter {
  const target: Writable = out ? createWriteStream(out) : process.stdout;
  const ownsTarget = out !== undefined;
  const write = async (chunk: string) => {
    if (!target.write(chunk)) await once(target, 'drain');
  };
  if (format === 'jsonl') {
    return {
      write: (record, msisdn) => write(`${recordJson(record, msisdn)}\n`),
      close: async () => {
        if (ownsTarget) {
          target.end();
          await finished(target);
        }
      },
    };
  }
  const csv = stringify({
    header: true,
    columns: [...CSV_COLUMNS],
    cast: { boolean: (value) => (value ? 'true' : 'false') },
  });
  csv.on('data', (chunk: Buffer | string) => {
    target.write(chunk);
  });
  let wroteAny = false;
  return {
    write: async (record, msisdn) => {
      wroteAny = true;
      if (!csv.write(recordRow(record, msisdn))) await once(csv, 'drain');
    },
    close: async () => {
      // An empty result still gets its header line.
      if (!wroteAny) target.write(`${CSV_COLUMNS.join(',')}\n`);
      csv.end();
      await finished(csv);
      if (ownsTarget) {
        target.end();
        await finished(target);
      }
    },
  };
}

/** A plain text table (no colours: it is read in logs too). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
