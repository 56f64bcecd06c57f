/**
 * How the CLI shows check results and batch records: one readable line, a table, JSONL or CSV.
 * Result files hold personal data: they are created readable by their owner only (0600). CSV
 * cells that a spreadsheet would run as a formula get a leading apostrophe, so `+447700900001`
 * reads as the text `'+447700900001`: a cell starting with =, +, -, @ (or their fullwidth forms
 * ＝ ＋ － ＠), also after leading spaces, tabs or line breaks, and one starting with a tab or CR.
 * Provider-controlled text never reaches a terminal raw (cli/terminal.ts): lines, tables and CSV
 * cells lose escape sequences and control characters; JSON escapes them.
 */
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { BatchRecord } from '../domain/batch.js';
import type { CarrierData, CarrierNetwork, CheckData, CheckResult } from '../domain/types.js';
import { UsageError } from './errors.js';
import { jsonText, terminalText } from './terminal.js';
import { ASSESS_OPERATION } from '../domain/assess.js';
import { ASSESS_CSV_COLUMNS, assessRecordRow } from './assess-output.js';

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
    case 'carrier': {
      if (!('valid' in data)) return '';
      if (!data.valid) return 'not a valid number';
      const network = data.currentCarrier ?? data.originalCarrier;
      const parts = [
        `valid${data.countryCode ? ` (${data.countryCode})` : ''}`,
        ...(network?.name
          ? [`${network.name}${network.networkType ? ` ${network.networkType.toLowerCase()}` : ''}`]
          : []),
        ...(data.ported === true ? ['ported'] : data.ported === false ? ['not ported'] : []),
      ];
      return parts.join(', ');
    }
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

/**
 * `+44*******001 sim-swap: ok — no SIM swap within maxAge (1 authorization, 1 poll, 2.1 s)`;
 * over Identity Insights `(identity-insights, 0.4 s)`.
 */
export function checkLine(who: string, result: CheckResult): string {
  return terminalText(checkLineText(who, result));
}

function checkLineText(who: string, result: CheckResult): string {
  const stats =
    result.api === 'identity-insights'
      ? `identity-insights, ${seconds(result)}`
      : `${plural(result.authorizations, 'authorization')}, ${plural(result.polls, 'poll')}, ${seconds(result)}`;
  if (result.status === 'ok') {
    const missing = result.missing?.length ? `; not given: ${result.missing.join(', ')}` : '';
    return `${who} ${result.operation}: ok — ${describeData(result.operation, result.data)}${missing} (${stats})`;
  }
  return `${who} ${result.operation}: FAILED ${result.error?.code ?? '?'} — ${result.error?.message ?? ''} (${stats})`;
}

/** Short text for a table cell: the data for `ok`, the code for anything else. */
export function recordSummary(record: BatchRecord): string {
  if (record.outcome === 'ok') return terminalText(describeData(record.operation, record.result?.data));
  return terminalText(record.error?.code ?? record.result?.error?.code ?? record.outcome);
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
  'api',
  'request_id',
  'missing',
  'number_valid',
  'number_country',
  'original_carrier',
  'current_carrier',
  'current_network_type',
  'ported',
] as const;

type Row = Record<(typeof CSV_COLUMNS)[number], string | number | boolean | undefined>;

/** One flat CSV row per record; `msisdn` comes from the input file (records carry no number). */
export function recordRow(record: BatchRecord, msisdn?: string): Row {
  const result = record.result;
  const data = (result?.data ?? {}) as Record<string, unknown>;
  const error = record.error ?? result?.error;
  const carrier = record.operation === 'carrier' ? (data as Partial<CarrierData>) : {};
  const network = (n: CarrierNetwork | undefined) =>
    n ? [n.name, n.networkCode].filter(Boolean).join(' ') : undefined;
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
    country_code: record.operation === 'carrier' ? undefined : (data.countryCode as number | undefined),
    country_name: Array.isArray(data.countryName) ? data.countryName.join(';') : undefined,
    polls: result?.polls,
    authorizations: result?.authorizations,
    correlation_id: result?.correlationId,
    duplicate_of: record.duplicateOf,
    started: result?.timestamps.started,
    finished: result?.timestamps.finished,
    api: result?.api,
    request_id: result?.requestId,
    missing: result?.status === 'ok' && result.missing?.length ? result.missing.join(';') : undefined,
    number_valid: carrier.valid,
    number_country: carrier.countryCode,
    original_carrier: network(carrier.originalCarrier),
    current_carrier: network(carrier.currentCarrier),
    current_network_type: carrier.currentCarrier?.networkType,
    ported: carrier.ported,
  };
}

/** The record as one JSON line, with the input's number beside the index when known. */
export function recordJson(record: BatchRecord, msisdn?: string): string {
  const { index, ref, ...rest } = record;
  return jsonText({
    index,
    ...(ref !== undefined ? { ref } : {}),
    ...(msisdn ? { msisdn } : {}),
    ...rest,
  });
}

/** A leading formula character (ASCII or fullwidth), perhaps after whitespace. */
const FORMULA_START = /^\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * A CSV cell that is safe to open and to print: text without escape sequences or control
 * characters (tabs and line breaks stay, quoted), and with a leading apostrophe where a
 * spreadsheet would see a formula (csv-stringify's escape_formulas then covers a leading tab or CR).
 */
export function csvCell<T>(value: T): T | string {
  if (typeof value !== 'string') return value;
  const text = terminalText(value, { multiline: true });
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function csvRow<R extends Record<string, unknown>>(row: R): R {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, csvCell(value)])) as R;
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

/**
 * Opens `file` for writing, readable and writable by its owner only (0600), also when it
 * existed before with wider permissions.
 */
export async function privateFile(file: string): Promise<Writable> {
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.chmod(0o600);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle.createWriteStream();
}

/** Writes records as they arrive, to a file (created 0600) or to stdout. */
/**
 * `kind`: the CSV columns — a check batch's (CSV_COLUMNS) or an assessment batch's
 * (ASSESS_CSV_COLUMNS); by default the first record decides (an assessment's operation is `assess`).
 */
export async function recordWriter(
  format: ResultFormat,
  out: string | undefined,
  kind?: 'check' | 'assess',
): Promise<RecordWriter> {
  let target: Writable;
  try {
    target = out ? await privateFile(out) : process.stdout;
  } catch (err) {
    throw new UsageError(
      `--out ${out}: cannot write it (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
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
  let assess = kind === 'assess';
  const columns = () => (assess ? ASSESS_CSV_COLUMNS : CSV_COLUMNS);
  let csv: ReturnType<typeof stringify> | undefined;
  const open = () => {
    const stringifier = stringify({
      header: true,
      columns: [...columns()],
      // Behind csvCell: a cell starting with =, +, -, @ (ASCII or fullwidth), tab or CR gets a
      // leading apostrophe: a spreadsheet shows it as text and runs nothing.
      escape_formulas: true,
      cast: { boolean: (value) => (value ? 'true' : 'false') },
    });
    stringifier.on('data', (chunk: Buffer | string) => {
      target.write(chunk);
    });
    return stringifier;
  };
  return {
    write: async (record, msisdn) => {
      if (!csv) {
        if (kind === undefined) assess = record.operation === ASSESS_OPERATION;
        csv = open();
      }
      const row = assess ? assessRecordRow(record, msisdn) : recordRow(record, msisdn);
      if (!csv.write(csvRow(row))) await once(csv, 'drain');
    },
    close: async () => {
      // An empty result still gets its header line.
      if (!csv) target.write(`${columns().join(',')}\n`);
      else {
        csv.end();
        await finished(csv);
      }
      if (ownsTarget) {
        target.end();
        await finished(target);
      }
    },
  };
}

/** A plain text table (no colours: it is read in logs too). */
export function table(headers: string[], rawRows: string[][]): string {
  const rows = rawRows.map((row) => row.map((cell) => terminalText(cell)));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
