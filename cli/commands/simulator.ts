/** `netcheck simulator [flags]`: the Vonage-compatible simulator (simulator/cli.ts), until Ctrl-C. */
import { runSimulatorCli, SIMULATOR_USAGE } from '../../simulator/index.js';
import { settingText } from '../../common/settings.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';

export const SIMULATOR_HELP =
  SIMULATOR_USAGE.replace('Usage: npm run simulator -- [options]', 'Usage: netcheck simulator [options]') +
  `

Example:
  netcheck simulator --port 9090 --scenarios simulator/example-scenarios.json --unavailable 0.05
  # then, for a worker: VONAGE_API_BASE_URL=http://127.0.0.1:9090 and the printed app id and key`;

export async function simulatorCommand(args: string[]): Promise<ExitCode> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(SIMULATOR_HELP);
    return EXIT.OK;
  }
  // The key it generates lives where the embedded stack keeps its own (NETCHECK_STATE_DIR).
  const stateDir = settingText('NETCHECK_STATE_DIR');
  const withStateDir =
    stateDir && !args.some((a) => a === '--state-dir' || a.startsWith('--state-dir='))
      ? [...args, '--state-dir', stateDir]
      : args;
  let simulator;
  try {
    simulator = await runSimulatorCli(withStateDir, { handleSignals: false });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // parseArgs errors, bad numbers, a bad scenario file: the user's to fix.
    if (
      e.code?.startsWith('ERR_PARSE_ARGS') ||
      e.name === 'ScenarioValidationError' ||
      /^--|must be|required/.test(e.message)
    ) {
      throw new UsageError(`${e.message}\n  (netcheck simulator --help lists the flags)`);
    }
    if (e.code === 'ENOENT') throw new UsageError(`cannot read ${e.path ?? 'a file'}: no such file`);
    if (e.code === 'EADDRINUSE')
      throw new UsageError(`${e.message}: pass another --port (0 = any free port)`);
    throw err;
  }
  if (!simulator) return EXIT.OK;
  console.log('Ctrl-C stops it.');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  console.error(`${signal}: closing the simulator`);
  await simulator.close();
  return EXIT.OK;
}
