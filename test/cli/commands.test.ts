/**
 * Every netcheck command end to end, as a subprocess, against the run's shared dev server and
 * simulator with an in-process worker on this file's task queue: output, --json, CSV/JSONL,
 * exit codes 0/1/2/3, --help, and helpful messages for bad input.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BatchProgress } from '../../domain/batch.js';
import { NetcheckApi } from '../../domain/search-attributes.js';
import type { CheckResult } from '../../domain/types.js';
import { addScenarios, simulatorStats, uniqueNumber, useTestWorker } from '../support/harness.js';
import { eventually, runCli, Running, sharedStackEnv, spawnCli } from './support.js';

const ctx = useTestWorker('cli');
// Tests that run the CLI many times get minutes: each run starts Node and tsx (seconds on a loaded machine).
const MANY_RUNS = 180_000;
let env: Record<string, string>;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'netcheck-cli-test-'));

type Entry = NonNullable<Parameters<typeof addScenarios>[1]['numbers']>[string];
async function numberWith(entry: Entry): Promise<string> {
  const msisdn = uniqueNumber();
  await addScenarios(ctx.env.simulatorUrl, { numbers: { [msisdn]: { interval: 0.2, ...entry } } });
  return msisdn;
}

beforeAll(() => {
  env = sharedStackEnv(ctx.taskQueue);
});

/** The input a run was started with (the first event of its history). */
async function startInput(workflowId: string): Promise<Record<string, unknown>> {
  const history = await ctx.env.client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return JSON.parse(Buffer.from(payload.data!).toString('utf8')) as Record<string, unknown>;
}

/** Requests the simulator saw for a number (0 when none was sent). */
async function requestsFor(msisdn: string): Promise<number> {
  return (await simulatorStats(ctx.env.simulatorUrl, msisdn)).total;
}

const COMMANDS = [
  'worker',
  'check',
  'batch',
  'status',
  'results',
  'find',
  'setup',
  'simulator',
  'dev',
  'demo',
];

describe('help and usage', () => {
  it.each(COMMANDS)('netcheck %s --help exits 0 with an example', async (command) => {
    const { code, stdout } = await runCli([command, '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`Usage: netcheck ${command}`));
    expect(stdout).toMatch(/Example/);
  });

  it('netcheck --help lists every command, the exit codes and the environment', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(stdout).toMatch(/Exit codes: 0 .* 3 checks finished but some failed/s);
    expect(stdout).toMatch(/TEMPORAL_ADDRESS/);
  });

  it('no command, an unknown command or an unknown option exits 2', async () => {
    expect((await runCli([])).code).toBe(2);
    const unknown = await runCli(['chek', '+447700900001']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'chek'/);
    const option = await runCli(['check', '+447700900001', '--op', 'sim-swap', '--colour']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/unknown option '--colour'/);
  });
});

describe('netcheck check', { timeout: MANY_RUNS }, () => {
  let swapped: string;
  let checkWorkflowId: string;

  it('prints a short line and exits 0 when the check is ok', async () => {
    swapped = await numberWith({ lastSimChangeHoursAgo: 10 });
    const { code, stdout, stderr } = await runCli(['check', swapped, '--op', 'sim-swap', '--max-age', '24'], {
      env,
    });
    expect(stderr).not.toMatch(/no worker polls/);
    expect(code).toBe(0);
    // The number is masked; the data is said in words.
    expect(stdout.trim()).toMatch(
      /^\+44\*+\d{3} sim-swap: ok — SIM swapped within maxAge \(1 authorization, 1 poll, [\d.]+ s\)$/,
    );
    expect(stdout).not.toContain(swapped);
    checkWorkflowId = /workflow (\S+)/.exec(stderr)![1]!;
    // The id says which API and operation ran, never the number.
    expect(checkWorkflowId).toMatch(/^netcheck-camara-sim-swap-[0-9a-f]{32}-/);
    const description = await ctx.env.client.workflow.getHandle(checkWorkflowId).describe();
    expect(description.typedSearchAttributes.get(NetcheckApi)).toBe('camara');
    expect(await description.staticSummary()).toMatch(/^sim-swap · camara · \+44\*+\d{3}$/);
    expect(await description.staticDetails()).toMatch(/\*\*API:\*\* camara/);
  });

  it('reads the number from stdin with -, so it is not in argv', async () => {
    const run = await runCli(['check', '-', '--op', 'sim-swap', '--max-age', '24', '--json'], {
      env,
      input: `${swapped}\n`,
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'ok', data: { swapped: true } });
    const none = await runCli(['check', '-', '--op', 'sim-swap'], { env, input: '\n' });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no phone number on stdin/);
    const bad = await runCli(['check', '-', '--op', 'sim-swap'], { env, input: 'not-a-number\n' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must be E\.164/);
  });

  it('NETCHECK_PURPOSE is the default purpose where the family takes it; --purpose wins; NETCHECK_API picks the API', async () => {
    const msisdn = await numberWith({ roaming: { roaming: false } });
    // One purpose applies to the families that accept it: Device Status over CIBA takes only
    // NotApplicable (Vonage's table, the simulator's too), so it keeps that and the check goes
    // through instead of failing CONFIGURATION at bc-authorize.
    const withEnv = await runCli(['check', msisdn, '--op', 'device-roaming'], {
      env: { ...env, NETCHECK_PURPOSE: 'FraudPreventionAndDetection', NETCHECK_API: 'camara' },
    });
    expect(withEnv.code).toBe(0);
    const fromEnv = await startInput(/workflow (\S+)/.exec(withEnv.stderr)![1]!);
    expect(fromEnv).toMatchObject({ api: 'camara', operation: 'device-roaming', purpose: 'NotApplicable' });
    expect(JSON.stringify(fromEnv)).not.toMatch(/"scope"/);
    // A map sends what it names, as written (it travels in the map form): the simulator, like
    // Vonage, refuses it (CONFIGURATION).
    const withMap = await runCli(['check', msisdn, '--op', 'device-roaming'], {
      env: { ...env, NETCHECK_PURPOSE: 'device-status=FraudPreventionAndDetection' },
    });
    expect(withMap.code).toBe(2);
    expect(withMap.stderr).toMatch(/invalid_scope/);
    expect(await startInput(/workflow (\S+)/.exec(withMap.stderr)![1]!)).toMatchObject({
      purpose: 'device-status=FraudPreventionAndDetection',
    });

    const withFlag = await runCli(['check', msisdn, '--op', 'device-roaming', '--purpose', 'NotApplicable'], {
      env: { ...env, NETCHECK_PURPOSE: 'FraudPreventionAndDetection' },
    });
    expect(withFlag.code).toBe(0);
    expect(await startInput(/workflow (\S+)/.exec(withFlag.stderr)![1]!)).toMatchObject({
      purpose: 'NotApplicable',
    });
  });

  it('--json prints the CheckResult; the window decides swapped', async () => {
    const { code, stdout } = await runCli(
      ['check', swapped, '--op', 'sim-swap', '--max-age', '5', '--json'],
      { env },
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as CheckResult;
    expect(result).toMatchObject({
      operation: 'sim-swap',
      status: 'ok',
      data: { swapped: false },
      authorizations: 1,
    });
  });

  it('over identity-insights, --json prints the same CheckResult fields as over camara', async () => {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 10 });
    const args = ['check', msisdn, '--op', 'sim-swap', '--max-age', '24', '--json'];
    const camara = await runCli(args, { env });
    const insights = await runCli([...args, '--api', 'identity-insights'], { env });
    expect(camara.code).toBe(0);
    expect(insights.code, insights.stderr).toBe(0);
    const a = JSON.parse(camara.stdout) as CheckResult;
    const b = JSON.parse(insights.stdout) as CheckResult;
    expect(b).toMatchObject({
      api: 'identity-insights',
      operation: 'sim-swap',
      status: 'ok',
      data: { swapped: true },
    });
    expect(a).toMatchObject({ api: 'camara', data: { swapped: true } });
    expect(Object.keys(b.data!).sort()).toEqual(Object.keys(a.data!).sort());
    // Every field but the CIBA road's profile and CAMARA API version (absent over Identity Insights).
    expect(a.profile).toBe('vonage');
    expect(typeof a.apiVersion).toBe('string');
    for (const key of Object.keys(a)) {
      if (key !== 'profile' && key !== 'apiVersion') expect(b).toHaveProperty(key);
    }
    expect(Object.keys(b.timestamps)).toEqual(expect.arrayContaining(['started', 'finished']));
  });

  it('exits 3 with the error code when the check fails (consent refused)', async () => {
    const denied = await numberWith({ denied: true });
    const line = await runCli(['check', denied, '--op', 'device-roaming'], { env });
    expect(line.code).toBe(3);
    expect(line.stdout).toMatch(/device-roaming: FAILED ACCESS_DENIED — /);
    const json = await runCli(['check', denied, '--op', 'device-roaming', '--json'], { env });
    expect(json.code).toBe(3);
    expect((JSON.parse(json.stdout) as CheckResult).error?.code).toBe('ACCESS_DENIED');
  });

  it('every operation answers on the simulator', async () => {
    const msisdn = await numberWith({
      lastSimChangeHoursAgo: 3,
      connectivity: 'CONNECTED_SMS',
      roaming: { roaming: true, countryCode: 262, countryName: ['DE'] },
    });
    const date = await runCli(['check', msisdn, '--op', 'sim-swap-date'], { env });
    expect(date.stdout).toMatch(/sim-swap-date: ok — latest SIM change \d{4}-\d\d-\d\dT/);
    const connectivity = await runCli(['check', msisdn, '--op', 'device-connectivity'], { env });
    expect(connectivity.stdout).toMatch(/device-connectivity: ok — CONNECTED_SMS/);
    const roaming = await runCli(['check', msisdn, '--op', 'device-roaming'], { env });
    expect(roaming.stdout).toMatch(/device-roaming: ok — roaming in 262 \(DE\)/);
    expect([date.code, connectivity.code, roaming.code]).toEqual([0, 0, 0]);
  });

  it('bad input exits 2 with a message that says what to fix', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['check', '0044 7700', '--op', 'sim-swap'],
        // The rejected input is personal data: masked in the message.
        /must be E\.164: "\+", the country code.*\(got "\[number\]"\)/,
      ],
      [['check', '+447700900001'], /required option '--op <operation>' not specified/],
      [['check', '+447700900001', '--op', 'swap'], /Allowed choices are sim-swap, sim-swap-date/],
      [
        ['check', '+447700900001', '--op', 'sim-swap', '--max-age', '0'],
        /--max-age must be a whole number of hours from 1 to 2400/,
      ],
      [
        ['check', '+447700900001', '--op', 'device-roaming', '--max-age', '24'],
        /--max-age applies only to --op sim-swap/,
      ],
      [
        ['check', '+447700900001', '--op', 'sim-swap', '--purpose', 'Marketing'],
        /--purpose "Marketing" is not a Vonage Network API purpose; use the one your Vonage application is registered with: FraudPreventionAndDetection, NotApplicable/,
      ],
      [
        ['check', '+447700900001', '--op', 'carrier', '--api', 'camara'],
        /carrier runs only over identity-insights, not over camara \(--api camara\): pass --api identity-insights/,
      ],
      [
        ['check', '+447700900001', '--op', 'sim-swap', '--api', 'ciba'],
        /Allowed choices are camara, identity-insights/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runCli(args, { env });
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toMatch(message);
    }
  });

  it('hours are digits: --max-age 1e3 (or 24.5, 0x18) is a usage error and nothing is sent', async () => {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 10 });
    for (const hours of ['1e3', '24.5', '0x18', ' 48h']) {
      const { code, stderr } = await runCli(['check', msisdn, '--op', 'sim-swap', '--max-age', hours], {
        env,
      });
      expect({ hours, code }).toEqual({ hours, code: 2 });
      expect(stderr).toMatch(/--max-age must be a whole number of hours from 1 to 2400/);
    }
    const { code, stderr } = await runCli(['batch', '-', '--op', 'sim-swap'], {
      env,
      input: `msisdn,max_age\n${msisdn},24\n${msisdn},1e3\n`,
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/line 3: max_age must be a whole number of hours written as digits \(got "1e3"\)/);
    expect(await requestsFor(msisdn)).toBe(0);
  });

  it('NETCHECK_API and NETCHECK_PURPOSE outside their lists are configuration errors (exit 2)', async () => {
    const api = await runCli(['check', '+447700900001', '--op', 'sim-swap'], {
      env: { ...env, NETCHECK_API: 'ciba' },
    });
    expect(api.code).toBe(2);
    expect(api.stderr).toMatch(/NETCHECK_API must be one of camara, identity-insights \(got "ciba"\)/);
    const purpose = await runCli(['batch', '-', '--op', 'sim-swap'], {
      env: { ...env, NETCHECK_PURPOSE: 'Marketing' },
      input: 'msisdn\n+447700900001\n',
    });
    expect(purpose.code).toBe(2);
    expect(purpose.stderr).toMatch(
      /NETCHECK_PURPOSE "Marketing" is not a Vonage Network API purpose; .*NotApplicable/,
    );
    const carrier = await runCli(['check', '+447700900001', '--op', 'carrier'], {
      env: { ...env, NETCHECK_API: 'camara' },
    });
    expect(carrier.code).toBe(2);
    expect(carrier.stderr).toMatch(
      /carrier runs only over identity-insights, not over camara \(NETCHECK_API=camara\)/,
    );
  });

  it('a missing or short subject key is a configuration error (exit 2), even with the Vonage key at hand', async () => {
    // The client never falls back to the Vonage private key: that key stays on the workers.
    const missing = await runCli(['check', '+447700900001', '--op', 'sim-swap'], {
      env: { ...env, NETCHECK_SUBJECT_KEY: undefined },
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/NETCHECK_SUBJECT_KEY is not set/);
    expect(missing.stderr).toMatch(/at least 32 bytes/);
    expect(missing.stderr).toMatch(/no longer derive it from the Vonage private key/);
    const short = await runCli(['find', '+447700900001'], { env: { ...env, NETCHECK_SUBJECT_KEY: 'short' } });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/NETCHECK_SUBJECT_KEY is 5 bytes; it must be at least 32/);
  });

  it('an unreachable Temporal exits 1 and names TEMPORAL_ADDRESS', async () => {
    const { code, stderr } = await runCli(['check', '+447700900001', '--op', 'sim-swap'], {
      env: { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/Cannot reach Temporal at 127\.0\.0\.1:1 .*\n.*Set TEMPORAL_ADDRESS/);
  });

  it('warns when no worker polls the task queue, and keeps waiting for one', async () => {
    const queue = `nobody-polls-${Date.now()}`;
    const check = new Running(
      spawnCli(['check', '+447700900001', '--op', 'sim-swap', '--json'], {
        ...env,
        NETCHECK_TASK_QUEUE: queue,
      }),
    );
    try {
      await check.waitFor(new RegExp(`no worker polls task queue "${queue}"`));
      // The check was started and waits for a worker: nothing printed on stdout, no exit.
      const started = await eventually(async () => {
        for await (const run of ctx.env.client.workflow.list({ query: `TaskQueue = "${queue}"` })) return run;
        return undefined;
      });
      expect(started.status.name).toBe('RUNNING');
      expect(check.stdout).toBe('');
      await ctx.env.client.workflow.getHandle(started.workflowId).terminate('test over');
    } finally {
      await check.stop('SIGKILL');
    }
  });

  it('netcheck find lists the runs of a number by its subject hash', async () => {
    const found = await eventually(async () => {
      const run = await runCli(['find', swapped, '--json'], { env });
      const parsed = JSON.parse(run.stdout) as {
        subject: string;
        query: string;
        runs: Array<Record<string, string>>;
      };
      return parsed.runs.length >= 2 ? { run, parsed } : undefined;
    });
    expect(found.run.code).toBe(0);
    expect(found.parsed.query).toBe(`NetcheckSubject = "${found.parsed.subject}"`);
    expect(found.parsed.runs.map((r) => r.workflowId)).toContain(checkWorkflowId);
    expect(found.parsed.runs.every((r) => r.operation === 'sim-swap' && r.outcome === 'ok')).toBe(true);
    expect(JSON.stringify(found.parsed)).not.toContain(swapped);

    // The number may come on stdin instead of argv.
    const fromStdin = await runCli(['find', '-', '--json'], { env, input: `${swapped}\n` });
    expect(fromStdin.code).toBe(0);
    expect((JSON.parse(fromStdin.stdout) as { subject: string }).subject).toBe(found.parsed.subject);
    const camaraOnly = await runCli(['find', swapped, '--api', 'camara', '--json'], { env });
    expect((JSON.parse(camaraOnly.stdout) as { query: string }).query).toBe(
      `NetcheckSubject = "${found.parsed.subject}" AND NetcheckApi = "camara"`,
    );

    const table = await runCli(['find', swapped, '--op', 'sim-swap'], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/started\s+status\s+operation\s+api\s+outcome/);
    expect(table.stdout).toContain(checkWorkflowId);

    // Another key hashes the number to another subject: nothing is found.
    const otherKey = await runCli(['find', swapped], {
      env: { ...env, NETCHECK_SUBJECT_KEY: 'another-subject-key-of-at-least-32-bytes' },
    });
    expect(otherKey.code).toBe(0);
    expect(otherKey.stdout).toMatch(/no runs found/);
  });
});

describe('netcheck batch / status / results', { timeout: MANY_RUNS }, () => {
  let ok1: string;
  let ok2: string;
  let denied: string;
  let csvFile: string;

  beforeAll(async () => {
    ok1 = await numberWith({
      lastSimChangeHoursAgo: 5,
      connectivity: 'CONNECTED_DATA',
      roaming: { roaming: false },
    });
    ok2 = await numberWith({ lastSimChangeHoursAgo: 500, connectivity: 'NOT_CONNECTED' });
    denied = await numberWith({ denied: true });
    csvFile = path.join(tmp, 'numbers.csv');
    writeFileSync(
      csvFile,
      [
        'ref,msisdn,operations,max_age,extra',
        `r1,${ok1},sim-swap;device-roaming,24,x`,
        `r2,"${ok2.slice(0, 3)} ${ok2.slice(3)}",,,y`, // spaces are normalized; --op fills the operation
        `r3,${denied},sim-swap,,z`,
      ].join('\n'),
    );
  });

  it('CSV in, CSV out: one row per (item, operation), msisdn from the input, exit 3 when one failed', async () => {
    const out = path.join(tmp, 'results.csv');
    const { code, stderr } = await runCli(['batch', csvFile, '--op', 'device-connectivity', '--out', out], {
      env,
    });
    expect(stderr).toMatch(/note: ignored CSV column\(s\): extra/);
    expect(stderr).toMatch(/progress: 4\/4 done, 1 failed/);
    expect(stderr).toMatch(/done: 4 records — 3 ok, 1 failed, 0 invalid, 0 cancelled/);
    expect(code).toBe(3);
    const rows = parse<Record<string, string>>(readFileSync(out), { columns: true });
    const byKey = Object.fromEntries(rows.map((r) => [`${r.ref}/${r.operation}`, r]));
    expect(Object.keys(byKey).sort()).toEqual([
      'r1/device-roaming',
      'r1/sim-swap',
      'r2/device-connectivity',
      'r3/sim-swap',
    ]);
    // Numbers start with "+": the apostrophe keeps a spreadsheet from reading them as formulas.
    expect(byKey['r1/sim-swap']).toMatchObject({
      msisdn: `'${ok1}`,
      outcome: 'ok',
      swapped: 'true',
      index: '0',
      api: 'camara',
    });
    expect(byKey['r1/device-roaming']).toMatchObject({ outcome: 'ok', roaming: 'false' });
    expect(byKey['r2/device-connectivity']).toMatchObject({
      msisdn: `'${ok2}`,
      outcome: 'ok',
      connectivity_status: 'NOT_CONNECTED',
    });
    expect(byKey['r3/sim-swap']).toMatchObject({ outcome: 'failed', error_code: 'ACCESS_DENIED' });
    expect(byKey['r3/sim-swap']!.error_message).toMatch(/refused/);
    // Results are personal data: only their owner may read the file.
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('JSON lines from stdin, JSONL on stdout, exit 0 when every check is ok', async () => {
    const input = [
      JSON.stringify({ msisdn: ok1, operations: ['sim-swap-date'], ref: 'j1' }),
      '',
      JSON.stringify({ msisdn: ok2, operation: 'sim-swap', maxAge: 1000, ref: 7 }),
    ].join('\n');
    const { code, stdout } = await runCli(['batch', '-'], { env, input });
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            index: number;
            ref?: string;
            msisdn: string;
            outcome: string;
            result: CheckResult;
          },
      );
    expect(lines).toHaveLength(2);
    const second = lines.find((l) => l.index === 1)!;
    expect(second).toMatchObject({
      ref: '7',
      msisdn: ok2,
      outcome: 'ok',
      result: { data: { swapped: true } },
    });
    expect(lines.find((l) => l.index === 0)!.result.data).toHaveProperty('latestSimChange');
  });

  it('the default batch id comes from the input: --no-wait twice attaches; other defaults make another batch', async () => {
    const first = await runCli(['batch', csvFile, '--op', 'sim-swap-date', '--no-wait'], { env });
    expect(first.code).toBe(0);
    const batchId = first.stdout.trim();
    expect(batchId).toMatch(/^batch-[0-9a-f]{20}$/);
    const again = await runCli(['batch', csvFile, '--op', 'sim-swap-date', '--no-wait'], { env });
    expect(again.stdout.trim()).toBe(batchId);
    const other = await runCli(['batch', csvFile, '--op', 'device-roaming', '--no-wait'], { env });
    expect(other.stdout.trim()).not.toBe(batchId);

    // results waits for the batch and prints every record once.
    const results = await runCli(['results', batchId, '--format', 'csv'], { env });
    expect(results.code).toBe(3); // r3 is denied
    const rows = parse<Record<string, string>>(results.stdout, { columns: true });
    expect(rows.map((r) => `${r.index}/${r.operation}`).sort()).toEqual([
      '0/device-roaming',
      '0/sim-swap',
      '1/sim-swap-date',
      '2/sim-swap',
    ]);

    const status = await runCli(['status', batchId], { env });
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(
      new RegExp(`batch ${batchId}: completed — 4/4 done \\(3 ok, 1 failed, 0 invalid, 0 cancelled\\)`),
    );
    expect(status.stdout).toMatch(/errors: ACCESS_DENIED 1/);
    const json = await runCli(['status', batchId, '--json'], { env });
    expect(JSON.parse(json.stdout) as BatchProgress).toMatchObject({
      batchId,
      state: 'completed',
      total: 4,
      done: 4,
    });

    const jsonl = await runCli(['results', batchId], { env });
    expect(jsonl.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('--batch-id names the batch; status of a finished all-ok batch exits 0', async () => {
    const batchId = `cli-named-${Date.now()}`;
    const run = await runCli(
      ['batch', '-', '--batch-id', batchId, '--op', 'sim-swap', '--concurrency', '2', '--format', 'csv'],
      {
        env,
        input: `msisdn\n${ok1}\n${ok2}\n`,
      },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`batch ${batchId}:`);
    expect(parse<Record<string, string>>(run.stdout, { columns: true }).length).toBe(2);
    const status = await runCli(['status', batchId], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/completed — 2\/2 done \(2 ok/);
  });

  it('invalid rows become invalid records (exit 3), not a refused file', async () => {
    const { code, stdout } = await runCli(['batch', '-', '--op', 'sim-swap'], {
      env,
      input: `msisdn,max_age\n${ok1},9999\nnot-a-number,\n`,
    });
    expect(code).toBe(3);
    const records = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; outcome: string; error?: { code: string } });
    expect(records.map((r) => r.outcome).sort()).toEqual(['invalid', 'invalid']);
  });

  it('--rate is a batch option only with --bulk (otherwise the rate is a worker setting)', async () => {
    const { code, stderr } = await runCli(['batch', '-', '--op', 'sim-swap', '--rate', '5', '--no-wait'], {
      env,
      input: `msisdn\n${ok1}\n`,
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/--rate apply only with --bulk/);
    const help = await runCli(['batch', '--help']);
    expect(help.stdout).toMatch(/The request rate is a worker setting: `netcheck worker --rate R`/);
  });

  it('rows name their api and purpose; carrier over camara is an invalid row, not a refused file', async () => {
    const { code, stdout } = await runCli(['batch', '-'], {
      env,
      input: [
        'msisdn,operation,api,purpose,ref',
        `${ok1},device-connectivity,camara,NotApplicable,a`,
        `${ok1},carrier,camara,,b`,
        `${ok1},sim-swap,,Marketing,c`,
        `${ok1},sim-swap,ciba,,d`,
      ].join('\n'),
    });
    expect(code).toBe(3);
    const records = stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            ref: string;
            outcome: string;
            result?: CheckResult;
            error?: { message: string };
          },
      );
    const byRef = Object.fromEntries(records.map((r) => [r.ref, r]));
    expect(byRef.a).toMatchObject({
      outcome: 'ok',
      result: { api: 'camara', data: { connectivityStatus: 'CONNECTED_DATA' } },
    });
    expect(byRef.b!.outcome).toBe('invalid');
    expect(byRef.b!.error!.message).toMatch(/carrier runs only over identity-insights/);
    expect(byRef.c!.error!.message).toMatch(/purpose "Marketing" is not a Vonage Network API purpose/);
    expect(byRef.d!.error!.message).toMatch(/api must be one of camara, identity-insights/);
  });

  it('a 4.5 KB ref stops the command with its line before anything is sent', async () => {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 1 });
    const rows = Array.from({ length: 500 }, (_, i) => `${msisdn},ref-${i}-${'x'.repeat(4_500)}`);
    const { code, stderr } = await runCli(['batch', '-', '--op', 'sim-swap'], {
      env,
      input: `msisdn,ref\n${rows.join('\n')}\n`,
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/line 2: ref is \d+ characters long; at most 256/);
    expect(await requestsFor(msisdn)).toBe(0);
  });

  it('bad files and flags exit 2 with the line or flag to fix', async () => {
    const file = (name: string, text: string) => {
      const p = path.join(tmp, name);
      writeFileSync(p, text);
      return p;
    };
    const cases: Array<[string[], RegExp]> = [
      [['batch', path.join(tmp, 'missing.csv'), '--op', 'sim-swap'], /cannot read .*missing\.csv: ENOENT/],
      [
        ['batch', file('nomsisdn.csv', 'phone_no,op\n1,sim-swap\n'), '--op', 'sim-swap'],
        /has no "msisdn" column/,
      ],
      [
        ['batch', file('bad.jsonl', '{"msisdn":"+447700900001"}\n{oops\n'), '--op', 'sim-swap'],
        /line 2: not a JSON object/,
      ],
      [
        ['batch', file('noop.csv', 'msisdn\n+447700900001\n')],
        /line 2: no operation; add an "operation" column .* or pass --op/,
      ],
      [
        ['batch', file('ok.csv', 'msisdn\n+447700900001\n'), '--op', 'sim-swap', '--out', 'r.txt'],
        /--out r\.txt: name a \.jsonl or \.csv file/,
      ],
      [
        ['batch', file('ok2.csv', 'msisdn\n+447700900001\n'), '--op', 'sim-swap,roam'],
        /--op: unknown operation "roam"/,
      ],
      [
        ['batch', file('ok3.csv', 'msisdn\n+447700900001\n'), '--op', 'sim-swap', '--batch-id', 'bad id!'],
        /--batch-id must be 1–200 characters/,
      ],
      [
        ['batch', file('ok4.csv', 'msisdn\n+447700900001\n'), '--op', 'sim-swap,carrier', '--api', 'camara'],
        /carrier runs only over identity-insights, not over camara \(--api camara\)/,
      ],
      [
        ['batch', file('ok5.csv', 'msisdn\n+447700900001\n'), '--op', 'sim-swap', '--purpose', 'Marketing'],
        /--purpose "Marketing" is not a Vonage Network API purpose/,
      ],
      [
        ['batch', file('ok6.csv', 'msisdn\n+447700900001\n'), '--op', 'sim-swap', '--max-age', '1e3'],
        /--max-age must be a whole number of hours/,
      ],
      [['batch', file('empty.csv', 'msisdn\n'), '--op', 'sim-swap'], /has no rows to check/],
      [['status', 'no-such-batch'], /no batch "no-such-batch" on namespace "default"/],
      [['results', 'no-such-batch'], /no batch "no-such-batch"/],
      [['results', 'x', '--format', 'xml'], /--format must be jsonl or csv/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runCli(args, { env });
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toMatch(message);
    }
  });
});
