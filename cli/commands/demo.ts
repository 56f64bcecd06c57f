/**
 * `netcheck demo`: the embedded stack, then one batch over both roads, each with what Vonage
 * serves on it today and with numbers Vonage's Virtual Operator answers the same way there:
 * Device Status over the CIBA flow (`camara`, Vonage's Playground; roaming by the number's last
 * two digits) and SIM swap over Identity Insights (its ten Virtual Operator numbers, +990123400 …
 * +990123499), including a number Identity Insights does not know (+990123499), a +990 number
 * outside its ten (an invalid-number answer) and a malformed one; a results table, and the link
 * to the batch in the Temporal UI. The failures are part of the design: the demo exits 0 when
 * every record came out as designed, 3 when one did not.
 */
import type { BatchItem, BatchRecord } from '../../domain/batch.js';
import { startBatch } from '../../client/batch.js';
import type { ScenarioFile } from '../../simulator/index.js';
import { EXIT, type ExitCode } from '../errors.js';
import { recordSummary, table } from '../output.js';
import { progressView } from '../progress.js';
import { startStack, workflowListUrl, workflowUrl } from '../stack/stack.js';
import { encryptionLines, envLines, stackPorts, stopAfter, stopOnSignal, type StackFlags } from './dev.js';

/** Every number keeps the Virtual Operator's answers; one pending poll per CIBA check shows the wait. */
export const DEMO_SCENARIOS: ScenarioFile = {
  description: "netcheck demo: Vonage's Virtual Operator numbers, one pending token poll per CIBA check",
  defaults: { interval: 1, expiresIn: 60, pendingPolls: 1 },
};

const II = 'identity-insights' as const;
const HOUR_MS = 3_600_000;

/**
 * Only numbers and roads whose answers Vonage documents (developer.vonage.com: device-status/
 * concepts/virtual-operator, identity-insights/concepts/virtual-operator). Vonage retired SIM Swap
 * over CIBA on 2025-11-23, so SIM swap goes over Identity Insights here.
 */
export const DEMO_ITEMS: BatchItem[] = [
  // Device Status over CIBA (Vonage's Playground): roaming by the last two digits.
  { ref: 'roaming-gb', msisdn: '+9902345600', api: 'camara', operations: ['device-roaming'] },
  { ref: 'home', msisdn: '+9902345601', api: 'camara', operations: ['device-roaming'] },
  { ref: 'roaming-901', msisdn: '+9902345611', api: 'camara', operations: ['device-roaming'] },
  { ref: 'roaming-de', msisdn: '+9902345622', api: 'camara', operations: ['device-roaming'] },
  { ref: 'typo', msisdn: '+99O2345603', api: 'camara', operations: ['device-roaming'] },
  // SIM swap over Identity Insights (one JWT request each, no CIBA): its ten Virtual Operator numbers.
  { ref: 'ii-swap', msisdn: '+990123400', api: II, operations: ['sim-swap', 'sim-swap-date'], maxAge: 240 },
  { ref: 'ii-unknown', msisdn: '+990123499', api: II, operations: ['sim-swap'] },
  { ref: 'ii-not-virtual', msisdn: '+9902345601', api: II, operations: ['sim-swap'] },
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

/** What each (ref, operation) must come out as, per Vonage's Virtual Operator pages. */
export const DEMO_EXPECTED: Record<string, Expectation> = {
  'roaming-gb/device-roaming': ok(
    'roaming in GB (even ending)',
    (d) => d.roaming === true && d.countryCode === 234,
  ),
  'home/device-roaming': ok('not roaming (odd ending)', (d) => d.roaming === false),
  'roaming-901/device-roaming': ok(
    'roaming, 901, no country',
    (d) => d.roaming === true && d.countryCode === 901,
  ),
  'roaming-de/device-roaming': ok('roaming in DE', (d) => d.roaming === true && d.countryCode === 262),
  'typo/device-roaming': { says: 'invalid input', holds: (r) => r.outcome === 'invalid' },
  'ii-swap/sim-swap': ok('not swapped (last swap 500 h ago > 240 h)', (d) => d.swapped === false),
  'ii-swap/sim-swap-date': ok(
    'a date 500 h ago',
    (d) =>
      typeof d.latestSimChange === 'string' &&
      Math.abs(Date.parse(d.latestSimChange) - (Date.now() - 500 * HOUR_MS)) < HOUR_MS,
  ),
  'ii-unknown/sim-swap': failed('UNKNOWN_NUMBER'),
  // Identity Insights answers INVALID_NUMBER_FORMAT for a +990 number outside its ten.
  'ii-not-virtual/sim-swap': failed('INVALID_INPUT'),
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
      `running batch ${batchId}: ${DEMO_ITEMS.length} rows, ${checks} checks: Device Status over camara (CIBA), SIM swap over identity-insights…`,
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
      console.log('  netcheck find +9902345622');
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
