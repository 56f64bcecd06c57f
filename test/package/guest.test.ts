/**
 * NetcheckPlugin as a guest in a host's worker: it leaves the host's settings alone (or says why
 * it cannot), composes its encryption with the host's own codec on the worker and, as the same
 * instance, on the host's Client, refuses an activity name clash, and checks the namespace's
 * search attributes when its worker starts.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { msToTs, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { checkNumber } from '../../client/index.js';
import { encryptingDataConverter } from '../../codec/data-converter.js';
import { ENCRYPTED_ENCODING, EncryptionCodec } from '../../codec/payload-codec.js';
import { newKeyEntry, parseKeyRing } from '../../codec/keyring.js';
import { ConfigurationError } from '../../domain/errors.js';
import { composeDataConverter, NetcheckPlugin, netcheckPlugin } from '../../worker/plugin.js';
import {
  addScenarios,
  connectTestEnv,
  uniqueNumber,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  await env?.close();
});

const subjectKey = 'guest-test-subject-key-of-at-least-32-bytes';
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());

/** The host's own codec: tags what it encodes and strips the tag again; counts both. */
class HostCodec implements PayloadCodec {
  encoded = 0;
  decoded = 0;
  encode(payloads: Payload[]): Promise<Payload[]> {
    this.encoded += payloads.length;
    return Promise.resolve(
      payloads.map((p) => ({ ...p, metadata: { ...p.metadata, 'x-host-codec': utf8('v1') } })),
    );
  }
  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(
      payloads.map((p) => {
        const metadata = { ...p.metadata };
        if (text(metadata['x-host-codec']) === 'v1') this.decoded++;
        delete metadata['x-host-codec'];
        return { ...p, metadata };
      }),
    );
  }
}

function configure(plugin: NetcheckPlugin, options: Partial<WorkerOptions> = {}): WorkerOptions {
  return plugin.configureWorker({ taskQueue: 'guest', ...options });
}

describe("the host's worker options", () => {
  it('the sticky queue timeout is set only when the host left it unset', () => {
    const plugin = new NetcheckPlugin(env.vonage);
    expect(configure(plugin).stickyQueueScheduleToStartTimeout).toBe(3_000);
    expect(
      configure(plugin, { stickyQueueScheduleToStartTimeout: '15s' }).stickyQueueScheduleToStartTimeout,
    ).toBe('15s');
  });

  it("a host activity with one of netcheck's names is refused, not silently replaced", () => {
    const plugin = new NetcheckPlugin(env.vonage);
    const authorize = () => Promise.resolve('the host’s own');
    expect(() => configure(plugin, { activities: { authorize, notifyFraudTeam: authorize } })).toThrow(
      ConfigurationError,
    );
    expect(() => configure(plugin, { activities: { authorize } })).toThrow(
      /registers activities named authorize, which netcheck's plugin registers too/,
    );
    // A bare name is served for runs of older releases only: the message says how to free it.
    expect(() => configure(plugin, { activities: { authorize } })).toThrow(
      /set legacyActivityNames: false in the plugin options and yours can stay/,
    );
    // The host's other activities stay, beside netcheck's namespaced names and the legacy ones.
    const configured = configure(plugin, { activities: { notifyFraudTeam: authorize } });
    expect(Object.keys(configured.activities ?? {})).toEqual(
      expect.arrayContaining([
        'notifyFraudTeam',
        'netcheck.authorize',
        'netcheck.pollToken',
        'authorize',
        'pollToken',
      ]),
    );
  });

  it('with legacyActivityNames: false, a host activity named authorize stays the host’s', () => {
    const plugin = new NetcheckPlugin({ ...env.vonage, legacyActivityNames: false });
    const authorize = () => Promise.resolve('the host’s own');
    const activities = configure(plugin, { activities: { authorize } }).activities as Record<string, unknown>;
    expect(activities.authorize).toBe(authorize);
    expect(Object.keys(activities).filter((name) => !name.startsWith('netcheck.'))).toEqual(['authorize']);
    expect(activities['netcheck.authorize']).toBeTypeOf('function');
    // The namespaced names stay netcheck's whatever the option.
    expect(() => configure(plugin, { activities: { 'netcheck.authorize': authorize } })).toThrow(
      /registers activities named netcheck\.authorize, which netcheck's plugin registers too/,
    );
    expect(() => new NetcheckPlugin({ ...env.vonage, legacyActivityNames: 'no' as never })).toThrow(
      /legacyActivityNames must be true or false/,
    );
  });

  it('a check runs beside the host’s own authorize activity: history shows netcheck.authorize', async () => {
    const taskQueue = uniqueTaskQueue('guest-names');
    let hostCalls = 0;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: {
        authorize: () => {
          hostCalls++;
          return Promise.resolve('the host’s own');
        },
      },
      plugins: [netcheckPlugin({ ...env.vonage, legacyActivityNames: false, searchAttributeCheck: 'off' })],
    });
    const msisdn = uniqueNumber();
    await addScenarios(env.simulatorUrl, {
      numbers: { [msisdn]: { interval: 0.2, lastSimChangeHoursAgo: 3 } },
    });
    const requestId = randomUUID();
    const result = await worker.runUntil(
      checkNumber(
        env.client,
        { msisdn, operation: 'sim-swap', maxAge: 24 },
        { taskQueue, subjectKey, requestId },
      ),
    );
    expect(result).toMatchObject({ status: 'ok', data: { swapped: true } });
    expect(hostCalls).toBe(0);
    let workflowId: string | undefined;
    for await (const run of env.client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
      if (run.type === 'networkCheck') workflowId = run.workflowId;
    }
    const history = await env.client.workflow.getHandle(workflowId!).fetchHistory();
    const scheduled = (history.events ?? []).flatMap(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
    );
    expect(scheduled[0]).toBe('netcheck.authorize');
    expect(scheduled).toContain('netcheck.pollToken');
    expect(scheduled.at(-1)).toBe('netcheck.checkSimSwap');
    expect(scheduled.filter((name) => !name.startsWith('netcheck.'))).toEqual([]);
  });
});

describe('encryption composed with the host’s data converter', () => {
  const ring = parseKeyRing(newKeyEntry('kguest'), 'test');

  it('adds netcheck’s codec after the host’s, keeps its payload converter, and adds it once', () => {
    const host = new HostCodec();
    const netcheck: DataConverter = {
      payloadCodecs: [new HostCodec()],
      failureConverterPath: '/netcheck/fc.cjs',
    };
    const composed = composeDataConverter(
      { payloadCodecs: [host], payloadConverterPath: '/host/pc.js' },
      netcheck,
    );
    expect(composed.payloadCodecs).toEqual([host, netcheck.payloadCodecs![0]]);
    expect(composed.payloadConverterPath).toBe('/host/pc.js');
    expect(composed.failureConverterPath).toBe('/netcheck/fc.cjs');
    expect(composeDataConverter(composed, netcheck).payloadCodecs).toHaveLength(2);
    expect(composeDataConverter(undefined, netcheck)).toBe(netcheck);
    // A host that added netcheck's encryption itself (netcheck/codec) is not encrypted twice.
    const own = new EncryptionCodec(ring);
    const withOwn = composeDataConverter({ payloadCodecs: [host, own] }, encryptingDataConverter(ring));
    expect(withOwn.payloadCodecs).toEqual([host, own]);
  });

  it('refuses a host failure converter, saying what to do', async () => {
    const plugin = netcheckPlugin({ ...env.vonage, encryption: ring });
    await expect(
      Worker.create({
        connection: env.nativeConnection,
        taskQueue: uniqueTaskQueue('guest-fc'),
        workflowBundle: { codePath: inject('encryptedWorkerBundlePath') },
        dataConverter: { failureConverterPath: '/host/failure-converter.cjs' },
        plugins: [plugin],
      }),
    ).rejects.toThrow(
      /failureConverterPath of its own .*Remove yours, or leave `encryption` out of the plugin/s,
    );
  });

  it('one instance on the worker and on the client: the host’s codecs run, history holds ciphertext', async () => {
    const plugin = netcheckPlugin({ ...env.vonage, encryption: ring });
    const workerCodec = new HostCodec();
    const clientCodec = new HostCodec();
    const taskQueue = uniqueTaskQueue('guest-codec');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('encryptedWorkerBundlePath') },
      dataConverter: { payloadCodecs: [workerCodec] },
      plugins: [plugin],
    });
    const client = new Client({
      connection: env.client.connection,
      dataConverter: { payloadCodecs: [clientCodec] },
      plugins: [plugin],
    });
    const msisdn = uniqueNumber();
    await addScenarios(env.simulatorUrl, {
      numbers: { [msisdn]: { interval: 0.2, lastSimChangeHoursAgo: 3 } },
    });
    const requestId = randomUUID();
    const result = await worker.runUntil(
      checkNumber(
        client,
        { msisdn, operation: 'sim-swap', maxAge: 24 },
        { taskQueue, subjectKey, requestId },
      ),
    );
    expect(result).toMatchObject({ status: 'ok', data: { swapped: true } });
    // Both sides ran the host's codec (composed, not replaced) …
    expect(clientCodec.encoded).toBeGreaterThan(0);
    expect(clientCodec.decoded).toBeGreaterThan(0);
    expect(workerCodec.decoded).toBeGreaterThan(0);
    expect(workerCodec.encoded).toBeGreaterThan(0);
    // … and Temporal stored netcheck's ciphertext, the host's tag inside it.
    const workflowIds: string[] = [];
    for await (const run of env.client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
      if (run.type === 'networkCheck') workflowIds.push(run.workflowId);
    }
    expect(workflowIds).toHaveLength(1);
    const history = await env.client.workflow.getHandle(workflowIds[0]!).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    expect(text(input?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(input?.metadata?.['x-host-codec']).toBeUndefined();
    expect(text(input?.data)).not.toContain(msisdn);
  });
});

describe('the namespace’s search attributes, checked when the worker starts', () => {
  let namespace: string;
  beforeAll(async () => {
    namespace = `guest-${randomUUID().slice(0, 8)}`;
    await env.client.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    // A new namespace takes a moment to be served everywhere.
    for (let i = 0; ; i++) {
      try {
        await env.client.workflowService.describeNamespace({ namespace });
        break;
      } catch (err) {
        if (i > 50) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  });

  async function workerOn(plugin: NetcheckPlugin) {
    for (let i = 0; ; i++) {
      try {
        return await Worker.create({
          connection: env.nativeConnection,
          namespace,
          taskQueue: uniqueTaskQueue('guest-sa'),
          workflowBundle: { codePath: inject('workflowBundlePath') },
          plugins: [plugin],
        });
      } catch (err) {
        if (i > 50 || !/namespace/i.test(String(err))) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  it("'fail': run() rejects naming what is missing and the command that registers it", async () => {
    const worker = await workerOn(netcheckPlugin({ ...env.vonage, searchAttributeCheck: 'fail' }));
    const run = worker.run();
    await expect(run).rejects.toThrow(ConfigurationError);
    await expect(run).rejects.toThrow(
      new RegExp(
        `not registered on namespace "${namespace}" \\(missing: NetcheckOperation.*netcheck setup`,
        's',
      ),
    );
  });

  it("'warn' (the default): the worker runs, and its log says what to run", async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(typeof chunk === 'string' ? chunk : text(chunk));
      return true;
    });
    try {
      const worker = await workerOn(netcheckPlugin(env.vonage));
      await worker.runUntil(async () => {
        for (let i = 0; i < 100 && worker.getState() !== 'RUNNING'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      });
    } finally {
      spy.mockRestore();
    }
    const log = written.join('');
    expect(log).toMatch(new RegExp(`search attributes are not registered on namespace "${namespace}"`));
    expect(log).toMatch(
      /temporal operator search-attribute create --namespace .*--name NetcheckOperation --type Keyword/,
    );
  });
});
