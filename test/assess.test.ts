/**
 * networkAssess end to end: the real dev server, a worker with the netcheck plugin, real HTTP to
 * the simulator. Identity Insights: exactly one provider request per assessment (the simulator
 * counts them). CIBA: the checks in parallel, each with its own authorization. Missing signals are
 * unknown with their codes and the policy decides; a policy with an error starts nothing (library
 * and CLI, exit 2 naming the line); the verdict is in the NetcheckVerdict search attribute.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { assessNumber, startAssess } from '../client/assess.js';
import { PolicyError, subjectOf } from '../client/index.js';
import type { AssessmentResult } from '../domain/assess.js';
import { NetcheckVerdict } from '../domain/search-attributes.js';
import type { networkCheck } from '../workflows/network-check.js';
import { eventually, runCli, sharedStackEnv } from './cli/support.js';
import { schemaProblems } from './contract/schemas.js';
import {
  addScenarios,
  requestCount,
  simulatorStats,
  uniqueNumber,
  uniqueTaskQueue,
  useTestWorker,
} from './support/harness.js';

const ctx = useTestWorker('assess');
const subjectKey = 'assess-subject-key-of-at-least-32-bytes!';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'netcheck-assess-'));

type Entry = NonNullable<Parameters<typeof addScenarios>[1]['numbers']>[string];
async function numberWith(entry: Entry): Promise<string> {
  const msisdn = uniqueNumber();
  await addScenarios(ctx.env.simulatorUrl, { numbers: { [msisdn]: { interval: 0.2, ...entry } } });
  return msisdn;
}
const network = (code: string) => ({
  name: `Net ${code}`,
  networkType: 'MOBILE',
  networkCode: code,
  countryCode: 'GB',
});
const carrier = (original: string, current: string) => ({
  carrier: { valid: true, original: network(original), current: network(current) },
});

const policyFile = (name: string, text: string) => {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
};

const EVERY_SIGNAL = policyFile(
  'every-signal.yaml',
  `name: every-signal
rules:
  - { id: swap-24h, when: { sim_swap.within: 24h }, then: block }
  - { id: offline, when: { connectivity: NOT_CONNECTED }, then: review }
  - { id: roaming-abroad, when: { roaming.outside: [GB] }, then: review }
  - { id: ported, when: carrier_changed, then: review }
  - { id: any-unknown, when: { unknown: [sim_swap, roaming, connectivity, carrier] }, then: review }
default: allow
`,
);

const run = (
  msisdn: string,
  options: Parameters<typeof assessNumber>[2] = {},
  api?: 'camara' | 'identity-insights',
) =>
  assessNumber(
    ctx.env.client,
    { msisdn, ...(api ? { api } : {}) },
    { taskQueue: ctx.taskQueue, subjectKey, ...options },
  );

describe('over Identity Insights', () => {
  it('one request for every signal the policy needs; the verdict with its evidence', async () => {
    const msisdn = await numberWith({
      lastSimChangeHoursAgo: 10,
      roaming: { roaming: true, countryCode: 262, countryName: ['DE'] },
      connectivity: 'CONNECTED_SMS',
      ...carrier('23410', '23420'),
    });
    const handle = await startAssess(
      ctx.env.client,
      { msisdn, api: 'identity-insights' },
      { taskQueue: ctx.taskQueue, subjectKey, policy: EVERY_SIGNAL },
    );
    const result = await handle.result();
    expect(result).toMatchObject({
      verdict: 'block',
      reasons: ['swap-24h', 'roaming-abroad', 'ported'],
      unknown: [],
      signals: ['sim_swap', 'roaming', 'connectivity', 'carrier'],
      api: 'identity-insights',
      policyName: 'every-signal',
      policyVersion: handle.policy.version,
    });
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(requestCount(stats, 'identity-insights')).toBe(1);
    expect(stats.total).toBe(1);
    const { sim_swap, roaming, connectivity, carrier: changed } = result.evidence;
    const requestId = sim_swap?.source.requestId;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    for (const e of [sim_swap, roaming, connectivity, changed]) {
      expect(e?.source).toMatchObject({ api: 'identity-insights', requestId });
      expect(e?.observedAt).toBe(sim_swap?.observedAt);
    }
    expect(Date.parse(sim_swap!.observedAt) - Date.parse(sim_swap!.value.latestSimChange!)).toBeLessThan(
      11 * 3_600_000,
    );
    expect(roaming?.value).toEqual({ roaming: true, countryCode: 262, countryName: ['DE'] });
    expect(connectivity?.value).toEqual({ connectivityStatus: 'CONNECTED_SMS' });
    expect(changed?.value).toMatchObject({ changed: true, currentCarrier: { networkCode: '23420' } });
    // What a caller in any language reads and sends: the contract's schemas hold.
    expect(schemaProblems('schemas/network-assess.result.json', result)).toEqual([]);
    // The history holds one Identity Insights step, and nothing with the number in the clear outside inputs.
    const events = (await handle.fetchHistory()).events ?? [];
    const steps = events.filter((e) => e.activityTaskScheduledEventAttributes);
    expect(steps.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)).toEqual([
      'netcheck.assessInsights',
    ]);
    // No credential anywhere in the history; the number only in the inputs (encrypted with a key ring).
    const text = (event: object) =>
      JSON.stringify(event, (_key, value: unknown) =>
        value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
      );
    expect(events.map(text).join('\n')).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    const outputs = events.filter(
      (e) => e.activityTaskCompletedEventAttributes || e.workflowExecutionCompletedEventAttributes,
    );
    expect(outputs).toHaveLength(2);
    for (const event of outputs) expect(text(event)).not.toContain(msisdn.slice(1));
    const startInput = events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!;
    expect(
      schemaProblems('schemas/network-assess.input.json', JSON.parse(Buffer.from(startInput).toString())),
    ).toEqual([]);
    // The verdict is searchable: the day's blocks are one query away.
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(NetcheckVerdict)).toBe('block');
    expect(await description.staticSummary()).toMatch(
      /^assess · identity-insights · \+44\*+\d{3} · every-signal@[0-9a-f]{16}$/,
    );
    const subject = subjectOf(msisdn, subjectKey);
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const info of ctx.env.client.workflow.list({
        query: `NetcheckVerdict = "block" AND NetcheckSubject = "${subject}"`,
      })) {
        ids.push(info.workflowId);
      }
      return ids.length > 0 && ids;
    });
    expect(found).toEqual([handle.workflowId]);
  });

  it('the built-in policy, and a signal that failed: unknown with its code, never guessed', async () => {
    const msisdn = await numberWith({
      insights: { sim_swap: { status: 'NOT_FOUND' } },
      ...carrier('23410', '23410'),
    });
    const result = await run(msisdn, {}, 'identity-insights');
    expect(result.signals).toEqual(['sim_swap', 'roaming', 'carrier']);
    expect(result.evidence.sim_swap).toBeUndefined();
    expect(result.unknown).toHaveLength(1);
    expect(result.unknown[0]).toMatchObject({
      signal: 'sim_swap',
      code: 'UNKNOWN_NUMBER',
      source: { api: 'identity-insights', via: 'sim_swap' },
    });
    expect(result).toMatchObject({
      verdict: 'review',
      reasons: ['sim-swap-unknown'],
      policyName: 'netcheck-default',
    });
    expect(result.evidence.carrier?.value.changed).toBe(false);
    expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, msisdn), 'identity-insights')).toBe(1);
    expect(JSON.stringify(result)).not.toContain(msisdn.slice(1));
  });
});

describe('over CIBA', () => {
  it('a check per signal, all started at once, each with its own authorization', async () => {
    const msisdn = await numberWith({
      lastSimChangeHoursAgo: 100,
      roaming: { roaming: false },
      connectivity: 'NOT_CONNECTED',
      ...carrier('23410', '23410'),
    });
    const handle = await startAssess(
      ctx.env.client,
      { msisdn, api: 'camara' },
      { taskQueue: ctx.taskQueue, subjectKey, policy: EVERY_SIGNAL },
    );
    const result = await handle.result();
    expect(result).toMatchObject({ verdict: 'review', reasons: ['offline'], unknown: [], api: 'camara' });
    expect(schemaProblems('schemas/network-assess.result.json', result)).toEqual([]);
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    // sim-swap-date, device-roaming, device-connectivity: one bc-authorize each; carrier: Identity Insights.
    expect(requestCount(stats, 'bc-authorize')).toBe(3);
    expect(requestCount(stats, 'identity-insights')).toBe(1);
    const children = ['sim-swap-date', 'device-roaming', 'device-connectivity', 'carrier'];
    expect(
      Object.values(result.evidence)
        .map((e) => e.source.workflowId)
        .sort(),
    ).toEqual(children.map((op) => `${handle.workflowId}/${op}`).sort());
    expect(result.evidence.carrier?.source).toMatchObject({ api: 'identity-insights', via: 'carrier' });
    expect(result.evidence.roaming?.source).toMatchObject({ api: 'camara', via: 'device-roaming' });
    // In parallel: every child was started before the first one completed.
    const events = (await handle.fetchHistory()).events ?? [];
    const started = events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
    const firstDone = events.findIndex((e) => e.childWorkflowExecutionCompletedEventAttributes);
    expect(started).toHaveLength(4);
    expect(events.indexOf(started.at(-1)!)).toBeLessThan(firstDone);
    // Each child is a check of its own, with its own authorization and the assessment's x-correlator.
    for (const op of ['sim-swap-date', 'device-roaming', 'device-connectivity']) {
      const child = await ctx.env.client.workflow
        .getHandle<typeof networkCheck>(`${handle.workflowId}/${op}`)
        .result();
      expect(child).toMatchObject({ status: 'ok', authorizations: 1, correlationId: result.correlationId });
    }
  });

  it('a check that failed leaves its signal unknown with the check’s code; the others decide', async () => {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 2, denied: true, ...carrier('23410', '23410') });
    const result = await run(msisdn, {}, 'camara');
    // Every CIBA flow of this number is refused: sim_swap and roaming are unknown; carrier answered.
    expect(result.unknown.map((u) => [u.signal, u.code])).toEqual([
      ['sim_swap', 'ACCESS_DENIED'],
      ['roaming', 'ACCESS_DENIED'],
    ]);
    expect(result).toMatchObject({ verdict: 'review', reasons: ['sim-swap-unknown'] });
    expect(result.evidence.carrier?.value.changed).toBe(false);
  });
});

describe('the camara profile', () => {
  it('assesses over camara by default; carrier is unknown (NOT_SUPPORTED) and nothing is asked for it', async () => {
    const msisdn = await numberWith({ roaming: { roaming: true, countryCode: 262, countryName: ['DE'] } });
    const handle = await startAssess(
      ctx.env.client,
      { msisdn },
      {
        taskQueue: ctx.taskQueue,
        subjectKey,
        profile: 'camara',
        policy: {
          rules: [{ id: 'roaming-new-carrier', when: ['roaming', 'carrier_changed'], then: 'review' }],
        },
      },
    );
    const result = await handle.result();
    expect(result).toMatchObject({ api: 'camara', verdict: 'allow', reasons: [] });
    expect(result.evidence.roaming?.value.roaming).toBe(true);
    expect(result.unknown).toHaveLength(1);
    expect(result.unknown[0]).toMatchObject({ signal: 'carrier', code: 'NOT_SUPPORTED' });
    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(requestCount(stats, 'identity-insights')).toBe(0);
    expect(requestCount(stats, 'bc-authorize')).toBe(1);
    await expect(
      startAssess(
        ctx.env.client,
        { msisdn, api: 'identity-insights' },
        { taskQueue: ctx.taskQueue, subjectKey, profile: 'camara' },
      ),
    ).rejects.toThrow(/the camara profile has no Identity Insights/);
  });
});

describe('a policy with an error', () => {
  const BAD = policyFile(
    'bad.yaml',
    'rules:\n  - id: swap\n    when: { sim_swap.whithin: 24h }\n    then: block\n',
  );

  it('throws a PolicyError naming the line, and starts nothing', async () => {
    const msisdn = uniqueNumber();
    const workflowId = `assess-bad-policy-${Date.now()}`;
    const err = await startAssess(
      ctx.env.client,
      { msisdn },
      { taskQueue: ctx.taskQueue, subjectKey, workflowId, policy: BAD },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).problems).toEqual([
      expect.objectContaining({ line: 3, path: 'rules[0].when.sim_swap.whithin' }),
    ]);
    await expect(ctx.env.client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
  });

  it(
    'netcheck assess exits 2 with the line, sends nothing; a good run prints the verdict (exit 0, or 3 with --fail-on)',
    { timeout: 300_000 },
    async () => {
      const env = { ...sharedStackEnv(ctx.taskQueue), NETCHECK_API: 'identity-insights' };
      const msisdn = await numberWith({ lastSimChangeHoursAgo: 30, ...carrier('23410', '23410') });
      const bad = await runCli(['assess', msisdn, '--policy', BAD], { env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(
        /the policy .*bad\.yaml is not valid, so nothing was started:\n {2}- line 3, column \d+ \(rules\[0\]\.when\.sim_swap\.whithin\): unknown condition key/,
      );
      expect(bad.stderr).not.toContain(msisdn);
      expect((await simulatorStats(ctx.env.simulatorUrl, msisdn)).total).toBe(0);
      // NETCHECK_POLICY is read the same way.
      const viaEnv = await runCli(['assess', msisdn], { env: { ...env, NETCHECK_POLICY: BAD } });
      expect(viaEnv.code).toBe(2);
      expect(viaEnv.stderr).toMatch(/NETCHECK_POLICY=.*bad\.yaml is not valid/);

      const table = await runCli(['assess', msisdn], { env });
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(
        /^\+44\*+\d{3} assess: REVIEW — sim-swap-7d \(identity-insights, [\d.]+ s; policy netcheck-default@[0-9a-f]{16}\)/,
      );
      expect(table.stdout).toMatch(
        /^sim_swap +last SIM change \S+ \(30 h before\) +\S+ +identity-insights sim_swap/m,
      );
      expect(table.stdout).not.toContain(msisdn);
      const json = await runCli(['assess', '-', '--json', '--fail-on', 'review'], {
        env,
        input: `${msisdn}\n`,
      });
      expect(json.code).toBe(3);
      const parsed = JSON.parse(json.stdout) as AssessmentResult;
      expect(parsed).toMatchObject({ verdict: 'review', reasons: ['sim-swap-7d'], unknown: [] });
      expect(Object.keys(parsed)).toEqual(
        expect.arrayContaining(['verdict', 'reasons', 'evidence', 'unknown', 'policyVersion']),
      );
      const lenient = await runCli(['assess', msisdn, '--fail-on', 'block'], { env });
      expect(lenient.code).toBe(0);
    },
  );

  it('no verdict (the run failed): exit 3', async () => {
    const env = { ...sharedStackEnv(uniqueTaskQueue('assess-none')), NETCHECK_API: 'identity-insights' };
    // No worker polls this queue, and the assessment's timeout is short: no verdict can be reached.
    const none = await runCli(['assess', uniqueNumber()], { env: { ...env, NETCHECK_CHECK_TIMEOUT: '3s' } });
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no verdict was reached/);
  });
});
