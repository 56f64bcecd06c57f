/**
 * What history holds: no credentials in the clear, and recorded histories of real runs still
 * replay against today's workflow code (a non-deterministic change fails here, before it
 * breaks runs in flight).
 *
 * Fixtures are the protobuf History as plain JSON (bytes base64, enums by name). (historyToJSON
 * from @temporalio/common trips over the two protobufjs copies npm installs here.)
 *
 * Add fixtures for new paths (existing files are kept: they are history from older code):
 *   NETCHECK_RECORD_HISTORIES=1 npx vitest run test/history.test.ts
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it, inject } from 'vitest';
import { createTokenSealer } from '../activities/index.js';
import { startBatch } from '../client/batch.js';
import { startCheck } from '../client/index.js';
import type { CheckOptions, CheckRequest } from '../domain/types.js';
import { addScenarios, uniqueNumber, useTestWorker } from './support/harness.js';

const fixturesDir = path.join(import.meta.dirname, 'fixtures', 'histories');
const recording = process.env.NETCHECK_RECORD_HISTORIES === '1';
const { History } = temporal.api.history.v1;
const historyToJSON = (history: temporal.api.history.v1.IHistory) =>
  JSON.stringify(
    History.toObject(History.fromObject(history), { bytes: String, longs: String, enums: String }),
  );
const historyFromJSON = (json: unknown) => History.fromObject(json as Record<string, unknown>);

const ctx = useTestWorker('history');

async function runAndFetch(request: CheckRequest, options: CheckOptions = {}) {
  const handle = await startCheck(ctx.env.client, request, {
    taskQueue: ctx.taskQueue,
    subjectKey: 'history-test',
    ...options,
  });
  await handle.result();
  return { handle, history: await handle.fetchHistory() };
}

describe('history holds no credentials', () => {
  it('neither the access token, nor the application JWT, nor the private key', async () => {
    const msisdn = uniqueNumber();
    await addScenarios(ctx.env.simulatorUrl, {
      numbers: { [msisdn]: { interval: 0.2, lastSimChangeHoursAgo: 5 } },
    });
    const { handle, history } = await runAndFetch({ msisdn, operation: 'sim-swap', maxAge: 12 });
    const json = historyToJSON(history);

    // Payload data is base64 in history JSON: decode it so the assertions see the text.
    const decodedPayloads = json + extractPayloadText(json);
    // The sealed token is in history; open it with the worker's key to learn the real token.
    const sealedToken = /v2\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/.exec(
      decodedPayloads,
    )?.[0];
    expect(sealedToken, 'the sealed token should be in history').toBeDefined();
    const correlationId = /"correlationId":"([0-9a-f-]{36})"/.exec(decodedPayloads)?.[1];
    const token = createTokenSealer(ctx.env.vonage.privateKey).openToken(sealedToken!, {
      operation: 'sim-swap',
      msisdn,
      correlationId: correlationId!,
      // The seal binds the workflow run too.
      workflowId: handle.workflowId,
      runId: (await handle.describe()).runId,
    });
    expect(token.length).toBeGreaterThan(8);
    expect(decodedPayloads).not.toContain(token);

    // An RS256 JWT starts with the base64url of '{"alg":"RS256"' (or '{"typ":"JWT"').
    expect(decodedPayloads).not.toMatch(/eyJhbGciOiJSUzI1Ni|eyJ0eXAiOiJKV1Qi/);
    const pem = inject('privateKeyPem');
    const keyBody = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const line of keyBody) expect(decodedPayloads).not.toContain(line);
    expect(decodedPayloads).not.toContain('PRIVATE KEY');
  });
});

/** Payload data in history JSON is base64: decode every `data` field so assertions see the text. */
function extractPayloadText(json: string): string {
  const out: string[] = [];
  for (const match of json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)) {
    out.push(Buffer.from(match[1]!, 'base64').toString('utf8'));
  }
  return out.join('\n');
}

describe('recorded histories replay against the current workflow code', () => {
  it.runIf(recording)('records fixtures from real runs', async () => {
    mkdirSync(fixturesDir, { recursive: true });
    const scenarios: Array<[string, CheckRequest, object, CheckOptions?]> = [
      [
        'sim-swap-ok',
        { msisdn: uniqueNumber(), operation: 'sim-swap', maxAge: 48 },
        { lastSimChangeHoursAgo: 5 },
      ],
      [
        'connectivity-pending',
        { msisdn: uniqueNumber(), operation: 'device-connectivity' },
        { pendingPolls: 2, connectivity: 'CONNECTED_DATA' },
      ],
      [
        'roaming-expired-reauthorized',
        { msisdn: uniqueNumber(), operation: 'device-roaming' },
        { roaming: { roaming: false }, faults: [{ endpoint: 'token', status: 400, error: 'expired_token' }] },
      ],
      ['sim-swap-date-denied', { msisdn: uniqueNumber(), operation: 'sim-swap-date' }, { denied: true }],
      [
        'connectivity-interval-0-pending',
        { msisdn: uniqueNumber(), operation: 'device-connectivity' },
        { interval: 0, pendingPolls: 1, connectivity: 'NOT_CONNECTED' },
      ],
      [
        'fast-interval-pending',
        { msisdn: uniqueNumber(), operation: 'device-connectivity' },
        { pendingPolls: 1, connectivity: 'CONNECTED_DATA' },
        { fast: true },
      ],
      // Since the lean-history patch: the polls of an authorization are one activity.
      [
        'lean-connectivity-pending',
        { msisdn: uniqueNumber(), operation: 'device-connectivity' },
        { pendingPolls: 2, connectivity: 'CONNECTED_DATA' },
      ],
      [
        'lean-fast-pending',
        { msisdn: uniqueNumber(), operation: 'sim-swap', maxAge: 48 },
        { pendingPolls: 1, lastSimChangeHoursAgo: 5 },
        { fast: true },
      ],
      [
        'lean-roaming-expired-reauthorized',
        { msisdn: uniqueNumber(), operation: 'device-roaming' },
        { roaming: { roaming: false }, faults: [{ endpoint: 'token', status: 400, error: 'expired_token' }] },
      ],
      // Since the ciba-flow patch: the CIBA policy of domain/ciba-flow.ts (a slow_down ends the
      // polling activity; in fast mode its wait is a durable timer).
      [
        'flow-connectivity-pending',
        { msisdn: uniqueNumber(), operation: 'device-connectivity' },
        { pendingPolls: 2, connectivity: 'CONNECTED_DATA' },
      ],
      [
        'flow-slow-down',
        { msisdn: uniqueNumber(), operation: 'device-connectivity' },
        { connectivity: 'CONNECTED_DATA', faults: [{ endpoint: 'token', status: 400, error: 'slow_down' }] },
      ],
      [
        'flow-fast-slow-down',
        { msisdn: uniqueNumber(), operation: 'sim-swap', maxAge: 48 },
        { lastSimChangeHoursAgo: 5, faults: [{ endpoint: 'token', status: 400, error: 'slow_down' }] },
        { fast: true },
      ],
      // Since the netcheck-namespaced-activities patch: activity types are `netcheck.<name>`.
      [
        'named-connectivity-pending',
        { msisdn: uniqueNumber(), operation: 'device-connectivity' },
        { pendingPolls: 2, connectivity: 'CONNECTED_DATA' },
      ],
      [
        'named-fast-pending',
        { msisdn: uniqueNumber(), operation: 'sim-swap', maxAge: 48 },
        { pendingPolls: 1, lastSimChangeHoursAgo: 5 },
        { fast: true },
      ],
    ];
    // Existing fixtures are history from older code: keep them, add only the missing ones.
    const missing = (name: string) => !existsSync(path.join(fixturesDir, `${name}.json`));
    if (missing('batch-small')) {
      const msisdn = uniqueNumber();
      await addScenarios(ctx.env.simulatorUrl, {
        numbers: { [msisdn]: { interval: 0.2, connectivity: 'CONNECTED_DATA' } },
      });
      const items = [
        { msisdn, operations: ['device-connectivity' as const], ref: 'a' },
        { msisdn: 'not-a-number', operations: ['sim-swap' as const], ref: 'b' },
        { msisdn, operations: ['device-connectivity' as const], ref: 'c' },
      ];
      const batch = await startBatch(ctx.env.client, items, {
        batchId: `fixture-${Date.now()}`,
        taskQueue: ctx.taskQueue,
        subjectKey: 'history-test',
        resultPageSize: 2,
      });
      await batch.result();
      const history = await ctx.env.client.workflow.getHandle(batch.batchId).fetchHistory();
      writeFileSync(path.join(fixturesDir, 'batch-small.json'), historyToJSON(history));
    }
    for (const [name, request, entry, options] of scenarios.filter(([name]) => missing(name))) {
      await addScenarios(ctx.env.simulatorUrl, {
        numbers: { [request.msisdn]: { interval: 0.2, ...entry } },
      });
      const { history } = await runAndFetch(request, options);
      writeFileSync(path.join(fixturesDir, `${name}.json`), historyToJSON(history));
    }
  });

  it('every committed fixture replays clean', async () => {
    const files = readdirSync(fixturesDir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    // Each replays under its own workflow id, as a worker replays it (a workflow may derive its
    // children's ids from it: networkAssess does); the file name where a history has none.
    const fileOf = new Map<string, string>();
    const histories = files.map((file) => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(fixturesDir, file), 'utf8')));
      const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId || file;
      fileOf.set(workflowId, file);
      return { workflowId, history };
    });
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      histories,
    );
    const failures: string[] = [];
    for await (const result of results) {
      if (result.error) {
        failures.push(`${fileOf.get(result.workflowId) ?? result.workflowId}: ${String(result.error)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the fixtures hold both activity spellings: bare names before the namespace, netcheck.<name> after', () => {
    const scheduled = (file: string) =>
      (historyFromJSON(JSON.parse(readFileSync(path.join(fixturesDir, file), 'utf8'))).events ?? []).flatMap(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
      );
    // Recorded by older code: replaying them (above) schedules the bare names again.
    expect(scheduled('flow-connectivity-pending.json')).toContain('authorize');
    const named = scheduled('named-connectivity-pending.json');
    expect(named[0]).toBe('netcheck.authorize');
    expect(named.filter((n) => !n.startsWith('netcheck.'))).toEqual([]);
  });
});
