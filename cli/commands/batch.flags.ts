/**
 * The `batch`, `status` and `results` commands: their flags and help; the actions (batch.ts, and
 * assess.ts for `batch --assess`) load when they run.
 */
import type { Command } from 'commander';
import { apiOption, examples, OPS, profileOption, purposeOption, type Act } from '../options.js';
import * as parse from '../parse.js';
import type { BatchCommandOptions, resultsCommand, statusCommand } from './batch.js';

export function registerBatch(program: Command, act: Act): void {
  program
    .command('batch')
    .description(
      'Check every row of a CSV or JSON-lines file (or - for stdin) as one durable batch; stream the results.',
    )
    .argument(
      '<file>',
      'CSV with a header (msisdn, operation(s), api, max_age, purpose, ref) or JSON lines with the same fields; - = stdin (at most 32 MiB)',
    )
    .option('--op <operations>', `default operation(s) for rows without one, comma-separated: ${OPS}`, (v) =>
      parse.operations('--op', v),
    )
    .addOption(apiOption('default API for rows without one'))
    .option('--max-age <hours>', 'default sim-swap window for rows without max_age (whole hours)', (v) =>
      parse.maxAge('--max-age', v),
    )
    .addOption(purposeOption('default purpose for rows without one'))
    .option(
      '--batch-id <id>',
      'batch id (default: derived from a hash of the input and the defaults, so a re-run attaches)',
    )
    .option('--concurrency <n>', 'most checks in flight at once (default 100)', (v) =>
      parse.positiveInteger('--concurrency', v),
    )
    .option(
      '--bulk',
      'bulk mode for large screening runs: chunks of checks run inside long-running activities, no workflow per check (docs/bulk.md)',
    )
    .option('--chunk-size <n>', 'with --bulk: checks per chunk activity, 1-500 (default 200)', (v) =>
      parse.positiveInteger('--chunk-size', v),
    )
    .option('--chunk-concurrency <n>', 'with --bulk: chunk activities at once, 1-100 (default 4)', (v) =>
      parse.positiveInteger('--chunk-concurrency', v),
    )
    .option(
      '--rate <R>',
      'with --bulk: requests per second to Vonage for the whole batch, across all workers (default: none)',
      (v) => parse.positiveNumber('--rate', v),
    )
    .option(
      '--assess',
      'assess each number instead (one verdict record per number, rows need no operation; docs/assess.md)',
    )
    .option('--policy <file>', 'with --assess: the policy (default NETCHECK_POLICY, else the built-in)')
    .option('--out <file>', 'write results to a .jsonl or .csv file (default: JSON lines on stdout)')
    .option('--format <format>', 'jsonl or csv (default: from --out, else jsonl)')
    .option('--no-wait', 'start the batch, print its id and return')
    .option('--task-queue <name>', 'task queue of the workers (also NETCHECK_TASK_QUEUE)')
    .addOption(profileOption('the operator profile whose workers run it (sets the default task queue)'))
    .addHelpText(
      'after',
      examples(
        'netcheck batch numbers.csv --op sim-swap --api identity-insights --max-age 48 --out results.csv',
        'printf \'{"msisdn":"+990123400","operations":"sim-swap;sim-swap-date","api":"identity-insights"}\\n\' | netcheck batch - > results.jsonl',
        'netcheck batch numbers.csv --op sim-swap,device-roaming --api identity-insights --purpose sim-swap=FraudPreventionAndDetection,device-status=NotApplicable',
        'netcheck batch numbers.csv --op device-roaming --no-wait',
        'netcheck batch numbers.csv --op sim-swap,carrier --api identity-insights --out results.csv',
        'netcheck batch customers.csv --op sim-swap --api identity-insights --bulk --rate 50 --out results.csv',
        'netcheck batch customers.csv --assess --policy strict.yaml --out verdicts.csv',
      ) +
        '\nThe request rate is a worker setting: `netcheck worker --rate R` (or NETCHECK_RATE_LIMIT);\n' +
        'a --bulk batch also holds its own --rate across all workers.\n' +
        "Result files are created readable by you only (0600); in CSV, cells starting with = + - @ (also after spaces) get a leading '.\n",
    )
    .action(
      act(async (file: string, opts: BatchCommandOptions) => {
        if (opts.assess) {
          // One verdict record per number (cli/commands/assess.ts).
          const { assessBatchCommand } = await import('./assess.js');
          return assessBatchCommand(file, opts);
        }
        const { batchCommand } = await import('./batch.js');
        return batchCommand(file, opts);
      }),
    );
}

export function registerStatus(program: Command, act: Act): void {
  program
    .command('status')
    .description(
      "Show a batch's progress: done/total, outcomes, error codes (exit 3 when it finished with failures).",
    )
    .argument('<batch-id>', 'the id printed by `netcheck batch`')
    .option('--json', 'print the progress as JSON')
    .addHelpText('after', examples('netcheck status batch-3f2a9c1e0b7d4a6f8e21'))
    .action(
      act(async (batchId: string, opts: Parameters<typeof statusCommand>[1]) => {
        const { statusCommand } = await import('./batch.js');
        return statusCommand(batchId, opts);
      }),
    );
}

export function registerResults(program: Command, act: Act): void {
  program
    .command('results')
    .description('Print every result record of a batch (waits for a running batch to finish).')
    .argument('<batch-id>', 'the id printed by `netcheck batch`')
    .option('--format <format>', 'jsonl or csv (default jsonl, or from --out)')
    .option('--out <file>', 'write to a .jsonl or .csv file instead of stdout')
    .addHelpText('after', examples('netcheck results batch-3f2a9c1e0b7d4a6f8e21 --format csv > results.csv'))
    .action(
      act(async (batchId: string, opts: Parameters<typeof resultsCommand>[1]) => {
        const { resultsCommand } = await import('./batch.js');
        return resultsCommand(batchId, opts);
      }),
    );
}
