/**
 * `netcheck batch --assess`: one verdict record per number, as CSV and as JSON lines, with the
 * rate limit held: its own simulator limits at R requests per second (and counts every 1-s
 * window), the worker's queue-wide limit is R, and every assessment is exactly one Identity
 * Insights request. 100 numbers here; NETCHECK_ASSESS_BATCH_ITEMS=1000 runs the 1,000.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimulator, type ScenarioFile, type Simulator } from '../simulator/index.js';
import { runCli, sharedStackEnv } from './cli/support.js';
import { schemaProblems } from './contract/schemas.js';
import { connectTestEnv, createTestWorker, uniqueTaskQueue, type TestEnv } from './support/harness.js';

const ITEMS = Number(process.env.NETCHECK_ASSESS_BATCH_ITEMS) || 100;
const RATE = 20;

const POLICY = `name: sim-swap-only
rules:
  - { id: swap-24h, when: { sim_swap.within: 24h }, then: block }
  - { id: swap-7d, when: { sim_swap.within: 7d }, then: review }
  - { id: swap-unknown, when: { unknown: sim_swap }, then: review }
default: allow
`;

/** Number i: swapped 5 h ago (block), 100 h ago (review), never (allow), or unknown to Vonage (review). */
const hoursAgo = (i: number) => [5, 100, null, undefined][i % 4];
const expected = (i: number) => (['block', 'review', 'allow', 'review'] as const)[i % 4];
const numberOf = (i: number) => `+4477009${(10_000 + i).toString().padStart(5, '0')}`;

let env: TestEnv;
let sim: Simulator;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('assess-batch');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'netcheck-assess-batch-'));

beforeAll(async () => {
  env = await connectTestEnv();
  const numbers: NonNullable<ScenarioFile['numbers']> = {};
  for (let i = 0; i < ITEMS; i++) {
    const h = hoursAgo(i);
    numbers[numberOf(i)] =
      h === undefined
        ? { insights: { sim_swap: { status: 'NOT_FOUND' } } }
        : h === null
          ? { lastSimChange: null }
          : { lastSimChangeHoursAgo: h };
  }
  sim = await startSimulator({
    applicationId: env.vonage.applicationId,
    publicKey: createPublicKey(env.vonage.privateKey),
    port: 0,
    interval: 0,
    rateLimit: RATE,
    scenarios: { numbers },
  });
  worker = await createTestWorker(env, taskQueue, { vonage: { baseUrl: sim.url, rateLimit: RATE } });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sim?.close();
  await env?.close();
});

it(
  `${ITEMS} numbers: one verdict record each (CSV and JSONL), one request each, no 1-s window over R`,
  { timeout: 300_000 },
  async () => {
    const input = path.join(tmp, 'numbers.csv');
    writeFileSync(
      input,
      ['msisdn,ref', ...Array.from({ length: ITEMS }, (_, i) => `${numberOf(i)},r${i}`)].join('\n'),
    );
    const policy = path.join(tmp, 'policy.yaml');
    writeFileSync(policy, POLICY);
    const out = path.join(tmp, 'verdicts.csv');
    const cliEnv = { ...sharedStackEnv(taskQueue), NETCHECK_API: 'identity-insights' };

    const run = await runCli(['batch', input, '--assess', '--policy', policy, '--out', out], {
      env: cliEnv,
      timeoutMs: 280_000,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`assessment batch \\S+ done: ${ITEMS} records — ${ITEMS} ok`));
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const rows = parse<Record<string, string>>(readFileSync(out, 'utf8'), { columns: true });
    expect(rows).toHaveLength(ITEMS);
    expect(Object.keys(rows[0]!)).toEqual(
      expect.arrayContaining(['verdict', 'reasons', 'unknown', 'policy_version', 'sim_swap']),
    );
    const versions = new Set(rows.map((r) => r.policy_version));
    expect(versions.size).toBe(1);
    for (const row of rows) {
      const i = Number(row.index);
      expect(row.ref).toBe(`r${i}`);
      expect(row.outcome).toBe('ok');
      expect(row.verdict, `number ${i}`).toBe(expected(i));
      if (hoursAgo(i) === undefined) expect(row.unknown).toBe('sim_swap:UNKNOWN_NUMBER');
    }

    // The rate limit held, and each assessment was exactly one Identity Insights request.
    const stats = sim.stats();
    expect(stats.requests['identity-insights']).toEqual({ '200': ITEMS });
    expect(stats.violations['rate-limit-exceeded']).toBe(0);
    expect(stats.maxRequestsInAnyWindow1s).toBeLessThanOrEqual(RATE);

    // The same records as JSON lines, read back from the batch.
    const batchId = /assessment batch (\S+) done/.exec(run.stderr)![1]!;
    const jsonl = path.join(tmp, 'verdicts.jsonl');
    const results = await runCli(['results', batchId, '--out', jsonl], { env: cliEnv });
    expect(results.code, results.stderr).toBe(0);
    const records = readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            index: number;
            operation: string;
            assessment: { verdict: string; policyVersion: string };
          },
      );
    expect(records).toHaveLength(ITEMS);
    for (const r of records) {
      expect(schemaProblems('schemas/batch-record.json', r)).toEqual([]);
      expect(r.operation).toBe('assess');
      expect(r.assessment.verdict).toBe(expected(r.index));
      expect(r.assessment.policyVersion).toBe([...versions][0]);
    }
    expect(stats.requests['identity-insights']).toEqual({ '200': ITEMS });
  },
);
