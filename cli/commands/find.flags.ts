/** The `find` command: its flags and help; the action (find.ts) loads when it runs. */
import { type Command, Option } from 'commander';
import { API_NAMES, OPERATION_NAMES } from '../../domain/operations.js';
import { examples, type Act } from '../options.js';
import * as parse from '../parse.js';
import type { FindOptions } from './find.js';

export function registerFind(program: Command, act: Act): void {
  program
    .command('find')
    .description(
      "List a number's runs, found by its keyed hash (NetcheckSubject), never by the number itself.",
    )
    .argument('<msisdn>', 'the phone number, E.164; - reads it from stdin', parse.msisdnOrStdin)
    .addOption(new Option('--op <operation>', 'only this operation').choices(OPERATION_NAMES))
    .addOption(new Option('--api <api>', 'only runs over this API').choices(API_NAMES))
    .option('--limit <n>', 'most runs to list', (v) => parse.positiveInteger('--limit', v), 50)
    .option('--json', 'print the runs as JSON')
    .addHelpText(
      'after',
      examples(
        'netcheck find +99012345601',
        'netcheck find +99012345601 --op sim-swap --json',
        'printf \'%s\\n\' "$NUMBER" | netcheck find -',
      ) + '\nThe subject key is NETCHECK_SUBJECT_KEY: use the same as the client that started the checks.\n',
    )
    .action(
      act(async (msisdn: string, opts: FindOptions) => {
        const { findCommand } = await import('./find.js');
        return findCommand(msisdn, opts);
      }),
    );
}
