/** The `dev` command: its flags and help; the action (dev.ts) loads when it runs. */
import type { Command } from 'commander';
import { examples, stackOptions, type Act } from '../options.js';
import type { devCommand } from './dev.js';

export function registerDev(program: Command, act: Act): void {
  stackOptions(
    program
      .command('dev')
      .description(
        'Run a local stack: Temporal dev server with its Web UI, the Vonage simulator and a worker, until Ctrl-C.',
      ),
  )
    .option('--scenarios <file>', 'simulator scenario file (numbers, faults; see simulator/README.md)')
    .addHelpText(
      'after',
      examples(
        'netcheck dev',
        'netcheck dev --port 7244 --ui-port 8244 --scenarios simulator/example-scenarios.json',
      ) + '\nState (runs, the test key) stays in --state-dir, so a restart keeps earlier runs.\n',
    )
    .action(
      act(async (opts: Parameters<typeof devCommand>[0]) => {
        const { devCommand } = await import('./dev.js');
        return devCommand(opts);
      }),
    );
}
