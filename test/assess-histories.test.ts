/**
 * Records networkAssess histories for the replay test (test/history.test.ts replays every file in
 * test/fixtures/histories): an assessment over Identity Insights (one request), one over CIBA
 * (a check child per signal, and the carrier over Identity Insights), and an assessment batch
 * (the `batch-assess` patch, networkAssess children). Recorded once, from the code of their
 * time, and kept: a later change to these workflows must replay them.
 *
 *   NETCHECK_RECORD_HISTORIES=1 npx vitest run test/assess-histories.test.ts
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { expect, it } from 'vitest';
import { startAssess, startAssessBatch } from '../client/assess.js';
import type { BatchRecord } from '../domain/batch.js';
import { addScenarios, uniqueNumber, useTestWorker } from './support/harness.js';

const fixturesDir = path.join(import.meta.dirname, 'fixtures', 'histories');
const recording = process.env.NETCHECK_RECORD_HISTORIES === '1';
const { History } = temporal.api.history.v1;
const historyToJSON = (history: temporal.api.history.v1.IHistory) =>
  JSON.stringify(
    History.toObject(History.fromObject(history), { bytes: String, longs: String, enums: String }),
  );
const missing = (name: string) => !existsSync(path.join(fixturesDir, `${name}.json`));

// A worker only when recording (a file whose tests end at once would stop it before it ran).
const ctx = recording ? useTestWorker('assess-histories') : undefined;
const env = () => ctx!.env;
const subjectKey = 'assess-histories-subject-key-32-bytes!!';

type Entry = NonNullable<Parameters<typeof addScenarios>[1]['numbers']>[string];
async function numberWith(entry: Entry): Promise<string> {
  const msisdn = uniqueNumber();
  await addScenarios(env().simulatorUrl, { numbers: { [msisdn]: { interval: 0.2, ...entry } } });
  return msisdn;
}

it.runIf(recording)('records assessment histories from real runs', { timeout: 180_000 }, async () => {
  const carrier = {
    valid: true,
    original: { name: 'Net A', networkType: 'MOBILE', networkCode: '23410', countryCode: 'GB' },
    current: { name: 'Net B', networkType: 'MOBILE', networkCode: '23420', countryCode: 'GB' },
  };
  const options = { taskQueue: ctx!.taskQueue, subjectKey };
  const record = async (name: string, workflowId: string) => {
    const history = await env().client.workflow.getHandle(workflowId).fetchHistory();
    writeFileSync(path.join(fixturesDir, `${name}.json`), historyToJSON(history));
  };

  if (missing('assess-identity-insights')) {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 10, carrier });
    const handle = await startAssess(env().client, { msisdn, api: 'identity-insights' }, options);
    expect((await handle.result()).verdict).toBe('block');
    await record('assess-identity-insights', handle.workflowId);
  }
  if (missing('assess-camara')) {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 100, roaming: { roaming: true }, carrier });
    const handle = await startAssess(env().client, { msisdn, api: 'camara' }, options);
    expect((await handle.result()).verdict).toBe('review');
    await record('assess-camara', handle.workflowId);
  }
  if (missing('batch-assess')) {
    const numbers = [
      await numberWith({ lastSimChangeHoursAgo: 2 }),
      await numberWith({ lastSimChange: null }),
    ];
    const batchId = `assess-histories-${Date.now()}`;
    const batch = await startAssessBatch(
      env().client,
      [
        ...numbers.map((msisdn, i) => ({ msisdn, api: 'identity-insights' as const, ref: `r${i}` })),
        { msisdn: '+44' },
      ],
      { ...options, batchId },
    );
    const records: BatchRecord[] = [];
    for await (const r of batch.results({ pollIntervalMs: 200 })) records.push(r);
    expect(records.map((r) => r.outcome).sort()).toEqual(['invalid', 'ok', 'ok']);
    await record('batch-assess', batchId);
  }
});

it('the assessment fixtures exist (record them with NETCHECK_RECORD_HISTORIES=1)', () => {
  for (const name of ['assess-identity-insights', 'assess-camara', 'batch-assess']) {
    expect(missing(name), name).toBe(false);
  }
});
