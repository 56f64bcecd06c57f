/**
 * The `simulator` command, for `netcheck --help`. run() (cli/program.ts) sends `netcheck simulator …`
 * to simulator.ts before commander parses: its flags are the simulator's own.
 */
import type { Command } from 'commander';

export function registerSimulator(program: Command): void {
  program
    .command('simulator')
    .description(
      'Run the Vonage-compatible simulator (CIBA + CAMARA); `netcheck simulator --help` lists its flags.',
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument(
      '[flags...]',
      'simulator flags: --port, --scenarios FILE, fault flags (see netcheck simulator --help)',
    );
}
