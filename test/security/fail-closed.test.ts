/**
 * Fail closed on payloads (docs/security.md, "Fail closed"), against the run's dev server and
 * simulator:
 * - workers with a key ring advertise it in their identity, and a client without keys (the
 *   client API, a client made without netcheck's DataConverter, the CLI) is refused before it
 *   sends anything: the queue's histories hold no number in the clear;
 * - a keyed worker given an unencrypted input anyway (a raw Temporal client, bypassing the
 *   guard) fails that run at once with CONFIGURATION, without a Vonage request; a page of numbers
 *   sent in the clear is refused and never reaches history;
 * - runs started in the clear before the worker had keys go on; NETCHECK_ALLOW_PLAINTEXT_UNTIL
 *   lets unencrypted inputs through and records it in the run;
 * - NETCHECK_ENCRYPTION=off on both sides works, without the worker's cleartext warning; an empty
 *   key variable is a configuration error (exit 2).
 */
import type { ChildProcess } from 'node:child_process';
import {
  Client,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBatch } from '../../client/batch.js';
import { checkNumber, startCheck } from '../../client/index.js';
import { subjectOf } from '../../client/subject.js';
import {
  bundleMarksPlaintext,
  dataConverterFromEnv,
  encryptingDataConverter,
  EncryptionCodec,
  newKeyEntry,
  parseKeyRing,
  queueEncryption,
  recentRunsEncryption,
  type KeyRing,
} from '../../codec/index.js';
import { ConfigurationError } from '../../domain/errors.js';
import { netcheckPlugin } from '../../worker/plugin.js';
import { PLAINTEXT_ALLOWED, REFUSE_PLAINTEXT } from '../../workflows/patches.js';
import { eventually, runCli, sharedStackEnv } from '../cli/support.js';
import {
  connectTestEnv,
  numberWith,
  simulatorStats,
  spawnWorker,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';
import { prebuiltBundleEnv } from '../support/bundles.js';
import { found, historyText, spellings } from './support.js';

const subjectKey = 'fail-closed-test-subject-key-of-32-bytes';

let env: TestEnv;
/** Every worker a test started, stopped in afterAll. */
const workers: { worker: Worker; running: Promise<void> }[] = [];
/** Worker processes, killed in afterAll should a test end before it stops them. */
const processes: ChildProcess[] = [];

beforeAll(async () => {
  env = await connectTestEnv();
});
afterAll(async () => {
  for (const child of processes) if (child.exitCode === null) child.kill('SIGKILL');
  for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  await Promise.all(workers.map(({ running }) => running.catch(() => undefined)));
  await env?.close();
});

/** A netcheck plugin worker on `taskQueue`, with the production bundle (netcheck's converters in it). */
async function startWorker(taskQueue: string, encryption?: KeyRing): Promise<Worker> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: {
      codePath: inject(encryption ? 'encryptedWorkerBundlePath' : 'workerBundlePath'),
    },
    plugins: [netcheckPlugin({ ...env.vonage, ...(encryption ? { encryption } : {}) })],
  });
  workers.push({ worker, running: worker.run() });
  return worker;
}

/** Every history of the queue's runs (visibility), as text with payloads decoded from base64. */
async function queueHistories(taskQueue: string, atLeast: number): Promise<string[]> {
  const ids = await eventually(async () => {
    const found: { workflowId: string; runId: string }[] = [];
    for await (const run of env.client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
      found.push({ workflowId: run.workflowId, runId: run.runId });
    }
    return found.length >= atLeast && found;
  });
  return Promise.all(
    ids.map(async ({ workflowId, runId }) =>
      historyText(await env.client.workflow.getHandle(workflowId, runId).fetchHistory()),
    ),
  );
}

function failureOf(err: unknown): ApplicationFailure {
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('a task queue whose workers encrypt', () => {
  const ring = parseKeyRing(newKeyEntry('fc-1'), 'TEST');
  const taskQueue = uniqueTaskQueue('fail-closed');
  let keyed: Client;
  let keyless: Client;

  beforeAll(async () => {
    keyed = new Client({ connection: env.client.connection, dataConverter: encryptingDataConverter(ring) });
    keyless = new Client({ connection: env.client.connection, dataConverter: dataConverterFromEnv({}) });
    await startWorker(taskQueue, ring);
  });

  it('its workers advertise their key id (and no key material) in their identity', async () => {
    const seen = await eventually(async () => {
      const answer = await queueEncryption(keyless, taskQueue);
      return answer.workers.length > 0 && answer;
    });
    expect(seen.source).toBe('pollers');
    expect(seen.workers).toContainEqual({ encrypts: true, keyId: 'fc-1' });
    const { pollers } = await env.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    const identities = (pollers ?? []).map((p) => p.identity ?? '').join('\n');
    expect(identities).toMatch(/^\d+@\S+ netcheck\/enc=on:fc-1$/m);
    expect(identities).not.toContain(ring.keys.get('fc-1')!.toString('base64'));
  });

  it('a client without keys is refused (client API and CLI, exit 2), and the histories of the queue hold no number in the clear', async () => {
    const msisdn = await numberWith(env.simulatorUrl, { lastSimChangeHoursAgo: 3 });
    // A client with the ring checks the number: encrypted end to end.
    const ok = await checkNumber(
      keyed,
      { msisdn, operation: 'sim-swap', maxAge: 24 },
      { taskQueue, subjectKey },
    );
    expect(ok).toMatchObject({ status: 'ok', data: { swapped: true } });

    const request = { msisdn, operation: 'sim-swap', maxAge: 24 } as const;
    // netcheck's client without keys, and a client made without netcheck's DataConverter.
    for (const client of [keyless, env.client]) {
      const err = await rejection(
        startCheck(client, request, { taskQueue, subjectKey, requestId: 'refused' }),
      );
      expect(err).toBeInstanceOf(ConfigurationError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `task queue "${taskQueue}" encrypt payloads \\(key "fc-1".*no key ring: nothing was sent.*Set NETCHECK_ENCRYPTION_KEYS`,
          's',
        ),
      );
    }
    const batchErr = await rejection(
      startBatch(keyless, [{ msisdn, operations: ['sim-swap'] }], {
        batchId: `refused-${taskQueue}`,
        taskQueue,
        subjectKey,
      }),
    );
    expect(batchErr).toBeInstanceOf(ConfigurationError);
    expect((batchErr as Error).message).toMatch(/NETCHECK_ENCRYPTION_KEYS/);

    // The CLI, from a shell without keys: exit 2, the same message, nothing started.
    const shell = sharedStackEnv(taskQueue);
    const check = await runCli(['check', '-', '--op', 'sim-swap', '--request-id', 'cli-refused'], {
      env: shell,
      input: `${msisdn}\n`,
    });
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/encrypt payloads \(key "fc-1".*NETCHECK_ENCRYPTION_KEYS/s);
    const batch = await runCli(['batch', '-', '--op', 'sim-swap', '--no-wait'], {
      env: shell,
      input: `msisdn\n${msisdn}\n`,
    });
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/NETCHECK_ENCRYPTION_KEYS/);
    expect(batch.stdout).toBe(''); // no batch id: nothing was started

    // Nothing was started by the refused clients (their workflow ids are known)…
    const refusedIds = [
      `netcheck-camara-sim-swap-${subjectOf(msisdn, subjectKey)}-refused`,
      `netcheck-camara-sim-swap-${subjectOf(msisdn, shell.NETCHECK_SUBJECT_KEY!)}-cli-refused`,
      `refused-${taskQueue}`,
    ];
    for (const id of refusedIds) {
      await expect(env.client.workflow.getHandle(id).describe()).rejects.toBeInstanceOf(
        WorkflowNotFoundError,
      );
    }
    // (the id form is right: the same request from the keyed client is there)
    const accepted = await startCheck(keyed, request, { taskQueue, subjectKey, requestId: 'refused' });
    expect(accepted.workflowId).toBe(refusedIds[0]);
    await accepted.result();
    // …and what the queue holds (the keyed checks and their activities) shows no spelling of the number.
    const histories = await queueHistories(taskQueue, 2);
    for (const history of histories) expect(found(history, spellings(msisdn))).toEqual([]);
  });

  it('a keyed worker given an unencrypted check input fails that run at once with CONFIGURATION, without calling Vonage', async () => {
    const msisdn = await numberWith(env.simulatorUrl, { lastSimChangeHoursAgo: 3 });
    // A raw Temporal client bypasses the guard: the input reaches the server in the clear.
    const handle = await env.client.workflow.start('networkCheck', {
      taskQueue,
      workflowId: `plaintext-check-${taskQueue}`,
      args: [{ msisdn, operation: 'sim-swap', maxAge: 24 }],
    });
    // The failure is encrypted like every payload of the worker: read it with the ring.
    const failure = failureOf(await rejection(keyed.workflow.getHandle(handle.workflowId).result()));
    expect(failure.type).toBe('CONFIGURATION');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(
      /This check's input arrived unencrypted, but this worker encrypts payloads \(key "fc-1"\): the client that sent it has no NETCHECK_ENCRYPTION_KEYS/,
    );
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    // One workflow task: the patch marker and the failure. No task retried, no activity, no request.
    expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toHaveLength(0);
    expect(events.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(0);
    expect(historyText(history)).toContain(REFUSE_PLAINTEXT);
    expect(events.at(-1)?.workflowExecutionFailedEventAttributes).toBeTruthy();
    expect((await simulatorStats(env.simulatorUrl, msisdn)).total).toBe(0);
  });

  it('an unencrypted batch start fails at once; an unencrypted page of numbers is refused and never reaches history', async () => {
    const msisdn = await numberWith(env.simulatorUrl, { lastSimChangeHoursAgo: 3 });
    const plainBatch = await env.client.workflow.start('batchCheck', {
      taskQueue,
      workflowId: `plaintext-batch-${taskQueue}`,
      args: [{ batchId: `plaintext-batch-${taskQueue}`, options: {} }],
    });
    expect(failureOf(await rejection(keyed.workflow.getHandle(plainBatch.workflowId).result())).type).toBe(
      'CONFIGURATION',
    );

    // A batch started with the ring, then a page sent to it in the clear.
    const batchId = `encrypted-batch-${taskQueue}`;
    await keyed.workflow.start('batchCheck', {
      taskQueue,
      workflowId: batchId,
      args: [{ batchId, options: {} }],
    });
    const page = { pageIndex: 0, items: [{ index: 0, msisdn, operations: ['sim-swap'] }], last: true };
    // A client that sends in the clear (like a raw one) but reads the worker's encrypted answer.
    const sendsClear = new Client({
      connection: env.client.connection,
      dataConverter: {
        ...encryptingDataConverter(ring),
        payloadCodecs: [
          { encode: (p) => Promise.resolve(p), decode: (p) => new EncryptionCodec(ring).decode(p) },
        ],
      },
    });
    const err = await rejection(
      sendsClear.workflow.getHandle(batchId).executeUpdate('addPage', { args: [page] }),
    );
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (err as WorkflowUpdateFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('CONFIGURATION');
    const history = await env.client.workflow.getHandle(batchId).fetchHistory();
    expect(history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(0);
    expect(found(historyText(history), spellings(msisdn))).toEqual([]);
    await keyed.workflow.getHandle(batchId).terminate('test over');
    expect((await simulatorStats(env.simulatorUrl, msisdn)).total).toBe(0);
  });

  it('when no worker is polling, the identities in the newest runs still say the queue encrypts', async () => {
    const workers = await recentRunsEncryption(keyless, taskQueue);
    expect(workers.length).toBeGreaterThan(0);
    expect(workers.every((w) => w.encrypts && w.keyId === 'fc-1')).toBe(true);
  });
});

describe('switching encryption on', () => {
  it('a run started in the clear before its worker had keys goes on after the switch', async () => {
    const taskQueue = uniqueTaskQueue('fail-closed-switch');
    const ring = parseKeyRing(newKeyEntry('fc-2'), 'TEST');
    const keyed = new Client({
      connection: env.client.connection,
      dataConverter: encryptingDataConverter(ring),
    });
    const before = await startWorker(taskQueue);
    // Pending polls keep the check running while its worker changes.
    const msisdn = await numberWith(env.simulatorUrl, {
      lastSimChangeHoursAgo: 3,
      pendingPolls: 3,
      interval: 1,
    });
    const handle = await startCheck(
      env.client,
      { msisdn, operation: 'sim-swap', maxAge: 24 },
      { taskQueue, subjectKey },
    );
    await eventually(async () => {
      const { events } = await handle.fetchHistory();
      return events?.some((e) => e.activityTaskScheduledEventAttributes);
    });
    before.shutdown();
    await workers.find((w) => w.worker === before)!.running;
    await startWorker(taskQueue, ring);
    // It replays its unencrypted history on the keyed worker and finishes (its result now encrypted).
    const result: unknown = await keyed.workflow.getHandle(handle.workflowId).result();
    expect(result).toMatchObject({ status: 'ok', data: { swapped: true } });
    expect(historyText(await handle.fetchHistory())).not.toContain(REFUSE_PLAINTEXT);
  });

  it('NETCHECK_ALLOW_PLAINTEXT_UNTIL lets unencrypted inputs through, and says so in the run', async () => {
    const taskQueue = uniqueTaskQueue('fail-closed-window');
    const ring = {
      ...parseKeyRing(newKeyEntry('fc-3'), 'TEST'),
      allowPlaintextUntil: new Date(Date.now() + 24 * 3_600_000),
    };
    const keyed = new Client({
      connection: env.client.connection,
      dataConverter: encryptingDataConverter(ring),
    });
    const keyless = new Client({
      connection: env.client.connection,
      dataConverter: dataConverterFromEnv({}),
    });
    await startWorker(taskQueue, ring);
    await eventually(async () => (await queueEncryption(keyless, taskQueue)).workers.length > 0);
    const msisdn = await numberWith(env.simulatorUrl, { lastSimChangeHoursAgo: 3 });
    const handle = await startCheck(
      keyless,
      { msisdn, operation: 'sim-swap', maxAge: 24 },
      { taskQueue, subjectKey },
    );
    const result: unknown = await keyed.workflow.getHandle(handle.workflowId).result();
    expect(result).toMatchObject({ status: 'ok', data: { swapped: true } });
    expect(historyText(await handle.fetchHistory())).toContain(PLAINTEXT_ALLOWED);
  });
});

describe('NETCHECK_ENCRYPTION=off and empty key variables', () => {
  it('off on the worker and the client: checks run, the worker says so once, without the cleartext warning', async () => {
    const taskQueue = uniqueTaskQueue('fail-closed-off');
    const workerEnv = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      VONAGE_APPLICATION_ID: inject('applicationId'),
      VONAGE_PRIVATE_KEY: inject('privateKeyPem'),
      VONAGE_API_BASE_URL: inject('simulatorUrl'),
      NETCHECK_TASK_QUEUE: taskQueue,
      NETCHECK_ENCRYPTION: 'off',
    };
    const { child, exited, output } = await spawnWorker(['--import', 'tsx', 'worker/run.ts'], {
      env: { ...process.env, ...prebuiltBundleEnv(workerEnv), ...workerEnv },
    });
    processes.push(child);
    try {
      const client = new Client({
        connection: env.client.connection,
        dataConverter: dataConverterFromEnv({ NETCHECK_ENCRYPTION: 'off' }),
      });
      const msisdn = await numberWith(env.simulatorUrl, { lastSimChangeHoursAgo: 3 });
      const result = await checkNumber(
        client,
        { msisdn, operation: 'sim-swap', maxAge: 24 },
        { taskQueue, subjectKey },
      );
      expect(result).toMatchObject({ status: 'ok', data: { swapped: true } });
      expect((await queueEncryption(client, taskQueue)).workers).toContainEqual({ encrypts: false });
    } finally {
      child.kill('SIGINT');
      await exited;
    }
    expect(output()).toMatch(/polling task queue .*payloads in the clear: NETCHECK_ENCRYPTION=off/);
    expect(output()).not.toMatch(/stored in the clear/);
  }, 240_000);

  it('an empty NETCHECK_ENCRYPTION_KEYS is a configuration error for the CLI (exit 2), not "no encryption"', async () => {
    const shell = { ...sharedStackEnv(uniqueTaskQueue('fail-closed-empty')), NETCHECK_ENCRYPTION_KEYS: ' ' };
    const check = await runCli(['check', '+447700900001', '--op', 'sim-swap'], { env: shell });
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/NETCHECK_ENCRYPTION_KEYS is set but empty/);
    const worker = await runCli(['worker'], { env: shell });
    expect(worker.code).toBe(2);
    expect(worker.stderr).toMatch(/NETCHECK_ENCRYPTION_KEYS is set but empty/);
  });
});

describe('the plugin with a key ring, and its workflow bundle', () => {
  it("refuses a prebuilt bundle without netcheck's payload converter, and a host payload converter in its place", async () => {
    // Bundles built with the plugin carry it; the plain test bundle (bundleWorkflowCode alone) does not.
    expect(bundleMarksPlaintext(inject('encryptedWorkerBundlePath'))).toBe(true);
    expect(bundleMarksPlaintext(inject('workerBundlePath'))).toBe(true);
    expect(bundleMarksPlaintext(inject('workflowBundlePath'))).toBe(false);
    const plugin = netcheckPlugin({ ...env.vonage, encryption: parseKeyRing(newKeyEntry('fc-4'), 'TEST') });
    await expect(
      Worker.create({
        connection: env.nativeConnection,
        taskQueue: uniqueTaskQueue('fail-closed-bundle'),
        workflowBundle: { codePath: inject('workflowBundlePath') },
        plugins: [plugin],
      }),
    ).rejects.toThrow(/the workflow bundle must carry netcheck's payload converter.*build:bundle/s);
    await expect(
      Worker.create({
        connection: env.nativeConnection,
        taskQueue: uniqueTaskQueue('fail-closed-converter'),
        dataConverter: { payloadConverterPath: '/host/payload-converter.cjs' },
        plugins: [plugin],
      }),
    ).rejects.toThrow(/brings its own \(\/host\/payload-converter\.cjs\)/);
  });
});
