/**
 * The Go client of examples/go, written from docs/contract.md alone, against the dev server, the
 * simulator and a TypeScript worker: every operation from Go, an encrypted check (Go's codec
 * writes, the TypeScript worker reads, and back), a batch through the page protocol, an
 * encrypted batch. What Go decodes matches the contract's schemas and what netcheck's
 * TypeScript client reads from the same workflows. Skipped, saying so, when `go` is not on PATH.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BatchConflictError, getBatch, startBatch } from '../../client/batch.js';
import { subjectOf } from '../../client/subject.js';
import { encryptingDataConverter } from '../../codec/data-converter.js';
import { newKeyEntry, parseKeyRing } from '../../codec/keyring.js';
import { INPUT_FINGERPRINT_MEMO } from '../../client/batch.js';
import type { BatchItem, BatchRecord } from '../../domain/batch.js';
import type { CheckResult } from '../../domain/types.js';
import {
  connectTestEnv,
  createTestWorker,
  numberWith,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';
import { buildGoExample, contractDir, goMissing, runGoExample, runIn } from './go.js';
import { schemaProblems, vectors } from './schemas.js';

const missing = goMissing();

/** JSON as both sides mean it: an absent field and a null one (latestSimChange) are the same. */
function normalized(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (_key, v: unknown) => (v === null ? undefined : v)) as unknown;
}

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

describe.skipIf(missing)('the Go client against netcheck', () => {
  let env: TestEnv;
  let raw: Client;
  let encrypted: Client;
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];
  const plainQueue = uniqueTaskQueue('go-plain');
  const encryptedQueue = uniqueTaskQueue('go-encrypted');
  const subjectKey = randomBytes(32).toString('hex');
  const ringText = `${newKeyEntry('go-k2')},${newKeyEntry('go-k1')}`;
  const ring = parseKeyRing(ringText, 'test ring');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-go-test-'));
  const goEnv = (queue: string, extra: Record<string, string> = {}) => ({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: 'default',
    NETCHECK_TASK_QUEUE: queue,
    NETCHECK_SUBJECT_KEY: subjectKey,
    NETCHECK_ENCRYPTION_KEYS: '',
    ...extra,
  });

  beforeAll(async () => {
    // Build first (a cold build of the Temporal Go SDK takes a minute or two on 2 cores).
    await buildGoExample();
    env = await connectTestEnv();
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    raw = new Client({ connection }); // no codec: what the Temporal service stores
    encrypted = new Client({ connection, dataConverter: encryptingDataConverter(ring) });
    workers.push(await createTestWorker(env, plainQueue));
    workers.push(
      await createTestWorker(env, encryptedQueue, {
        workflowBundle: { codePath: inject('encryptedWorkerBundlePath') },
        vonage: { encryption: ring },
      }),
    );
    running.push(...workers.map((w) => w.run()));
  }, 900_000);

  afterAll(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await env?.close();
  });

  it('its own tests pass: golden vectors (subject, fingerprint, one ciphertext per key id) and its types against the schemas', async () => {
    const run = await runIn('go', ['test', './...'], { NETCHECK_CONTRACT_DIR: contractDir }, 600_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ok\s+example\.com\/netcheck-go\/netcheck/m);
  }, 600_000);

  it('starts every operation, unencrypted; each result matches the schemas and what the TypeScript client reads', async () => {
    const msisdn = await numberWith(env.simulatorUrl, { interval: 0.2, lastSimChangeHoursAgo: 5 });
    const lines = await runGoExample(['checks', '-msisdn', msisdn], goEnv(plainQueue));
    expect(lines.map((l) => (l.result as CheckResult).operation).sort()).toEqual(
      ['carrier', 'device-connectivity', 'device-roaming', 'sim-swap', 'sim-swap-date'].sort(),
    );
    for (const line of lines) {
      const result = line.result as CheckResult;
      expect(result.status, JSON.stringify(result)).toBe('ok');
      expect(schemaProblems('schemas/network-check.result.json', result)).toEqual([]);
      expect(schemaProblems(`schemas/checks/${result.api}.${result.operation}.result.json`, result)).toEqual(
        [],
      );
      // The subject as the contract says, in the id and the search attribute.
      const subject = subjectOf(msisdn, subjectKey);
      expect(line.subject).toBe(subject);
      const workflowId = line.workflowId as string;
      expect(workflowId).toMatch(
        new RegExp(`^netcheck-${result.api}-${result.operation}-${subject}-[0-9a-f-]{36}$`),
      );
      const handle = raw.workflow.getHandle(workflowId);
      const description = await handle.describe();
      expect(description.searchAttributes.NetcheckSubject).toEqual([subject]);
      expect(description.searchAttributes.NetcheckOperation).toEqual([result.operation]);
      expect(normalized(await handle.result())).toEqual(normalized(result));
    }
    const carrier = lines.find((l) => (l.result as CheckResult).operation === 'carrier')!
      .result as CheckResult;
    expect(carrier.api).toBe('identity-insights');
  });

  it('an encrypted check: Go encrypts the input with its primary key, the worker reads it, and Go decodes the encrypted result', async () => {
    const ok = await numberWith(env.simulatorUrl, { interval: 0.2, lastSimChangeHoursAgo: 5 });
    const unknown = await numberWith(env.simulatorUrl, { interval: 0.2, unknown: true });
    const goEncrypted = goEnv(encryptedQueue, { NETCHECK_ENCRYPTION_KEYS: ringText });
    const requestId = `order-${randomUUID()}`;
    const [answer] = await runGoExample(
      ['check', '-msisdn', ok, '-op', 'sim-swap', '-request-id', requestId],
      goEncrypted,
    );
    const result = answer!.result as CheckResult;
    expect(result).toMatchObject({
      status: 'ok',
      operation: 'sim-swap',
      api: 'camara',
      data: { swapped: true },
    });
    expect(schemaProblems('schemas/checks/camara.sim-swap.result.json', result)).toEqual([]);
    const workflowId = answer!.workflowId as string;
    expect(workflowId).toBe(`netcheck-camara-sim-swap-${subjectOf(ok, subjectKey)}-${requestId}`);

    // What the service stores: ciphertext under the ring's first key, both ways.
    const history = await raw.workflow.getHandle(workflowId).fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(text(input.metadata!.encoding)).toBe('binary/encrypted');
    expect(text(input.metadata!['encryption-key-id'])).toBe(ring.primary);
    expect(Buffer.from(input.data!).toString('latin1')).not.toContain(ok);
    const completed = history.events!.find((e) => e.workflowExecutionCompletedEventAttributes)!;
    const output = completed.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!;
    expect(text(output.metadata!.encoding)).toBe('binary/encrypted');
    // netcheck's own client with the same ring reads the same result.
    expect(normalized(await encrypted.workflow.getHandle(workflowId).result())).toEqual(normalized(result));

    // Starting again with the same request id is the same check: the same run's result.
    const [again] = await runGoExample(
      ['check', '-msisdn', ok, '-op', 'sim-swap', '-request-id', requestId],
      goEncrypted,
    );
    expect(again!.workflowId).toBe(workflowId);
    expect((again!.result as CheckResult).correlationId).toBe(result.correlationId);

    // A final answer for the number is a failed result with its code, decoded the same way.
    const [failure] = await runGoExample(['check', '-msisdn', unknown, '-op', 'device-roaming'], goEncrypted);
    expect(failure!.result).toMatchObject({ status: 'failed', error: { code: 'UNKNOWN_NUMBER' } });
    expect(schemaProblems('schemas/checks/camara.device-roaming.result.json', failure!.result)).toEqual([]);
  });

  async function goBatch(queue: string, extra: Record<string, string>, items: BatchItem[], pageSize: number) {
    const batchId = `go-batch-${randomUUID()}`;
    const file = path.join(dir, `${batchId}.json`);
    writeFileSync(file, JSON.stringify(items));
    const lines = await runGoExample(
      ['batch', '-batch-id', batchId, '-items', file, '-page-size', String(pageSize)],
      goEnv(queue, extra),
    );
    const records = lines.filter((l) => l.kind === 'record').map((l) => l.record as BatchRecord);
    const summary = lines.find((l) => l.kind === 'progress')!;
    return { batchId, records, summary };
  }

  it('a batch through the page protocol: records for every (item, operation), duplicates fanned out, the fingerprint memo as TypeScript writes it', async () => {
    const a = await numberWith(env.simulatorUrl, { interval: 0.2, lastSimChangeHoursAgo: 5 });
    const b = await numberWith(env.simulatorUrl, { interval: 0.2 });
    const items: BatchItem[] = [
      { msisdn: a, operations: ['sim-swap', 'device-roaming'], ref: 'first' },
      { msisdn: b, operations: ['carrier'], ref: 'second' },
      { msisdn: a, operations: ['sim-swap'], ref: 'repeat of first' },
      { msisdn: '0044 not a number', operations: ['sim-swap'], ref: 'invalid' },
    ];
    const { batchId, records, summary } = await goBatch(plainQueue, {}, items, 2);
    expect(records).toHaveLength(5);
    for (const record of records) expect(schemaProblems('schemas/batch-record.json', record)).toEqual([]);
    const byRef = (ref: string) => records.filter((r) => r.ref === ref);
    expect(byRef('first').map((r) => r.outcome)).toEqual(['ok', 'ok']);
    expect(byRef('second')[0]).toMatchObject({ outcome: 'ok', result: { api: 'identity-insights' } });
    const [repeat] = byRef('repeat of first');
    expect(repeat).toMatchObject({ outcome: 'ok', duplicateOf: 0, operation: 'sim-swap' });
    expect(repeat!.result!.correlationId).toBe(
      byRef('first').find((r) => r.operation === 'sim-swap')!.result!.correlationId,
    );
    expect(byRef('invalid')[0]).toMatchObject({ outcome: 'invalid', error: { code: 'INVALID_INPUT' } });
    const progress = summary.progress as {
      state: string;
      total: number;
      duplicates: number;
      pagesReceived: number;
    };
    expect(progress).toMatchObject({ state: 'completed', total: 5, duplicates: 1, pagesReceived: 2 });

    // netcheck's TypeScript client reads the same records…
    const ts: BatchRecord[] = [];
    for await (const record of getBatch(raw, batchId).results({ pollIntervalMs: 200 })) ts.push(record);
    const key = (r: BatchRecord) => `${r.index}|${r.operation}|${r.outcome}`;
    expect(ts.map(key).sort()).toEqual(records.map(key).sort());
    // …finds the memo Go wrote, and attaches to the batch with the same input (same page size)…
    const { memo } = await raw.workflow.getHandle(batchId).describe();
    expect(memo?.[INPUT_FINGERPRINT_MEMO]).toBe(summary.fingerprint);
    const options = { batchId, subjectKey, taskQueue: plainQueue, pageSize: 2 };
    const attached = await startBatch(raw, items, options);
    expect((await attached.result()).total).toBe(5);
    // …and refuses other input under the same id.
    await expect(startBatch(raw, items.slice(1), options)).rejects.toBeInstanceOf(BatchConflictError);
  });

  it('an encrypted batch: pages, memo and records encrypted with the ring', async () => {
    const a = await numberWith(env.simulatorUrl, { interval: 0.2, lastSimChangeHoursAgo: 5 });
    const items: BatchItem[] = [
      { msisdn: a, operations: ['sim-swap'], ref: 'x' },
      { msisdn: a, operations: ['device-connectivity'], api: 'identity-insights', ref: 'y' },
    ];
    const { batchId, records } = await goBatch(
      encryptedQueue,
      { NETCHECK_ENCRYPTION_KEYS: ringText },
      items,
      500,
    );
    expect(records.map((r) => [r.ref, r.outcome]).sort()).toEqual([
      ['x', 'ok'],
      ['y', 'ok'],
    ]);
    const description = await raw.workflowService.describeWorkflowExecution({
      namespace: 'default',
      execution: { workflowId: batchId },
    });
    const memo = description.workflowExecutionInfo!.memo!.fields![INPUT_FINGERPRINT_MEMO]!;
    expect(text(memo.metadata!.encoding)).toBe('binary/encrypted');
    const history = await raw.workflow.getHandle(batchId).fetchHistory();
    const update = history.events!.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)!;
    const page =
      update.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!.args!.payloads![0]!;
    expect(text(page.metadata!.encoding)).toBe('binary/encrypted');
    expect(text(page.metadata!['encryption-key-id'])).toBe(ring.primary);
  });

  it("the fingerprint vector is what netcheck's startBatch writes", async () => {
    const { key, items, fingerprint } = vectors().batchFingerprint;
    const batchId = `fingerprint-vector-${randomUUID()}`;
    const batch = await startBatch(raw, items as BatchItem[], {
      batchId,
      subjectKey: key,
      taskQueue: plainQueue,
    });
    const { memo } = await raw.workflow.getHandle(batchId).describe();
    expect(memo?.[INPUT_FINGERPRINT_MEMO]).toBe(fingerprint);
    await batch.result();
  });
});

// Said in the test report, not skipped in silence.
if (missing) it('the Go client against netcheck', (ctx) => ctx.skip(missing));
