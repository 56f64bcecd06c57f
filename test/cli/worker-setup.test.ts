/**
 * `netcheck setup`, `netcheck worker` and `netcheck simulator` as subprocesses: search
 * attributes registered idempotently on a fresh namespace (and a worker that says they are
 * missing), a CLI worker serving CLI checks, configuration errors, the simulator's lifecycle.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes.js';
import { searchAttributeState } from '../../cli/search-attributes.js';
import { addScenarios, uniqueNumber, uniqueTaskQueue } from '../support/harness.js';
import { eventually, runCli, Running, sharedStackEnv, spawnCli } from './support.js';

let connection: Connection;
let client: Client;
const namespace = `cli-setup-${Date.now()}`;

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
  await client.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  // A new namespace is served once the frontend's namespace cache has it.
  await eventually(async () => {
    try {
      await client.connection.operatorService.listSearchAttributes({ namespace });
      return true;
    } catch {
      return false;
    }
  }, 120_000);
});

afterAll(async () => {
  await connection?.close();
});

describe('netcheck setup and the worker start-up check', () => {
  it('a worker on a namespace without the attributes says so and names `netcheck setup`', async () => {
    const env = { ...sharedStackEnv(uniqueTaskQueue('cli-ns')), TEMPORAL_NAMESPACE: namespace };
    const worker = new Running(spawnCli(['worker'], env));
    try {
      await worker.waitFor(/netcheck worker polling task queue/);
      expect(worker.stderr).toMatch(
        new RegExp(
          `search attributes are not registered on namespace "${namespace}" \\(missing: NetcheckOperation, NetcheckOutcome, NetcheckErrorCode, NetcheckBatchId, NetcheckSubject, NetcheckApi, NetcheckVerdict\\)`,
        ),
      );
      expect(worker.stderr).toMatch(/Run `netcheck setup` once/);
    } finally {
      expect(await worker.stop('SIGTERM')).toBe(0);
    }
  });

  it('registers every attribute once; running it again changes nothing and still exits 0', async () => {
    const env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: namespace };
    const first = await runCli(['setup'], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /registered: NetcheckOperation, NetcheckOutcome, NetcheckErrorCode, NetcheckBatchId, NetcheckSubject, NetcheckApi/,
    );
    expect(first.stdout).not.toMatch(/already registered/);

    const state = await searchAttributeState(client, namespace);
    expect(state).toEqual({ present: SEARCH_ATTRIBUTES.map((k) => k.name), missing: [], wrongType: [] });

    const second = await runCli(['setup'], { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/already registered: NetcheckOperation, .*NetcheckSubject, NetcheckApi/);
    expect(second.stdout).not.toMatch(/^ {2}registered:/m);
  });

  it('after setup the worker starts without the warning', async () => {
    const env = { ...sharedStackEnv(uniqueTaskQueue('cli-ns')), TEMPORAL_NAMESPACE: namespace };
    const worker = new Running(spawnCli(['worker'], env));
    try {
      await worker.waitFor(/netcheck worker polling task queue/);
      expect(worker.stderr).not.toMatch(/not registered/);
    } finally {
      expect(await worker.stop('SIGINT')).toBe(0);
    }
  });
});

describe('netcheck worker', () => {
  it('serves checks started by `netcheck check`, with --rate and --task-queue from flags', async () => {
    const taskQueue = uniqueTaskQueue('cli-worker');
    const env = sharedStackEnv('not-this-queue');
    const msisdn = uniqueNumber();
    await addScenarios(inject('simulatorUrl'), {
      numbers: { [msisdn]: { interval: 0.2, lastSimChangeHoursAgo: 1 } },
    });
    const worker = new Running(spawnCli(['worker', '--rate', '50', '--task-queue', taskQueue], env));
    try {
      await worker.waitFor(new RegExp(`netcheck worker polling task queue "${taskQueue}"`));
      expect(worker.stderr).toMatch(
        new RegExp(`rate limit: 50 Vonage requests/s for task queue "${taskQueue}"`),
      );
      const check = await runCli(['check', msisdn, '--op', 'sim-swap', '--task-queue', taskQueue, '--json'], {
        env,
      });
      expect(check.code).toBe(0);
      expect(JSON.parse(check.stdout)).toMatchObject({ status: 'ok', data: { swapped: true } });
    } finally {
      expect(await worker.stop('SIGINT')).toBe(0);
    }
  });

  it('a check refused for the worker’s configuration (wrong application id) exits 2 and says why', async () => {
    const taskQueue = uniqueTaskQueue('cli-misconfigured');
    const env = sharedStackEnv(taskQueue);
    // A syntactically fine app id the simulator does not trust: Vonage would answer 401 to its JWT.
    const worker = new Running(
      spawnCli(['worker'], { ...env, VONAGE_APPLICATION_ID: '00000000-0000-4000-8000-000000000000' }),
    );
    try {
      await worker.waitFor(/netcheck worker polling task queue/);
      const check = await runCli(['check', uniqueNumber(), '--op', 'device-connectivity'], { env });
      expect(check.code).toBe(2);
      expect(check.stderr).toMatch(/the check was refused: .*CONFIGURATION/);
    } finally {
      expect(await worker.stop('SIGTERM')).toBe(0);
    }
  });

  it('a bad configuration exits 2 and lists every problem', async () => {
    const env = {
      ...sharedStackEnv('q'),
      VONAGE_APPLICATION_ID: undefined,
      VONAGE_PRIVATE_KEY_PATH: '/nonexistent/private.key',
      NETCHECK_RATE_LIMIT: 'fast',
    };
    const { code, stderr } = await runCli(['worker'], { env });
    expect(code).toBe(2);
    expect(stderr).toMatch(/VONAGE_APPLICATION_ID is not set/);
    expect(stderr).toMatch(/VONAGE_PRIVATE_KEY_PATH \(\/nonexistent\/private\.key\) cannot be read: ENOENT/);
    expect(stderr).toMatch(/NETCHECK_RATE_LIMIT must be a number/);

    const rate = await runCli(['worker', '--rate', '0'], { env: sharedStackEnv('q') });
    expect(rate.code).toBe(2);
    expect(rate.stderr).toMatch(/--rate must be a positive number \(got "0"\)/);
  });
});

describe('netcheck simulator', () => {
  it('listens, answers, and closes on SIGINT with exit 0', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-sim-'));
    const sim = new Running(
      spawnCli([
        'simulator',
        '--port',
        '0',
        '--state-dir',
        stateDir,
        '--scenarios',
        'simulator/example-scenarios.json',
      ]),
    );
    try {
      const [, url] = await sim.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      await sim.waitFor(/Ctrl-C stops it/);
      expect(sim.stdout).toMatch(/VONAGE_APPLICATION_ID=[0-9a-f-]{36}/);
      expect(sim.stdout).toContain(path.join(stateDir, 'simulator-private-key.pem'));
      const health = await fetch(`${url}/__simulator/health`);
      expect(health.status).toBe(200);
    } finally {
      expect(await sim.stop('SIGINT')).toBe(0);
    }
  });

  it('bad flags and files exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['simulator', '--colour'], /Unknown option '--colour'/],
      [['simulator', '--interval', 'soon'], /--interval must be a number/],
      [['simulator', '--scenarios', 'nope.json'], /cannot read nope\.json/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runCli(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toMatch(message);
    }
  });
});
