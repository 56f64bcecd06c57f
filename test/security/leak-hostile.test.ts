/**
 * Proof that no number, token, JWT or auth_req_id leaves through logs, spans or the CLI, against
 * a hostile provider: a simulator with `faults.echo` (every error answer quotes back the number in
 * nine spellings, the auth_req_id and the Authorization credential), random 503s and scripted
 * failures, so that the SDK logs failed attempts at WARN with the whole error.
 *
 * - A real `netcheck worker` process (its Runtime logger redacting, spans printed by the console
 *   exporter) runs checks the CLI starts: single checks (ok, unknown, refused; one number from
 *   stdin), a batch with a CSV result file and its results as JSON lines; then the CLI refusing a
 *   malformed number from stdin, a headerless CSV, a CSV csv-parse cannot read, a JSON line with
 *   a nested number, and an unknown command that is a number.
 * - An in-process worker and client, traced into an in-memory span exporter, with the Runtime
 *   installed by `installWorkerRuntime` writing into memory, runs the same kinds of checks.
 *
 * Then the worker's stdout and stderr, the in-memory log lines and spans, every CLI run's stdout
 * and stderr and the result files (without their msisdn column: the user's own input, echoed)
 * hold no tested number in any form (E.164, digits, last ten digits, any of the nine spellings,
 * or the last ten digits in order on one line whatever the separators), and none of the JWTs,
 * access tokens and auth_req_ids a recording proxy saw on the wire.
 */
import { createPrivateKey, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Worker, type LogEntry } from '@temporalio/worker';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkNumber } from '../../client/index.js';
import type { CheckResult } from '../../domain/types.js';
import { echoSpellings } from '../../simulator/faults.js';
import { startSimulator, type Simulator } from '../../simulator/index.js';
import { installWorkerRuntime } from '../../worker/metrics.js';
import { netcheckPlugin } from '../../worker/plugin.js';
import { createTracing, type NetcheckTracing } from '../../worker/tracing.js';
import { runCli, Running, spawnCli, type CliRun } from '../cli/support.js';
import { makeKeys } from '../support/keys.js';
import { spellings, startRecordingProxy, withoutMsisdnColumn, type RecordingProxy } from './support.js';

// The in-process worker's Runtime, before any connection: what `netcheck worker` installs, writing into memory.
const memoryLog: string[] = [];
installWorkerRuntime({
  logger: new DefaultLogger('INFO', (entry: LogEntry) =>
    memoryLog.push(`[${entry.level}] ${entry.message} ${inspect(entry.meta, { depth: 10 })}`),
  ),
});

const number = () => `+4479${String(randomInt(100_000_000)).padStart(8, '0')}`;
const N = {
  cliOk: number(),
  cliStdin: number(),
  cliUnknown: number(),
  cliDenied: number(),
  batchOk: number(),
  batchUnknown: number(),
  batchDenied: number(),
  batchNotApplicable: number(),
  memOk: number(),
  memUnknown: number(),
  memDenied: number(),
  // Never valid, never sent: only the CLI's input errors see them.
  rejected: number(),
  headerless: number(),
  quoted: number(),
  nested: number(),
  asCommand: number(),
};
const ALL = Object.values(N);
/** A first bc-authorize answered 503 (retried: the SDK logs the failed attempt at WARN). */
const FIRST_503 = { endpoint: 'bc-authorize' as const, status: 503, message: 'try again later' };

const { publicKey, privateKeyPem } = makeKeys();
const applicationId = randomUUID();
const subjectKey = 'leak-hostile-subject-key-of-at-least-32-bytes';

/** The ways each number must not appear (see the file comment). */
function leaks(text: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const n of ALL) {
    const tail = n.slice(1).slice(-10);
    for (const spelling of [...spellings(n), ...echoSpellings(n)]) {
      if (text.includes(spelling)) found.push(`${n}: "${spelling}"`);
    }
    if (text.split('\n').some((line) => line.replace(/[^0-9]/g, '').includes(tail))) {
      found.push(`${n}: its last ten digits, with separators`);
    }
  }
  for (const secret of secrets) if (text.includes(secret)) found.push(`secret ${secret.slice(0, 12)}…`);
  return [...new Set(found)];
}

describe('a hostile provider that echoes numbers and credentials', () => {
  let simulator: Simulator;
  let proxy: RecordingProxy;
  let worker: Running;
  let dir: string;
  let env: Record<string, string>;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let memWorker: Worker;
  let memRunning: Promise<void>;
  let tracing: NetcheckTracing;
  const exporter = new InMemorySpanExporter();
  const cli: Array<{ args: string; run: CliRun }> = [];
  const outputFiles: string[] = [];
  const processQueue = `leak-hostile-${randomUUID()}`;
  const memoryQueue = `leak-hostile-mem-${randomUUID()}`;

  async function netcheck(args: string[], input?: string, timeoutMs = 120_000): Promise<CliRun> {
    const run = await runCli(args, { env, timeoutMs, ...(input !== undefined ? { input } : {}) });
    cli.push({ args: args.join(' '), run });
    return run;
  }

  beforeAll(async () => {
    simulator = await startSimulator({
      applicationId,
      publicKey,
      port: 0,
      interval: 0.2,
      expiresIn: 30,
      faults: { echo: true, unavailable: 0.1, seed: 21 },
      scenarios: {
        defaults: { lastSimChangeHoursAgo: 5 },
        numbers: {
          [N.cliOk]: { faults: [FIRST_503] },
          [N.cliStdin]: { faults: [FIRST_503] },
          [N.cliUnknown]: { unknown: true },
          [N.cliDenied]: { denied: true },
          [N.batchOk]: { faults: [FIRST_503] },
          [N.batchUnknown]: { unknown: true },
          [N.batchDenied]: { denied: true },
          [N.batchNotApplicable]: {
            faults: [
              {
                endpoint: 'camara',
                status: 422,
                code: 'SERVICE_NOT_APPLICABLE',
                message: 'not for this line',
              },
            ],
          },
          [N.memOk]: { faults: [FIRST_503] },
          [N.memUnknown]: { unknown: true },
          [N.memDenied]: { denied: true },
        },
      },
    });
    proxy = await startRecordingProxy(simulator.url);
    dir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-leak-hostile-'));
    const keyPath = path.join(dir, 'private.key');
    writeFileSync(keyPath, privateKeyPem, { mode: 0o600 });
    env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      VONAGE_APPLICATION_ID: applicationId,
      VONAGE_PRIVATE_KEY_PATH: keyPath,
      VONAGE_API_BASE_URL: proxy.url,
      NETCHECK_TASK_QUEUE: processQueue,
      NETCHECK_SUBJECT_KEY: subjectKey,
    };
    // The real worker at the SDK's default level (INFO), tracing to stdout (the console exporter).
    worker = new Running(
      spawnCli(['worker'], {
        ...env,
        OTEL_TRACES_EXPORTER: 'console',
        NETCHECK_WORKFLOW_BUNDLE: inject('workerBundlePath'),
      }),
    );

    nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
    connection = await Connection.connect({ address: inject('temporalAddress') });
    tracing = createTracing({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
      serviceName: 'leak-test',
    })!;
    memWorker = await Worker.create({
      connection: nativeConnection,
      taskQueue: memoryQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      plugins: [
        netcheckPlugin({ applicationId, privateKey: createPrivateKey(privateKeyPem), baseUrl: proxy.url }),
        tracing.plugin,
      ],
    });
    memRunning = memWorker.run();
    await worker.waitFor(/polling task queue/, 150_000);
  }, 200_000);

  afterAll(async () => {
    await worker?.stop('SIGINT');
    memWorker?.shutdown();
    await memRunning;
    await tracing?.shutdown();
    await nativeConnection?.close();
    await connection?.close();
    await proxy?.close();
    await simulator?.close();
  });

  it('an in-process worker, traced: an answer after a 503, an unknown number, a refusal', async () => {
    const client = new Client({ connection, plugins: [tracing.plugin] });
    const check = (msisdn: string) =>
      checkNumber(
        client,
        { msisdn, operation: 'sim-swap', maxAge: 240 },
        { taskQueue: memoryQueue, subjectKey },
      );
    const results: CheckResult[] = [];
    for (const msisdn of [N.memOk, N.memUnknown, N.memDenied]) results.push(await check(msisdn));
    expect(results.map((r) => r.status)).toEqual(['ok', 'failed', 'failed']);
    expect(results[2]!.error?.code).toBe('ACCESS_DENIED');
    // The provider's echo reached the failure messages, redacted there already.
    expect(results[2]!.error?.message).toMatch(/echo: subscriber \[number\]/);
  }, 180_000);

  it('the CLI against the worker process: checks, one from stdin, a batch and its results', async () => {
    const ok = await netcheck(['check', N.cliOk, '--op', 'sim-swap']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/sim-swap: ok/);
    const spaced = echoSpellings(N.cliStdin)[0]!; // "+44 79xx xxxxxx", normalized by the CLI
    expect((await netcheck(['check', '-', '--op', 'sim-swap'], `${spaced}\n`)).code).toBe(0);
    const unknown = await netcheck(['check', N.cliUnknown, '--op', 'device-roaming']);
    expect(unknown.code, unknown.stderr).toBe(3);
    const denied = await netcheck(['check', N.cliDenied, '--op', 'sim-swap', '--json']);
    expect(denied.code, denied.stderr).toBe(3);
    const deniedResult = JSON.parse(denied.stdout) as CheckResult;
    expect(deniedResult.error?.code).toBe('ACCESS_DENIED');
    expect(deniedResult.error?.message).toMatch(/auth_req_id \[redacted\]; you sent Bearer \[redacted\]/);

    const input = path.join(dir, 'numbers.csv');
    writeFileSync(
      input,
      'msisdn,operations,ref\n' +
        `${echoSpellings(N.batchOk)[2]},sim-swap;device-roaming,ok\n` + // "+44.79xx.xxx.xxx": normalized
        `${N.batchUnknown},sim-swap,unknown\n${N.batchDenied},sim-swap,denied\n` +
        `${N.batchNotApplicable},device-connectivity,n/a\n`,
    );
    const csvOut = path.join(dir, 'results.csv');
    const batch = await netcheck(['batch', input, '--out', csvOut], undefined, 200_000);
    expect(batch.code, batch.stderr).toBe(3);
    outputFiles.push(csvOut);
    const batchId = /(batch-[0-9a-z]+)/.exec(batch.stderr)?.[1];
    expect(batchId).toBeDefined();
    const jsonlOut = path.join(dir, 'results.jsonl');
    expect((await netcheck(['results', batchId!, '--out', jsonlOut])).code).toBe(3);
    outputFiles.push(jsonlOut);
    const rows = parseCsv<Record<string, string>>(readFileSync(csvOut, 'utf8'), { columns: true });
    expect(rows).toHaveLength(5);
    expect(rows.filter((r) => r.outcome === 'ok')).toHaveLength(2);
    // Failure messages made it into the file, masked.
    expect(rows.map((r) => r.error_message).join('\n')).toMatch(/\[number\]/);
  }, 400_000);

  it('the CLI refusing input: a malformed number, a headerless CSV, an unreadable CSV, a nested JSON number, a number as a command', async () => {
    const rejected = await netcheck(
      ['check', '-', '--op', 'sim-swap'],
      `${echoSpellings(N.rejected)[0]} ext 12\n`,
    );
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toMatch(/must be E\.164.*\[number\]/);

    const headerless = path.join(dir, 'headerless.csv');
    writeFileSync(headerless, `${N.headerless},sim-swap\n${N.cliOk},sim-swap\n`);
    const noHeader = await netcheck(['batch', headerless]);
    expect(noHeader.code).toBe(2);
    expect(noHeader.stderr).toMatch(/no "msisdn" column.*line 1 looks like data/);

    const quoted = path.join(dir, 'quoted.csv');
    writeFileSync(quoted, `msisdn,operation\n${echoSpellings(N.quoted)[0]}"x",sim-swap\n`);
    const unreadable = await netcheck(['batch', quoted]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/the CSV cannot be read: Invalid Opening Quote/);

    const nested = path.join(dir, 'nested.jsonl');
    writeFileSync(
      nested,
      `${JSON.stringify({ msisdn: { home: echoSpellings(N.nested)[4] }, op: 'sim-swap' })}\n`,
    );
    const nestedRun = await netcheck(['batch', nested]);
    expect(nestedRun.code).toBe(2);
    expect(nestedRun.stderr).toMatch(/msisdn must be text or a number \(got \{"home":"\[number\]"\}\)/);

    const asCommand = await netcheck([N.asCommand]);
    expect(asCommand.code).toBe(2);
    expect(asCommand.stderr).toMatch(/unknown command '\[number\]'/);
  }, 120_000);

  it('no number, JWT, access token or auth_req_id in any log line, span, CLI output or result file', () => {
    const secrets = [...proxy.secrets];
    // The proxy saw them: JWTs on every OAuth request, access tokens, auth_req_ids (UUIDs).
    expect(secrets.filter((s) => s.startsWith('eyJ')).length).toBeGreaterThan(5);
    expect(secrets.filter((s) => /^[0-9a-f-]{36}$/.test(s)).length).toBeGreaterThan(3);
    expect(secrets.filter((s) => !s.startsWith('eyJ') && !/^[0-9a-f-]{36}$/.test(s)).length).toBeGreaterThan(
      3,
    );

    const spans = exporter.getFinishedSpans();
    const texts: Record<string, string> = {
      'worker stdout (log lines and console spans)': worker.stdout,
      'worker stderr': worker.stderr,
      'in-process worker log': memoryLog.join('\n'),
      'in-memory spans': spanText(spans),
    };
    for (const { args, run } of cli) {
      texts[`netcheck ${args.replace(/\+?\d{7,}/g, '<n>')}`] = `${run.stdout}\n${run.stderr}`;
    }
    for (const file of outputFiles) texts[`result file ${path.basename(file)}`] = withoutMsisdnColumn(file);

    const found = Object.entries(texts)
      .map(([where, text]) => ({ where, leaked: leaks(text, secrets) }))
      .filter((l) => l.leaked.length > 0);
    expect(found).toEqual([]);

    // What was searched holds the provider's hostile answers, masked: the test is not vacuous.
    expect(worker.stderr).toMatch(/\[WARN\] Activity failed/);
    expect(worker.stderr).toMatch(/echo: subscriber \[number\]/);
    expect(worker.stderr).not.toMatch(/taskToken/);
    expect(worker.stdout).toMatch(/RunActivity:netcheck\.authorize/);
    expect(worker.stdout).toMatch(/exception/);
    expect(texts['in-process worker log']).toMatch(/Activity failed/);
    expect(texts['in-process worker log']).toMatch(/\[number\]/);
    const failedSpans = spans.filter((s) => s.events.some((e) => e.name === 'exception'));
    expect(failedSpans.length).toBeGreaterThan(0);
    expect(spanText(failedSpans)).toMatch(/\[number\]/);
  });
});

/** Everything a span exporter sends of these spans, as text. */
function spanText(spans: ReadableSpan[]): string {
  return spans
    .map((s) =>
      JSON.stringify({
        name: s.name,
        status: s.status,
        attributes: s.attributes,
        events: s.events,
        links: s.links,
      }),
    )
    .join('\n');
}
