/**
 * `netcheck audit export --since <time> [--until <time>] [--out audit.jsonl|audit.csv]`: one record
 * per check and assessment started in the range, from Temporal's own records (client/audit.ts).
 * Records hold the subject hash, never the number; the file is created 0600 all the same.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { AUDIT_COLUMNS, auditRow, exportAudit, type AuditRecord } from '../../client/audit.js';
import { DURATION_SYNTAX, parseDuration } from '../../domain/timeouts.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { csvCell, privateFile, resultFormat } from '../output.js';
import { jsonText } from '../terminal.js';
import { withClient } from '../temporal.js';

export interface AuditExportOptions {
  since: string;
  until?: string;
  out?: string;
  format?: string;
  taskQueue?: string;
}

/**
 * A time: ISO-8601 (`2026-12-01`, `2026-12-01T08:00:00Z`), or a duration before `now` (`24h`,
 * `7d`). `flag` names the option in the message.
 */
export function parseTime(flag: string, text: string, now: number = Date.now()): Date {
  const trimmed = text.trim();
  const ago = /^\d/.test(trimmed) && !/^\d{4}-/.test(trimmed) ? parseDuration(trimmed) : undefined;
  if (ago !== undefined) return new Date(now - ago);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? Date.parse(trimmed) : NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `${flag} must be a time (ISO-8601, e.g. 2026-12-01 or 2026-12-01T08:00:00Z) or how long ago (${DURATION_SYNTAX}) (got "${text}")`,
    );
  }
  return new Date(ms);
}

export async function auditExportCommand(options: AuditExportOptions): Promise<ExitCode> {
  const now = Date.now();
  const since = parseTime('--since', options.since, now);
  const until = options.until !== undefined ? parseTime('--until', options.until, now) : new Date(now);
  if (until <= since) {
    throw new UsageError(`--until (${until.toISOString()}) must be after --since (${since.toISOString()})`);
  }
  const format = resultFormat(options.format, options.out);
  return withClient(async ({ client, namespace }) => {
    let target: Writable;
    try {
      target = options.out ? await privateFile(options.out) : process.stdout;
    } catch (err) {
      throw new UsageError(
        `--out ${options.out}: cannot write it (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    const write = async (chunk: string) => {
      if (!target.write(chunk)) await once(target, 'drain');
    };
    const csv =
      format === 'csv'
        ? stringify({
            header: true,
            columns: [...AUDIT_COLUMNS],
            escape_formulas: true,
          })
        : undefined;
    csv?.on('data', (chunk: Buffer | string) => {
      target.write(chunk);
    });
    let count = 0;
    const byKind: Record<AuditRecord['kind'], number> = { check: 0, assessment: 0 };
    try {
      for await (const record of exportAudit(client, {
        since,
        until,
        ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
      })) {
        count++;
        byKind[record.kind]++;
        if (csv) {
          const row = Object.fromEntries(
            Object.entries(auditRow(record)).map(([key, value]) => [key, csvCell(value)]),
          );
          if (!csv.write(row)) await once(csv, 'drain');
        } else await write(`${jsonText(record)}\n`);
      }
    } finally {
      if (csv) {
        csv.end();
        await finished(csv);
        if (count === 0) target.write(`${AUDIT_COLUMNS.join(',')}\n`);
      }
      if (options.out) {
        target.end();
        await finished(target);
      }
    }
    console.error(
      `audit of namespace "${namespace}", runs started ${since.toISOString()} to ${until.toISOString()}: ` +
        `${count} records (${byKind.check} checks, ${byKind.assessment} assessments)${options.out ? ` → ${options.out}` : ''}. ` +
        "Runs older than the namespace's retention period are gone from Temporal: keep the exports.",
    );
    return EXIT.OK;
  });
}
