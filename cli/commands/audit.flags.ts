/** The `audit` command and `audit export`: their flags and help; the action (audit.ts) loads when it runs. */
import type { Command } from 'commander';
import { examples, type Act } from '../options.js';
import type { AuditExportOptions } from './audit.js';

export function registerAudit(program: Command, act: Act): void {
  const audit = program
    .command('audit')
    .description("The audit trail of checks and assessments, from Temporal's own records.");
  audit
    .command('export')
    .description(
      'One record per check and assessment started in a time range: when, subject hash (never the number), operations, API, purpose, correlation id, outcome, verdict, policy version, who started it.',
    )
    .requiredOption(
      '--since <time>',
      'runs started at or after this time: ISO-8601 (2026-12-01, 2026-12-01T08:00:00Z) or how long ago (24h, 7d)',
    )
    .option('--until <time>', 'runs started before this time (default now)')
    .option('--out <file>', 'write to a .jsonl or .csv file (created 0600; default: JSON lines on stdout)')
    .option('--format <format>', 'jsonl or csv (default: from --out, else jsonl)')
    .option('--task-queue <name>', 'only runs of this task queue')
    .addHelpText(
      'after',
      examples(
        'netcheck audit export --since 2026-12-01 --until 2026-12-08 --out audit.csv',
        'NETCHECK_CLIENT_IDENTITY=fraud-ops netcheck assess +990123400   # who started it, as the export shows',
        'netcheck audit export --since 24h > audit.jsonl',
      ) +
        "\nWhat Temporal still holds: the namespace's retention period. Keep the exports to keep the trail longer.\n",
    )
    .action(
      act(async (opts: AuditExportOptions) => {
        const { auditExportCommand } = await import('./audit.js');
        return auditExportCommand(opts);
      }),
    );
}
