/**
 * The `netcheck` command line (commander). Each command's module is loaded only when it runs,
 * so `--help` and light commands start fast. Exit codes: see errors.ts (0 / 1 / 2 / 3).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import {
  API_NAMES,
  formatPurposeSetting,
  OPERATION_NAMES,
  parsePurposeSetting,
  PURPOSE_FAMILIES,
  PURPOSES,
  type Api,
  type Operation,
} from '../domain/operations.js';
import { settingText } from '../common/settings.js';
import { PROFILE_NAMES, type Profile } from '../domain/profiles.js';
import { EXIT, exitCodeOf, explainCommandError, UsageError, type ExitCode } from './errors.js';
import * as parse from './parse.js';
import { printable } from './terminal.js';
import { stateDirDefault } from './stack/paths.js';

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

const OPS = OPERATION_NAMES.join('|');

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

function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

type Action<A extends unknown[]> = (...args: A) => Promise<ExitCode>;

export interface RunResult {
  code: ExitCode;
}

/** Builds the program; the chosen action's exit code is stored in `result`. */
export function buildProgram(result: RunResult): Command {
  const act =
    <A extends unknown[]>(fn: Action<A>) =>
    async (...args: A) => {
      result.code = await fn(...args);
    };
  const stateDirOption = () =>
    new Option('--state-dir <dir>', 'where the stack keeps its database, log and test key').default(
      stateDirDefault(),
    );
  const stackOptions = (cmd: Command) =>
    cmd
      .option('--port <port>', 'Temporal frontend port (default 7233, or a free one if busy; 0 = any)', (v) =>
        parse.port('--port', v),
      )
      .option(
        '--ui-port <port>',
        'Temporal Web UI port (default 8233, or a free one if busy; 0 = any)',
        (v) => parse.port('--ui-port', v),
      )
      .option(
        '--simulator-port <port>',
        'Vonage simulator port (default 9090, or a free one if busy; 0 = any)',
        (v) => parse.port('--simulator-port', v),
      )
      .option('--rate <n>', "the embedded worker's Vonage requests per second", (v) =>
        parse.positiveNumber('--rate', v),
      )
      .addOption(stateDirOption());

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
      act(
        async (opts: {
          rate?: number;
          taskQueue?: string;
          metricsPort?: number;
          healthPort?: number;
          profile?: Profile;
        }) => {
          const { workerCommand } = await import('./commands/worker.js');
          return workerCommand(opts);
        },
      ),
    );

  const apiOption = (what: string) =>
    new Option(
      '--api <api>',
      `${what}: camara (the CIBA flow) or identity-insights (default NETCHECK_API, else camara; carrier: identity-insights)`,
    ).choices(API_NAMES);
  const purposeOption = (what: string) =>
    new Option(
      '--purpose <purpose>',
      `${what}: the purpose your Vonage application is registered with, one of ${PURPOSES.join(', ')}, applied to each API family that accepts it; or one per family, ${PURPOSE_FAMILIES.map((f) => `${f}=<purpose>`).join(',')} (default NETCHECK_PURPOSE, else Vonage's per operation)`,
    ).argParser((v) => {
      const parsed = parsePurposeSetting(v, '--purpose');
      if (parsed.problem !== undefined) throw new UsageError(parsed.problem);
      return formatPurposeSetting(parsed.setting);
    });

  const profileOption = (what: string) =>
    new Option(
      '--profile <profile>',
      `${what}: vonage, or camara for any operator on the current CAMARA releases (also NETCHECK_PROFILE; default vonage; docs/profiles.md)`,
    ).choices(PROFILE_NAMES);

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
      act(
        async (
          msisdn: string,
          opts: {
            op: Operation;
            api?: Api;
            maxAge?: number;
            purpose?: string;
            taskQueue?: string;
            requestId?: string;
            json?: boolean;
            profile?: Profile;
          },
        ) => {
          const { checkCommand } = await import('./commands/check.js');
          return checkCommand(msisdn, opts);
        },
      ),
    );

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
      act(async (msisdn: string, opts: import('./commands/assess.js').AssessCommandOptions) => {
        const { assessCommand } = await import('./commands/assess.js');
        return assessCommand(msisdn, opts);
      }),
    );

  const audit = program
    .command('audit')
    .description("The audit trail of checks and assessments, from Temporal's own records.");
  audit
    .command('export')
    .description(
      'One record per check and assessment started in a time range: when, subject hash (never the number), operations, API, purpose, correlation id, outcome, verdict, policy version, who started it.',
    )
    .requiredOption(
      '--since <time>',
      'runs started at or after this time: ISO-8601 (2026-12-01, 2026-12-01T08:00:00Z) or how long ago (24h, 7d)',
    )
    .option('--until <time>', 'runs started before this time (default now)')
    .option('--out <file>', 'write to a .jsonl or .csv file (created 0600; default: JSON lines on stdout)')
    .option('--format <format>', 'jsonl or csv (default: from --out, else jsonl)')
    .option('--task-queue <name>', 'only runs of this task queue')
    .addHelpText(
      'after',
      examples(
        'netcheck audit export --since 2026-12-01 --until 2026-12-08 --out audit.csv',
        'NETCHECK_CLIENT_IDENTITY=fraud-ops netcheck assess +990123400   # who started it, as the export shows',
        'netcheck audit export --since 24h > audit.jsonl',
      ) +
        "\nWhat Temporal still holds: the namespace's retention period. Keep the exports to keep the trail longer.\n",
    )
    .action(
      act(async (opts: import('./commands/audit.js').AuditExportOptions) => {
        const { auditExportCommand } = await import('./commands/audit.js');
        return auditExportCommand(opts);
      }),
    );

  program
    .command('batch')
    .description(
      'Check every row of a CSV or JSON-lines file (or - for stdin) as one durable batch; stream the results.',
    )
    .argument(
      '<file>',
      'CSV with a header (msisdn, operation(s), api, max_age, purpose, ref) or JSON lines with the same fields; - = stdin (at most 32 MiB)',
    )
    .option('--op <operations>', `default operation(s) for rows without one, comma-separated: ${OPS}`, (v) =>
      parse.operations('--op', v),
    )
    .addOption(apiOption('default API for rows without one'))
    .option('--max-age <hours>', 'default sim-swap window for rows without max_age (whole hours)', (v) =>
      parse.maxAge('--max-age', v),
    )
    .addOption(purposeOption('default purpose for rows without one'))
    .option(
      '--batch-id <id>',
      'batch id (default: derived from a hash of the input and the defaults, so a re-run attaches)',
    )
    .option('--concurrency <n>', 'most checks in flight at once (default 100)', (v) =>
      parse.positiveInteger('--concurrency', v),
    )
    .option(
      '--bulk',
      'bulk mode for large screening runs: chunks of checks run inside long-running activities, no workflow per check (docs/bulk.md)',
    )
    .option('--chunk-size <n>', 'with --bulk: checks per chunk activity, 1-500 (default 200)', (v) =>
      parse.positiveInteger('--chunk-size', v),
    )
    .option('--chunk-concurrency <n>', 'with --bulk: chunk activities at once, 1-100 (default 4)', (v) =>
      parse.positiveInteger('--chunk-concurrency', v),
    )
    .option(
      '--rate <R>',
      'with --bulk: requests per second to Vonage for the whole batch, across all workers (default: none)',
      (v) => parse.positiveNumber('--rate', v),
    )
    .option(
      '--assess',
      'assess each number instead (one verdict record per number, rows need no operation; docs/assess.md)',
    )
    .option('--policy <file>', 'with --assess: the policy (default NETCHECK_POLICY, else the built-in)')
    .option('--out <file>', 'write results to a .jsonl or .csv file (default: JSON lines on stdout)')
    .option('--format <format>', 'jsonl or csv (default: from --out, else jsonl)')
    .option('--no-wait', 'start the batch, print its id and return')
    .option('--task-queue <name>', 'task queue of the workers (also NETCHECK_TASK_QUEUE)')
    .addOption(profileOption('the operator profile whose workers run it (sets the default task queue)'))
    .addHelpText(
      'after',
      examples(
        'netcheck batch numbers.csv --op sim-swap --api identity-insights --max-age 48 --out results.csv',
        'printf \'{"msisdn":"+990123400","operations":"sim-swap;sim-swap-date","api":"identity-insights"}\\n\' | netcheck batch - > results.jsonl',
        'netcheck batch numbers.csv --op sim-swap,device-roaming --api identity-insights --purpose sim-swap=FraudPreventionAndDetection,device-status=NotApplicable',
        'netcheck batch numbers.csv --op device-roaming --no-wait',
        'netcheck batch numbers.csv --op sim-swap,carrier --api identity-insights --out results.csv',
        'netcheck batch customers.csv --op sim-swap --api identity-insights --bulk --rate 50 --out results.csv',
        'netcheck batch customers.csv --assess --policy strict.yaml --out verdicts.csv',
      ) +
        '\nThe request rate is a worker setting: `netcheck worker --rate R` (or NETCHECK_RATE_LIMIT);\n' +
        'a --bulk batch also holds its own --rate across all workers.\n' +
        "Result files are created readable by you only (0600); in CSV, cells starting with = + - @ (also after spaces) get a leading '.\n",
    )
    .action(
      act(async (file: string, opts: import('./commands/batch.js').BatchCommandOptions) => {
        if (opts.assess) {
          // One verdict record per number (cli/commands/assess.ts).
          const { assessBatchCommand } = await import('./commands/assess.js');
          return assessBatchCommand(file, opts);
        }
        const { batchCommand } = await import('./commands/batch.js');
        return batchCommand(file, opts);
      }),
    );

  program
    .command('status')
    .description(
      "Show a batch's progress: done/total, outcomes, error codes (exit 3 when it finished with failures).",
    )
    .argument('<batch-id>', 'the id printed by `netcheck batch`')
    .option('--json', 'print the progress as JSON')
    .addHelpText('after', examples('netcheck status batch-3f2a9c1e0b7d4a6f8e21'))
    .action(
      act(async (batchId: string, opts: { json?: boolean }) => {
        const { statusCommand } = await import('./commands/batch.js');
        return statusCommand(batchId, opts);
      }),
    );

  program
    .command('results')
    .description('Print every result record of a batch (waits for a running batch to finish).')
    .argument('<batch-id>', 'the id printed by `netcheck batch`')
    .option('--format <format>', 'jsonl or csv (default jsonl, or from --out)')
    .option('--out <file>', 'write to a .jsonl or .csv file instead of stdout')
    .addHelpText('after', examples('netcheck results batch-3f2a9c1e0b7d4a6f8e21 --format csv > results.csv'))
    .action(
      act(async (batchId: string, opts: { format?: string; out?: string }) => {
        const { resultsCommand } = await import('./commands/batch.js');
        return resultsCommand(batchId, opts);
      }),
    );

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
      act(async (msisdn: string, opts: { op?: Operation; api?: Api; limit: number; json?: boolean }) => {
        const { findCommand } = await import('./commands/find.js');
        return findCommand(msisdn, opts);
      }),
    );

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
        const { setupCommand } = await import('./commands/worker.js');
        return setupCommand();
      }),
    );

  program
    .command('codec-server')
    .description(
      'Serve /encode and /decode for the Temporal UI and CLI with the key ring of the workers (NETCHECK_ENCRYPTION_KEYS).',
    )
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port (default 8234; 0 = any free port)', (v) => parse.port('--port', v))
    .option(
      '--ui-origin <origin>',
      'origin of the Temporal UI allowed by CORS (repeatable; also NETCHECK_CODEC_UI_ORIGINS)',
      (v, all: string[] = []) => [...all, v],
    )
    .option('--max-body <bytes>', 'largest request body (default 4 MiB)', (v) =>
      parse.positiveInteger('--max-body', v),
    )
    .option('--tls-cert <file>', 'PEM certificate: serve https')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--oidc-issuer <url>',
      "verify callers' OIDC access tokens from this issuer (NETCHECK_CODEC_OIDC_ISSUER)",
    )
    .option(
      '--oidc-audience <aud>',
      'audience the access tokens must carry (repeatable; NETCHECK_CODEC_OIDC_AUDIENCE)',
      (v, all: string[] = []) => [...all, v],
    )
    .option(
      '--oidc-algorithm <alg>',
      'allowed token signature algorithm (repeatable; NETCHECK_CODEC_OIDC_ALGORITHMS; default: all asymmetric)',
      (v, all: string[] = []) => [...all, v],
    )
    .option(
      '--namespace <ns>',
      'namespace whose payloads may be decoded (repeatable; NETCHECK_CODEC_NAMESPACES; default TEMPORAL_NAMESPACE or default)',
      (v, all: string[] = []) => [...all, v],
    )
    .option('--enable-encode', 'serve /encode too (NETCHECK_CODEC_ENABLE_ENCODE; default off)')
    .option(
      '--behind-auth-proxy',
      'an authenticating proxy stands in front: allow a non-loopback --host without OIDC (NETCHECK_CODEC_BEHIND_AUTH_PROXY)',
    )
    .addHelpText(
      'after',
      examples(
        'NETCHECK_ENCRYPTION_KEYS_FILE=keys netcheck codec-server --ui-origin http://127.0.0.1:8233   # loopback, no auth (development)',
        'netcheck codec-server --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem --oidc-issuer https://login.example.com/ --oidc-audience temporal-codec --ui-origin https://temporal-ui.example.com',
      ) +
        '\nThe UI calls <endpoint>/decode: give it the endpoint (TEMPORAL_CODEC_ENDPOINT of the UI server, or\n' +
        'temporal server start-dev --ui-codec-endpoint …) and, with OIDC, TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true so it\n' +
        "forwards the user's access token. Beyond loopback it refuses to start without OIDC or --behind-auth-proxy.\n" +
        'The temporal CLI sends a token with --codec-auth "Bearer <access token>". See docs/security.md.\n',
    )
    .action(
      act(async (opts: import('./commands/codec-server.js').CodecServerFlags) => {
        const { codecServerCommand } = await import('./commands/codec-server.js');
        return codecServerCommand(opts);
      }),
    );

  program
    .command('keygen')
    .description(
      'Print a new encryption key entry (<id>:<base64 of 32 random bytes>) for NETCHECK_ENCRYPTION_KEYS.',
    )
    .option('--id <id>', 'the key id (default k<yyyymmdd>)')
    .option('--token', 'print a random token instead (e.g. NETCHECK_SUBJECT_KEY)')
    .addHelpText(
      'after',
      examples(
        'export NETCHECK_ENCRYPTION_KEYS="$(netcheck keygen),$NETCHECK_ENCRYPTION_KEYS"   # rotate: the new key first',
        'export NETCHECK_SUBJECT_KEY=$(netcheck keygen --token)',
      ),
    )
    .action(
      act(async (opts: { id?: string; token?: boolean }) => {
        const { keygenCommand } = await import('./commands/codec-server.js');
        return keygenCommand(opts);
      }),
    );

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
  // (dispatched before commander parses: its flags are the simulator's own, see run())

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
      act(async (opts: Parameters<typeof import('./commands/dev.js').devCommand>[0]) => {
        const { devCommand } = await import('./commands/dev.js');
        return devCommand(opts);
      }),
    );

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
      act(async (opts: Parameters<typeof import('./commands/demo.js').demoCommand>[0]) => {
        const { demoCommand } = await import('./commands/demo.js');
        return demoCommand(opts);
      }),
    );

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
