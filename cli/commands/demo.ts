/**
 * `netcheck demo`: the embedded stack, then one batch that runs every operation on Virtual
 * Operator numbers (+990…) over both APIs — the CIBA flow (camara) and Identity Insights, plus
 * `carrier`, which only Identity Insights serves — including a number whose subscriber refuses
 * consent, one the SIM Swap API does not know (+990…99), and a malformed one; a results table,
 * and the link to the batch in the Temporal UI. The failures are part of the design: the demo
 * exits 0 when every record came out as designed, 3 when one did not.
 */
import type { BatchItem, BatchRecord } from '../../domain/batch.js';
import { CAMARA_OPERATION_NAMES } from '../../domain/operations.js';
import { startBatch } from '../../client/batch.js';
import type { ScenarioFile } from '../../simulator/index.js';
import { EXIT, type ExitCode } from '../errors.js';
import { recordSummary, table } from '../output.js';
import { progressView } from '../progress.js';
import { startStack, workflowListUrl, workflowUrl } from '../stack/stack.js';
import { encryptionLines, envLines, stackPorts, stopAfter, stopOnSignal, type StackFlags } from './dev.js';

const DENIED = '+99012345677';

/** Every number keeps the Virtual Operator's answers; one pending poll per check shows the CIBA wait. */
export const DEMO_SCENARIOS: ScenarioFile = {
  description:
    'netcheck demo: Virtual Operator numbers, one pending token poll each, one subscriber who refuses',
  defaults: { interval: 1, expiresIn: 60, pendingPolls: 1 },
  numbers: { [DENIED]: { denied: true } },
};

const II = 'identity-insights' as const;

export const DEMO_ITEMS: BatchItem[] = [
  {
    ref: 'odd-number',
    msisdn: '+99012345601',
    api: 'camara',
    operations: [...CAMARA_OPERATION_NAMES],
    maxAge: 240,
  },
  {
    ref: 'wide-window',
    msisdn: '+99012345602',
    api: 'camara',
    operations: ['sim-swap', 'device-roaming'],
    maxAge: 720,
  },
  { ref: 'roaming-901', msisdn: '+99012345611', api: 'camara', operations: ['device-roaming'] },
  { ref: 'roaming-de', msisdn: '+99012345622', api: 'camara', operations: ['device-roaming'] },
  {
    ref: 'unknown-to-sim-swap',
    msisdn: '+99012345699',
    api: 'camara',
    operations: ['sim-swap', 'device-connectivity'],
  },
  { ref: 'consent-refused', msisdn: DENIED, api: 'camara', operations: ['sim-swap'] },
  { ref: 'typo', msisdn: '+99O12345603', api: 'camara', operations: ['sim-swap'] },
  // The same questions over Identity Insights (one JWT request each, no CIBA), and carrier.
  {
    ref: 'ii-odd-number',
    msisdn: '+99012345601',
    api: II,
    operations: [...CAMARA_OPERATION_NAMES, 'carrier'],
    maxAge: 240,
  },
  {
    ref: 'ii-wide-window',
    msisdn: '+99012345602',
    api: II,
    operations: ['sim-swap', 'device-roaming'],
    maxAge: 720,
  },
  { ref: 'ii-roaming-de', msisdn: '+99012345622', api: II, operations: ['device-roaming'] },
  { ref: 'ii-unknown', msisdn: '+99012345699', api: II, operations: ['sim-swap'] },
];

type Expectation = { says: string; holds: (r: BatchRecord) => boolean };

const ok = (says: string, test: (data: Record<string, unknown>) => boolean): Expectation => ({
  says,
  holds: (r) => r.outcome === 'ok' && test((r.result?.data ?? {}) as Record<string, unknown>),
});
const failed = (code: string): Expectation => ({
  says: `failed ${code}`,
  holds: (r) => r.outcome === 'failed' && (r.result?.error?.code ?? r.error?.code) === code,
});

/** What each (ref, operation) must come out as, per the Virtual Operator rules. */
export const DEMO_EXPECTED: Record<string, Expectation> = {
  'odd-number/sim-swap': ok('not swapped (last swap 500 h ago > 240 h)', (d) => d.swapped === false),
  'odd-number/sim-swap-date': ok('a date 500 h ago', (d) => typeof d.latestSimChange === 'string'),
  'odd-number/device-connectivity': ok('CONNECTED_DATA', (d) => d.connectivityStatus === 'CONNECTED_DATA'),
  'odd-number/device-roaming': ok('not roaming (odd last digit)', (d) => d.roaming === false),
  'wide-window/sim-swap': ok('swapped (500 h < 720 h)', (d) => d.swapped === true),
  'wide-window/device-roaming': ok(
    'roaming in GB (even)',
    (d) => d.roaming === true && d.countryCode === 234,
  ),
  'roaming-901/device-roaming': ok(
    'roaming, 901, no country',
    (d) => d.roaming === true && d.countryCode === 901,
  ),
  'roaming-de/device-roaming': ok('roaming in DE', (d) => d.roaming === true && d.countryCode === 262),
  'unknown-to-sim-swap/sim-swap': failed('UNKNOWN_NUMBER'),
  'unknown-to-sim-swap/device-connectivity': ok(
    'CONNECTED_DATA',
    (d) => d.connectivityStatus === 'CONNECTED_DATA',
  ),
  'consent-refused/sim-swap': failed('ACCESS_DENIED'),
  'typo/sim-swap': { says: 'invalid input', holds: (r) => r.outcome === 'invalid' },
  // Identity Insights: the same Virtual Operator answers in the same CheckResult fields.
  'ii-odd-number/sim-swap': ok('not swapped (500 h ago > 240 h)', (d) => d.swapped === false),
  'ii-odd-number/sim-swap-date': ok('a date 500 h ago', (d) => typeof d.latestSimChange === 'string'),
  'ii-odd-number/device-connectivity': ok('CONNECTED_DATA', (d) => d.connectivityStatus === 'CONNECTED_DATA'),
  'ii-odd-number/device-roaming': ok('not roaming (odd last digit)', (d) => d.roaming === false),
  'ii-odd-number/carrier': ok('the number, its country and network', (d) => typeof d.valid === 'boolean'),
  'ii-wide-window/sim-swap': ok('swapped (500 h < 720 h)', (d) => d.swapped === true),
  'ii-wide-window/device-roaming': ok(
    'roaming in GB (even)',
    (d) => d.roaming === true && Array.isArray(d.countryName) && d.countryName.includes('GB'),
  ),
  'ii-roaming-de/device-roaming': ok(
    'roaming in DE',
    (d) => d.roaming === true && Array.isArray(d.countryName) && d.countryName.includes('DE'),
  ),
  'ii-unknown/sim-swap': failed('UNKNOWN_NUMBER'),
};

export function demoBatchId(now = new Date()): string {
  return `demo-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;
}

export async function demoCommand(flags: StackFlags & { keep?: boolean }): Promise<ExitCode> {
  console.error('starting the embedded stack (Temporal dev server with its UI, Vonage simulator, worker)…');
  const stack = await startStack({
    stateDir: flags.stateDir,
    name: 'demo',
    ports: stackPorts(flags),
    scenarios: DEMO_SCENARIOS,
    ...(flags.rate !== undefined ? { rateLimit: flags.rate } : {}),
    // Expected failures (consent refused, unknown number) are the point: no activity-failure warnings.
    logLevel: 'ERROR',
    log: (line) => console.error(line),
  });
  const release = stopOnSignal(stack);
  for (const line of encryptionLines(stack)) console.error(line.trim());
  try {
    const batchId = demoBatchId();
    const checks = DEMO_ITEMS.reduce((n, item) => n + item.operations.length, 0);
    console.error(
      `running batch ${batchId}: ${DEMO_ITEMS.length} rows, ${checks} checks over camara (CIBA) and identity-insights…`,
    );
    const handle = await startBatch(stack.client, DEMO_ITEMS, {
      batchId,
      taskQueue: stack.taskQueue,
      subjectKey: stack.subjectKey,
    });
    const view = progressView({ intervalMs: 2_000 });
    const records: BatchRecord[] = [];
    let failures = 0;
    view.update({ done: 0, total: checks, failed: 0 });
    for await (const record of handle.results({ pollIntervalMs: 500 })) {
      records.push(record);
      if (record.outcome !== 'ok') failures++;
      view.update({ done: records.length, total: checks, failed: failures });
    }
    view.stop();

    const position = (r: BatchRecord) =>
      (DEMO_ITEMS[r.index]?.operations as string[] | undefined)?.indexOf(r.operation) ?? 0;
    records.sort((a, b) => a.index - b.index || position(a) - position(b));
    let unexpected = 0;
    const rows = records.map((r) => {
      const item = DEMO_ITEMS[r.index];
      const expectation = DEMO_EXPECTED[`${item?.ref}/${r.operation}`];
      const asDesigned = expectation?.holds(r) ?? false;
      if (!asDesigned) unexpected++;
      return [
        item?.ref ?? String(r.index),
        item?.msisdn ?? '',
        r.operation,
        item?.api ?? '',
        r.outcome,
        recordSummary(r),
        asDesigned ? 'yes' : `NO — expected ${expectation?.says ?? 'no record'}`,
      ];
    });
    if (records.length !== Object.keys(DEMO_EXPECTED).length) unexpected++;
    console.log('');
    console.log(table(['ref', 'number', 'operation', 'api', 'outcome', 'result', 'as designed'], rows));
    console.log('');
    console.log(
      `${records.length} checks: ${records.filter((r) => r.outcome === 'ok').length} ok, ` +
        `${failures} not ok — ${unexpected === 0 ? 'every one as designed (the failures show how netcheck reports them)' : `${unexpected} NOT as designed`}.`,
    );
    if (stack.uiUrl) {
      console.log('');
      console.log(`The batch in the Temporal UI:   ${workflowUrl(stack.uiUrl, stack.namespace, batchId)}`);
      console.log(
        `Its checks, by search attribute: ${workflowListUrl(stack.uiUrl, stack.namespace, `NetcheckBatchId = "${batchId}"`)}`,
      );
    }
    if (flags.keep) {
      release();
      console.log('');
      console.log('--keep: the stack stays up. In another shell:');
      console.log(envLines(stack).join('\n'));
      console.log(`  (or: source ${stack.envFile})`);
      console.log('  netcheck find +99012345601');
      console.log('Ctrl-C stops everything.');
      const stopped = await stopAfter(stack);
      return stopped === EXIT.OK && unexpected === 0
        ? EXIT.OK
        : unexpected > 0
          ? EXIT.CHECKS_FAILED
          : stopped;
    }
    console.log('(the stack stops now; `netcheck demo --keep` leaves it up to explore the UI)');
    return unexpected === 0 ? EXIT.OK : EXIT.CHECKS_FAILED;
  } finally {
    release();
    await stack.stop();
  }
}
