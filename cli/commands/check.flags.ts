/** The `check` command: its flags and help; the action (check.ts) loads when it runs. */
import { type Command, Option } from 'commander';
import { OPERATION_NAMES } from '../../domain/operations.js';
import { apiOption, examples, profileOption, purposeOption, type Act } from '../options.js';
import * as parse from '../parse.js';
import type { CheckCommandOptions } from './check.js';

export function registerCheck(program: Command, act: Act): void {
  program
    .command('check')
    .description('Run one check and wait for its result.')
    .argument(
      '<msisdn>',
      'the phone number, E.164 (e.g. +447700900001); - reads it from stdin (kept out of argv and shell history)',
      parse.msisdnOrStdin,
    )
    .addOption(
      new Option('--op <operation>', 'the check to run').choices(OPERATION_NAMES).makeOptionMandatory(),
    )
    .addOption(apiOption('the Vonage API that answers'))
    .option('--max-age <hours>', 'sim-swap: the window in whole hours, 1-2400 (default 240)', (v) =>
      parse.maxAge('--max-age', v),
    )
    .addOption(purposeOption('the DPV purpose'))
    .option('--task-queue <name>', 'task queue of the workers (also NETCHECK_TASK_QUEUE)')
    .addOption(
      profileOption(
        'the operator profile whose workers run it (sets the default task queue, netcheck-camara for camara)',
      ),
    )
    .option(
      '--request-id <id>',
      'idempotency key: the same id attaches to the same check instead of checking twice',
    )
    .option('--json', 'print the CheckResult as JSON')
    .addHelpText(
      'after',
      examples(
        'netcheck check +990123400 --op sim-swap --api identity-insights --max-age 24   # SIM swap at Vonage: Identity Insights',
        "netcheck check +99012345622 --op device-roaming --json   # Device Status over CIBA: Vonage's Playground",
        'netcheck check +447700900001 --op carrier',
        'printf \'%s\\n\' "$NUMBER" | netcheck check - --op sim-swap --api identity-insights    # the number via stdin',
      ),
    )
    .action(
      act(async (msisdn: string, opts: CheckCommandOptions) => {
        const { checkCommand } = await import('./check.js');
        return checkCommand(msisdn, opts);
      }),
    );
}
