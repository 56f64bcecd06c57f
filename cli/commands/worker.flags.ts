/** The `worker` and `setup` commands: their flags and help; the actions (worker.ts) load when they run. */
import { type Command, Option } from 'commander';
import { PROFILE_NAMES } from '../../domain/profiles.js';
import { examples, type Act } from '../options.js';
import * as parse from '../parse.js';
import type { workerCommand } from './worker.js';

export function registerWorker(program: Command, act: Act): void {
  program
    .command('worker')
    .description('Run a netcheck worker configured from the environment (Ctrl-C drains it and stops).')
    .option(
      '--rate <n>',
      'Vonage requests per second for the whole task queue (also NETCHECK_RATE_LIMIT)',
      (v) => parse.positiveNumber('--rate', v),
    )
    .option('--task-queue <name>', 'task queue to poll (also NETCHECK_TASK_QUEUE; default netcheck)')
    .addOption(
      new Option(
        '--profile <profile>',
        'the operator profile this worker serves: vonage or camara (also NETCHECK_PROFILE; docs/profiles.md); camara polls netcheck-camara by default',
      ).choices(PROFILE_NAMES),
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at /metrics (also NETCHECK_METRICS_PORT)',
      (v) => parse.port('--metrics-port', v),
    )
    .option('--health-port <port>', 'serve /healthz and /readyz (also NETCHECK_HEALTH_PORT)', (v) =>
      parse.port('--health-port', v),
    )
    .addHelpText(
      'after',
      examples(
        'VONAGE_APPLICATION_ID=<uuid> VONAGE_PRIVATE_KEY_PATH=./private.key netcheck worker --rate 20',
        'source .netcheck/dev/env.sh && netcheck worker    # a second worker for `netcheck dev`',
      ),
    )
    .action(
      act(async (opts: Parameters<typeof workerCommand>[0]) => {
        const { workerCommand } = await import('./worker.js');
        return workerCommand(opts);
      }),
    );
}

export function registerSetup(program: Command, act: Act): void {
  program
    .command('setup')
    .description(
      'Register netcheck search attributes (Keyword) on the configured namespace; safe to run again.',
    )
    .addHelpText(
      'after',
      examples('TEMPORAL_ADDRESS=temporal.internal:7233 TEMPORAL_NAMESPACE=fraud netcheck setup') +
        '\nRegisters NetcheckOperation, NetcheckOutcome, NetcheckErrorCode, NetcheckBatchId, NetcheckSubject, NetcheckApi, NetcheckVerdict.\n' +
        'On Temporal Cloud, create them in the namespace settings (or with tcld) if the API key may not.\n',
    )
    .action(
      act(async () => {
        const { setupCommand } = await import('./worker.js');
        return setupCommand();
      }),
    );
}
