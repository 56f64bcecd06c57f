/**
 * The `netcheck` Nexus service (worker/nexus.ts) on the dev server: a second namespace, an
 * endpoint that targets a netcheck worker started with `nexus`, and callers in that namespace —
 * the TypeScript workflows of examples/nexus-caller and, when `go` is on PATH, the Go example —
 * that know only the endpoint and the service's names.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { subjectOf } from '../../client/subject.js';
import type { CheckResult } from '../../domain/types.js';
import type * as callerWorkflows from '../../examples/nexus-caller/workflows.js';
import {
  connectTestEnv,
  createTestWorker,
  numberWith,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';
import { goMissing, runGoExample } from './go.js';
import { schemaProblems } from './schemas.js';

const exec = promisify(execFile);
const callerWorkflowsPath = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  'examples',
  'nexus-caller',
  'workflows.ts',
);

async function temporal(args: string[]): Promise<string> {
  const { stdout } = await exec(
    inject('temporalCliPath'),
    [...args, '--address', inject('temporalAddress')],
    {
      timeout: 60_000,
    },
  );
  return stdout;
}

/** Retries `fn` while it throws (a new namespace or endpoint takes a few seconds to be served everywhere). */
async function eventually<T>(fn: () => Promise<T>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

describe('the netcheck Nexus service, called from another namespace', () => {
  let env: TestEnv;
  let caller: Client;
  let netcheck: Client;
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];
  const suffix = randomBytes(6).toString('hex');
  const callerNamespace = `fraud-${suffix}`;
  const endpoint = `netcheck-${suffix}`;
  const netcheckQueue = uniqueTaskQueue('nexus-netcheck');
  const callerQueue = uniqueTaskQueue('nexus-caller');
  const subjectKey = randomBytes(32).toString('hex');

  beforeAll(async () => {
    env = await connectTestEnv();
    await temporal(['operator', 'namespace', 'create', '--namespace', callerNamespace]);
    await temporal([
      'operator',
      'nexus',
      'endpoint',
      'create',
      '--name',
      endpoint,
      '--target-namespace',
      'default',
      '--target-task-queue',
      netcheckQueue,
    ]);
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    caller = new Client({ connection, namespace: callerNamespace });
    netcheck = new Client({ connection });
    // The netcheck side: a worker that also serves the Nexus service.
    workers.push(await createTestWorker(env, netcheckQueue, { vonage: { nexus: { subjectKey } } }));
    // The caller side: its own worker, in its own namespace, with its own workflows.
    await eventually(() => caller.workflow.count());
    workers.push(
      await Worker.create({
        connection: env.nativeConnection,
        namespace: callerNamespace,
        taskQueue: callerQueue,
        workflowsPath: callerWorkflowsPath,
      }),
    );
    running.push(...workers.map((w) => w.run()));
  }, 300_000);

  afterAll(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await env?.close();
  });

  const callCheck = (input: Parameters<typeof callerWorkflows.checkViaNexus>[1]) =>
    caller.workflow.execute<typeof callerWorkflows.checkViaNexus>('checkViaNexus', {
      taskQueue: callerQueue,
      workflowId: `caller-${randomUUID()}`,
      args: [endpoint, input],
    });

  it('check: the caller gets the CheckResult; the check is a networkCheck run under the id rule, started by the handler', async () => {
    const msisdn = await numberWith(env.simulatorUrl, { interval: 0.2, lastSimChangeHoursAgo: 5 });
    const requestId = `case-${randomUUID()}`;
    const result: CheckResult = await callCheck({ msisdn, operation: 'sim-swap', maxAge: 24, requestId });
    expect(result).toMatchObject({
      status: 'ok',
      operation: 'sim-swap',
      api: 'camara',
      data: { swapped: true },
    });
    expect(schemaProblems('schemas/network-check.result.json', result)).toEqual([]);
    const subject = subjectOf(msisdn, subjectKey);
    const run = netcheck.workflow.getHandle(`netcheck-camara-sim-swap-${subject}-${requestId}`);
    const description = await run.describe();
    expect(description.type).toBe('networkCheck');
    expect(description.searchAttributes.NetcheckSubject).toEqual([subject]);
    expect(((await run.result()) as CheckResult).correlationId).toBe(result.correlationId);

    // The same requestId again, from another caller workflow, after the check closed: the same check.
    const again = await callCheck({ msisdn, operation: 'sim-swap', maxAge: 24, requestId });
    expect(again.correlationId).toBe(result.correlationId);
    const runs = netcheck.workflow.list({ query: `NetcheckSubject = "${subject}"` });
    const ids: string[] = [];
    for await (const info of runs) ids.push(info.workflowId);
    expect(ids).toEqual([run.workflowId]);
  });

  it('check: input the contract refuses fails the operation at once, saying what is wrong', async () => {
    const err = await callCheck({ msisdn: '07700 900000', operation: 'sim-swap' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const messages: string[] = [];
    for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) messages.push(cause.message);
    expect(messages.join(' | ')).toMatch(/msisdn must be E\.164/);
  });

  it('batch: the caller gets the batch summary once every record is in', async () => {
    const a = await numberWith(env.simulatorUrl, { interval: 0.2 });
    const batchId = `nexus-batch-${randomUUID()}`;
    const summary = await caller.workflow.execute<typeof callerWorkflows.batchViaNexus>('batchViaNexus', {
      taskQueue: callerQueue,
      workflowId: `caller-${randomUUID()}`,
      args: [
        endpoint,
        {
          batchId,
          items: [
            { msisdn: a, operations: ['device-connectivity', 'carrier'], ref: 'one' },
            { msisdn: a, operations: ['device-connectivity'], ref: 'again' },
          ],
        },
      ],
    });
    expect(schemaProblems('schemas/batch-check.result.json', summary)).toEqual([]);
    expect(summary).toMatchObject({ batchId, state: 'completed', total: 3, duplicates: 1 });
    // The repeat is checked once: two checks answered, the third record repeats the first.
    expect(summary.byOutcome.ok).toBe(2);
    expect((await netcheck.workflow.getHandle(batchId).describe()).type).toBe('batchCheck');
  });

  const missing = goMissing();
  it.skipIf(missing)(
    'check from Go: the Go example calls the same endpoint from a Go workflow',
    async () => {
      const msisdn = await numberWith(env.simulatorUrl, { interval: 0.2 });
      const [line] = await runGoExample(
        [
          'nexus',
          '-caller-namespace',
          callerNamespace,
          '-endpoint',
          endpoint,
          '-msisdn',
          msisdn,
          '-op',
          'device-roaming',
        ],
        {
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          NETCHECK_SUBJECT_KEY: '',
          NETCHECK_ENCRYPTION_KEYS: '',
        },
        600_000,
      );
      const result = line!.result as CheckResult;
      expect(result).toMatchObject({ status: 'ok', operation: 'device-roaming', api: 'camara' });
      expect(schemaProblems('schemas/checks/camara.device-roaming.result.json', result)).toEqual([]);
    },
    700_000,
  );
});
