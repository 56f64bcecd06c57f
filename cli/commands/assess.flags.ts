/** The `assess` command: its flags and help; the action (assess.ts) loads when it runs. */
import { type Command, Option } from 'commander';
import { API_NAMES } from '../../domain/operations.js';
import { examples, profileOption, purposeOption, type Act } from '../options.js';
import * as parse from '../parse.js';
import type { AssessCommandOptions } from './assess.js';

export function registerAssess(program: Command, act: Act): void {
  program
    .command('assess')
    .description(
      'One risk verdict (allow, review, block) from the network signals a policy needs, with its evidence.',
    )
    .argument(
      '<msisdn>',
      'the phone number, E.164; - reads it from stdin (kept out of argv and shell history)',
      parse.msisdnOrStdin,
    )
    .option(
      '--policy <file>',
      "the policy, JSON or YAML (default NETCHECK_POLICY, else netcheck's built-in: docs/assess.md)",
    )
    .addOption(
      new Option(
        '--api <api>',
        'how the signals are gathered: identity-insights (one request) or camara (a CIBA check per signal, in parallel); default NETCHECK_API, else identity-insights',
      ).choices(API_NAMES),
    )
    .addOption(purposeOption('the DPV purpose'))
    .addOption(
      profileOption(
        'the operator profile whose workers run it (its default task queue; camara: the camara road, no carrier signal)',
      ),
    )
    .addOption(
      new Option('--fail-on <verdict>', 'exit 3 when the verdict is this or worse').choices([
        'review',
        'block',
      ]),
    )
    .option('--task-queue <name>', 'task queue of the workers (also NETCHECK_TASK_QUEUE)')
    .option(
      '--request-id <id>',
      'idempotency key: the same id attaches to the same assessment instead of assessing twice',
    )
    .option('--json', 'print the result (verdict, reasons, evidence, unknown, policyVersion) as JSON')
    .addHelpText(
      'after',
      examples(
        'netcheck assess +990123400',
        'netcheck assess +990123400 --policy strict.yaml --fail-on review --json',
        'netcheck assess +99012345622 --api camara    # CIBA: one check per signal, in parallel',
        'printf \'%s\\n\' "$NUMBER" | netcheck assess - --fail-on block',
      ) +
        '\nExit 0 when a verdict was reached (whatever it is), 3 when --fail-on matches or no verdict was\n' +
        'reached, 2 for a usage or policy error (the message names the line; nothing is started).\n',
    )
    .action(
      act(async (msisdn: string, opts: AssessCommandOptions) => {
        const { assessCommand } = await import('./assess.js');
        return assessCommand(msisdn, opts);
      }),
    );
}
