/**
 * NetcheckPlugin as a Temporal user meets it: one instance for several workers (at once and one
 * after the other), replay workers that get netcheck's workflows from it, and options checked
 * when it is built.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkNumber } from '../../client/index.js';
import { ConfigurationError, NetcheckError } from '../../domain/errors.js';
import { NetcheckPlugin, netcheckPlugin } from '../../worker/plugin.js';
import {
  addScenarios,
  connectTestEnv,
  uniqueNumber,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';
import { makeEcKey } from '../support/keys.js';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

async function workerOn(plugin: NetcheckPlugin, taskQueue: string) {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    plugins: [plugin],
  });
  return { worker, running: worker.run() };
}

async function roamingCheck(taskQueue: string) {
  const msisdn = uniqueNumber();
  await addScenarios(env.simulatorUrl, {
    numbers: { [msisdn]: { interval: 0.2, roaming: { roaming: true, countryCode: 262 } } },
  });
  return checkNumber(
    env.client,
    { msisdn, operation: 'device-roaming' },
    { taskQueue, subjectKey: 'plugin-test' },
  );
}

describe('one plugin instance, several workers', () => {
  it('serves two workers at once, the second after the first stopped, and a third started later', async () => {
    const plugin = new NetcheckPlugin(env.vonage);
    const [queueA, queueB, queueC] = [
      uniqueTaskQueue('plugin-a'),
      uniqueTaskQueue('plugin-b'),
      uniqueTaskQueue('plugin-c'),
    ];
    const a = await workerOn(plugin, queueA);
    const b = await workerOn(plugin, queueB);
    try {
      const [onA, onB] = await Promise.all([roamingCheck(queueA), roamingCheck(queueB)]);
      expect(onA).toMatchObject({ status: 'ok', data: { roaming: true } });
      expect(onB).toMatchObject({ status: 'ok', data: { roaming: true } });

      // The first worker stops: the second still has its HTTP pools.
      a.worker.shutdown();
      await a.running;
      expect(await roamingCheck(queueB)).toMatchObject({ status: 'ok', data: { roaming: true } });
    } finally {
      if (a.worker.getState() === 'RUNNING') a.worker.shutdown();
      b.worker.shutdown();
      await Promise.allSettled([a.running, b.running]);
    }

    // Both stopped (the client closed): a new worker of the same plugin opens a new one.
    const c = await workerOn(plugin, queueC);
    try {
      expect(await roamingCheck(queueC)).toMatchObject({ status: 'ok', data: { roaming: true } });
    } finally {
      c.worker.shutdown();
      await c.running;
    }
  });
});

describe('replay workers', () => {
  const fixture = path.join(import.meta.dirname, '..', 'fixtures', 'histories', 'sim-swap-ok.json');
  const history = () =>
    temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(fixture, 'utf8')) as object);

  it('get netcheck workflows from the plugin alone', { timeout: 180_000 }, async () => {
    // Without the plugin a replay worker has no workflows at all…
    await expect(Worker.runReplayHistory({}, history())).rejects.toThrow(/workflowsPath or workflowBundle/);
    // …with it, netcheck's workflows are bundled in and the recorded run replays clean.
    await expect(
      Worker.runReplayHistory({ plugins: [netcheckPlugin(env.vonage)] }, history(), 'sim-swap-ok'),
    ).resolves.toBeUndefined();
  });
});

describe('options are checked when the plugin is built', () => {
  it.each([
    ['a rate limit of 0', { rateLimit: 0 }, /rateLimit must be a positive number/],
    ['an EC key', { privateKey: makeEcKey() }, /RSA private key/],
    ['a base URL that is not http(s)', { baseUrl: 'ftp://vonage.example' }, /must be http\(s\)/],
  ])('%s is a ConfigurationError', (_name, override, message) => {
    let thrown: unknown;
    try {
      new NetcheckPlugin({ ...env.vonage, ...override });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect(thrown).toBeInstanceOf(NetcheckError);
    expect((thrown as ConfigurationError).code).toBe('CONFIGURATION');
    expect((thrown as Error).message).toMatch(message);
  });
});
