/**
 * The `netcheck` command line (commander): the root program, the order of its commands, and run().
 * Each command declares its flags and help beside its action, in cli/commands/<name>.flags.ts; the
 * action module loads only when the command runs, so `--help` and light commands start fast
 * (test/unit/cli-lazy.test.ts). Exit codes: see errors.ts (0 / 1 / 2 / 3).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { settingText } from '../common/settings.js';
import { registerAssess } from './commands/assess.flags.js';
import { registerAudit } from './commands/audit.flags.js';
import { registerBatch, registerResults, registerStatus } from './commands/batch.flags.js';
import { registerCheck } from './commands/check.flags.js';
import { registerCodecServer, registerKeygen } from './commands/codec-server.flags.js';
import { registerDemo } from './commands/demo.flags.js';
import { registerDev } from './commands/dev.flags.js';
import { registerFind } from './commands/find.flags.js';
import { registerSimulator } from './commands/simulator.flags.js';
import { registerSetup, registerWorker } from './commands/worker.flags.js';
import { EXIT, exitCodeOf, explainCommandError, type ExitCode } from './errors.js';
import type { Act, RegisterCommand } from './options.js';
import { printable } from './terminal.js';

function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'netcheck') return pkg.version ?? '0.0.0';
    } catch {
      // keep looking upwards
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

const ENVIRONMENT = `
Environment (commands that talk to Temporal or Vonage):
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY   the Temporal service (or a TEMPORAL_PROFILE / config file)
  VONAGE_APPLICATION_ID, VONAGE_PRIVATE_KEY_PATH (or VONAGE_PRIVATE_KEY), VONAGE_API_BASE_URL   the worker's Vonage app
  NETCHECK_TASK_QUEUE (default netcheck), NETCHECK_RATE_LIMIT (worker requests/s), NETCHECK_SUBJECT_KEY (number hashing)
  NETCHECK_METRICS_PORT, NETCHECK_HEALTH_PORT (worker endpoints), OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT (tracing)
  NETCHECK_ENCRYPTION_KEYS (or NETCHECK_ENCRYPTION_KEYS_FILE)   payload encryption keys, the same on workers and clients
  NETCHECK_API (camara | identity-insights), NETCHECK_PURPOSE (a purpose, or sim-swap=P,device-status=P)   defaults for checks that name none
  NETCHECK_POLICY (assess: the policy file), NETCHECK_CLIENT_IDENTITY (who starts the runs, as the audit export shows)

Exit codes: 0 done (every check ok) · 1 unexpected error (e.g. Temporal unreachable) ·
            2 usage or configuration error (the message says what to fix) · 3 checks finished but some failed

Quick start: netcheck demo   (a local stack, a sample batch, and a link to it in the Temporal UI)`;

export interface RunResult {
  code: ExitCode;
}

/** The commands, in the order `netcheck --help` lists them. */
const COMMANDS: readonly RegisterCommand[] = [
  registerWorker,
  registerCheck,
  registerAssess,
  registerAudit,
  registerBatch,
  registerStatus,
  registerResults,
  registerFind,
  registerSetup,
  registerCodecServer,
  registerKeygen,
  registerSimulator,
  registerDev,
  registerDemo,
];

/** Builds the program; the chosen action's exit code is stored in `result`. */
export function buildProgram(result: RunResult): Command {
  const act: Act =
    (fn) =>
    async (...args) => {
      result.code = await fn(...args);
    };

  const program = new Command('netcheck')
    .description(
      'SIM Swap and Device Status checks through Vonage Network APIs (OpenID CIBA), as durable Temporal workflows.',
    )
    .version(packageVersion())
    .exitOverride()
    // commander's own errors quote what was typed (an unknown command may be a number): masked.
    .configureOutput({ outputError: (text, write) => write(printable(text)) })
    .showHelpAfterError('(add --help for usage and examples)')
    .addHelpText('after', ENVIRONMENT);

  for (const register of COMMANDS) register(program, act);
  return program;
}

/** Every error the CLI prints goes through here: control characters out, numbers and credentials masked. */
function report(message: string): void {
  console.error(`netcheck: ${printable(message)}`);
}

/** Runs the CLI for `argv` (as process.argv) and returns the exit code; never throws. */
export async function run(argv: string[]): Promise<ExitCode> {
  const result: RunResult = { code: EXIT.OK };
  try {
    const args = argv.slice(2);
    if (args[0] === 'simulator') {
      const { simulatorCommand } = await import('./commands/simulator.js');
      return await simulatorCommand(args.slice(1));
    }
    const program = buildProgram(result);
    await program.parseAsync(argv);
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed the message (or the help / version) already.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    // A missing optional package (say @temporalio/worker for `netcheck worker`) is named, with how to install it.
    const e = explainCommandError(err, argv[2]) as Error;
    // netcheck's own errors (configuration, usage, an invalid request) say what to fix: exit 2.
    if (exitCodeOf(err) === EXIT.USAGE) {
      report(e.message);
      return EXIT.USAGE;
    }
    report(e?.message ?? String(err));
    if (settingText('NETCHECK_DEBUG') && e?.stack) console.error(printable(e.stack));
    return EXIT.ERROR;
  }
}
