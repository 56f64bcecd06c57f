/** Standalone simulator: `npm run simulator -- --port 9090 …` (see `--help`). */
import { runSimulatorCli } from './cli.js';

runSimulatorCli(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 2;
});
