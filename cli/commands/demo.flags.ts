/** The `demo` command: its flags and help; the action (demo.ts) loads when it runs. */
import type { Command } from 'commander';
import { examples, stackOptions, type Act } from '../options.js';
import type { demoCommand } from './demo.js';

export function registerDemo(program: Command, act: Act): void {
  stackOptions(
    program
      .command('demo')
      .description(
        'Start the local stack, run a sample batch of every operation on Virtual Operator numbers, print the results and the UI link.',
      ),
  )
    .option('--keep', 'leave the stack running afterwards (Ctrl-C stops it)')
    .addHelpText(
      'after',
      examples('netcheck demo', 'netcheck demo --keep    # then open the printed UI link') +
        '\nExit 0 when every check came out as designed (including the deliberate failures), 3 when one did not.\n',
    )
    .action(
      act(async (opts: Parameters<typeof demoCommand>[0]) => {
        const { demoCommand } = await import('./demo.js');
        return demoCommand(opts);
      }),
    );
}
