/**
 * The audit export lists exactly the runs made — checks, assessments and the checks an assessment
 * started — from Temporal's own records, each with when, subject, operations, API, purpose,
 * correlation id, outcome and error code, verdict and policy version, and who started it (the
 * starting client's identity, configurable with NETCHECK_CLIENT_IDENTITY); and no number in it.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { parse } from 'csv-parse/sync';
import { beforeAll, expect, it } from 'vitest';
import { startAssess } from '../client/assess.js';
import { exportAudit, startCheck, subjectOf, type AuditRecord } from '../client/index.js';
import { defaultPolicy } from '../domain/policy-parse.js';
import type { networkAssess } from '../workflows/assess.js';
import { eventually, runCli, sharedStackEnv } from './cli/support.js';
import { addScenarios, uniqueNumber, useTestWorker } from './support/harness.js';

const ctx = useTestWorker('audit');
const IDENTITY = 'fraud-ops@audit-test';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'netcheck-audit-'));
let client: Client;
let cliEnv: Record<string, string>;

beforeAll(() => {
  client = new Client({ connection: ctx.env.client.connection, identity: IDENTITY });
  cliEnv = sharedStackEnv(ctx.taskQueue);
});

it('lists exactly the runs made, who started each, and no number', { timeout: 240_000 }, async () => {
  const since = new Date(Date.now() - 1_000);
  const subjectKey = cliEnv.NETCHECK_SUBJECT_KEY!;
  const a = uniqueNumber();
  const b = uniqueNumber();
  await addScenarios(ctx.env.simulatorUrl, {
    numbers: {
      [a]: { interval: 0.2, lastSimChangeHoursAgo: 3, roaming: { roaming: false } },
      [b]: {
        interval: 0.2,
        lastSimChange: null,
        roaming: { roaming: true, countryCode: 262, countryName: ['DE'] },
      },
    },
  });
  const options = { taskQueue: ctx.taskQueue, subjectKey };
  const check = await startCheck(
    client,
    { msisdn: a, operation: 'sim-swap', api: 'identity-insights', maxAge: 24 },
    options,
  );
  const insights = await startAssess(client, { msisdn: a, api: 'identity-insights' }, options);
  const ciba = await startAssess(
    client,
    { msisdn: b, api: 'camara' },
    {
      ...options,
      policy: {
        name: 'roaming-or-swap',
        rules: [
          { id: 'swap', when: { 'sim_swap.within': '24h' }, then: 'block' },
          { id: 'roaming', when: 'roaming', then: 'review' },
        ],
      },
    },
  );
  // A run that fails: an assessment started without a client's checks (a bad number).
  const failed = await client.workflow.start<typeof networkAssess>('networkAssess', {
    taskQueue: ctx.taskQueue,
    workflowId: `audit-bad-input-${Date.now()}`,
    args: [{ msisdn: 'not-a-number', policy: defaultPolicy().policy }],
  });
  await check.result();
  const verdictA = await insights.result();
  const verdictB = await ciba.result();
  await expect(failed.result()).rejects.toThrow();
  // One assessment from the command line, under the identity it is configured with.
  const cliRun = await runCli(['assess', a, '--json'], {
    env: { ...cliEnv, NETCHECK_API: 'identity-insights', NETCHECK_CLIENT_IDENTITY: 'cli-analyst' },
  });
  expect(cliRun.code, cliRun.stderr).toBe(0);
  const cliWorkflowId = (
    await eventually(async () => {
      for await (const info of ctx.env.client.workflow.list({
        query: `TaskQueue = "${ctx.taskQueue}" AND WorkflowType = "networkAssess" AND NetcheckApi = "identity-insights"`,
      })) {
        if (![insights.workflowId].includes(info.workflowId)) return info;
      }
      return undefined;
    })
  ).workflowId;

  const made = [
    check.workflowId,
    insights.workflowId,
    ciba.workflowId,
    `${ciba.workflowId}/sim-swap-date`,
    `${ciba.workflowId}/device-roaming`,
    failed.workflowId,
    cliWorkflowId,
  ].sort();
  // Visibility is eventually consistent: wait until every run shows as closed.
  const records = await eventually(async () => {
    const out: AuditRecord[] = [];
    for await (const r of exportAudit(ctx.env.client, { since, taskQueue: ctx.taskQueue })) out.push(r);
    return out.length === made.length && out.every((r) => r.status !== 'RUNNING') && out;
  }, 60_000);
  expect(records.map((r) => r.workflowId).sort()).toEqual(made);
  const byId = new Map(records.map((r) => [r.workflowId, r]));

  const subjectA = subjectOf(a, subjectKey);
  expect(byId.get(check.workflowId)).toMatchObject({
    kind: 'check',
    status: 'COMPLETED',
    outcome: 'ok',
    subject: subjectA,
    operations: ['sim-swap'],
    api: 'identity-insights',
    purpose: 'FraudPreventionAndDetection',
    startedBy: IDENTITY,
  });
  expect(byId.get(check.workflowId)?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  expect(byId.get(insights.workflowId)).toMatchObject({
    kind: 'assessment',
    outcome: 'ok',
    subject: subjectA,
    operations: ['sim-swap-date', 'device-roaming', 'carrier'],
    verdict: verdictA.verdict,
    reasons: verdictA.reasons,
    policyVersion: verdictA.policyVersion,
    policyName: 'netcheck-default',
    correlationId: verdictA.correlationId,
    startedBy: IDENTITY,
  });
  expect(byId.get(ciba.workflowId)).toMatchObject({
    verdict: 'review',
    reasons: ['roaming'],
    policyName: 'roaming-or-swap',
    operations: ['sim-swap-date', 'device-roaming'],
    api: 'camara',
    purpose: 'FraudPreventionAndDetection;NotApplicable',
  });
  // The checks an assessment started: theirs to list, started by whoever started the assessment.
  expect(byId.get(`${ciba.workflowId}/device-roaming`)).toMatchObject({
    kind: 'check',
    operations: ['device-roaming'],
    api: 'camara',
    parentWorkflowId: ciba.workflowId,
    correlationId: verdictB.correlationId,
    subject: subjectOf(b, subjectKey),
    startedBy: IDENTITY,
  });
  expect(byId.get(failed.workflowId)).toMatchObject({
    status: 'FAILED',
    outcome: 'error',
    errorCode: 'INVALID_INPUT',
  });
  expect(byId.get(cliWorkflowId)).toMatchObject({ startedBy: 'cli-analyst', subject: subjectA });

  // The CLI writes the same records, as CSV (0600) or JSON lines, and never a number.
  const csv = path.join(tmp, 'audit.csv');
  const exported = await runCli(
    ['audit', 'export', '--since', since.toISOString(), '--task-queue', ctx.taskQueue, '--out', csv],
    { env: cliEnv },
  );
  expect(exported.code, exported.stderr).toBe(0);
  expect(exported.stderr).toMatch(/7 records \(3 checks, 4 assessments\)/);
  expect(statSync(csv).mode & 0o777).toBe(0o600);
  const rows = parse<Record<string, string>>(readFileSync(csv, 'utf8'), { columns: true });
  expect(rows.map((r) => r.workflow_id).sort()).toEqual(made);
  expect(rows.find((r) => r.workflow_id === insights.workflowId)).toMatchObject({
    verdict: verdictA.verdict,
    policy_version: verdictA.policyVersion,
    started_by: IDENTITY,
  });
  const jsonl = await runCli(['audit', 'export', '--since', '10m', '--task-queue', ctx.taskQueue], {
    env: cliEnv,
  });
  expect(jsonl.code, jsonl.stderr).toBe(0);
  expect(jsonl.stdout.trim().split('\n')).toHaveLength(made.length);
  for (const text of [readFileSync(csv, 'utf8'), jsonl.stdout, JSON.stringify(records)]) {
    for (const msisdn of [a, b]) {
      expect(text).not.toContain(msisdn.slice(1));
      expect(text).not.toContain(msisdn.slice(-9));
    }
  }
  expect((await runCli(['audit', 'export', '--since', 'yesterday'], { env: cliEnv })).code).toBe(2);
});
