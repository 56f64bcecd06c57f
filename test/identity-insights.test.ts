/**
 * networkCheck over Identity Insights, end to end: real Temporal dev server, real worker with
 * the netcheck plugin, real HTTP to the simulator. The same checks answer with the same
 * CheckResult fields over either API; `carrier` runs over Identity Insights only; history holds
 * no JWT and the number only in inputs; the run is findable by its NetcheckApi.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { checkNumber, startCheck } from '../client/index.js';
import { errorCodeOf } from '../domain/errors.js';
import { NetcheckApi } from '../domain/search-attributes.js';
import type { Api, CheckRequest, CheckResult, NetworkCheckInput, Operation } from '../domain/types.js';
import type { networkCheck } from '../workflows/network-check.js';
import { numberWith as numberOn, requestCount, simulatorStats, useTestWorker } from './support/harness.js';

const ctx = useTestWorker('identity-insights');
const subjectKey = 'ii-subject-key';

type Entry = Parameters<typeof numberOn>[1];
const numberWith = (entry: Entry) => numberOn(ctx.env.simulatorUrl, { interval: 0.2, ...entry });

const run = (request: CheckRequest, options: Parameters<typeof checkNumber>[2] = {}) =>
  checkNumber(ctx.env.client, request, { taskQueue: ctx.taskQueue, subjectKey, ...options });

/** Starts the workflow directly (no client-side validation, no search attributes set at start). */
async function bareStart(input: NetworkCheckInput) {
  return ctx.env.client.workflow.start<typeof networkCheck>('networkCheck', {
    taskQueue: ctx.taskQueue,
    workflowId: `ii-bare-${input.operation}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    args: [input],
  });
}

/** The messages of a failure chain. */
function serialize(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(e.message ?? '');
  }
  return parts.join(' | ');
}

const { History } = temporal.api.history.v1;
function historyText(history: temporal.api.history.v1.IHistory): { raw: string; decoded: string } {
  const raw = JSON.stringify(
    History.toObject(History.fromObject(history), { bytes: String, longs: String, enums: String }),
  );
  const decoded = [...raw.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)]
    .map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'))
    .join('\n');
  return { raw, decoded };
}

describe('the same check over either API', () => {
  const cases: Array<[Operation, Entry, Partial<CheckRequest>]> = [
    ['sim-swap', { lastSimChangeHoursAgo: 10 }, { maxAge: 24 }],
    ['sim-swap-date', { lastSimChange: '2026-01-02T03:04:05Z' }, {}],
    ['device-connectivity', { connectivity: 'CONNECTED_SMS' }, {}],
    ['device-roaming', { roaming: { roaming: true, countryCode: 262, countryName: ['DE'] } }, {}],
  ];

  it.each(cases)('%s: same data and the same CheckResult fields', async (operation, entry, extra) => {
    const msisdn = await numberWith(entry);
    const results = {} as Record<Api, CheckResult>;
    for (const api of ['camara', 'identity-insights'] as const) {
      results[api] = await run({ msisdn, operation, api, ...extra });
      expect(results[api].status, JSON.stringify(results[api].error)).toBe('ok');
      expect(results[api].api).toBe(api);
    }
    const camara = results.camara;
    const ii = results['identity-insights'];
    expect(ii.data).toEqual(camara.data);
    expect(Object.keys(ii.data ?? {}).sort()).toEqual(Object.keys(camara.data ?? {}).sort());
    // Identity Insights adds its request_id; the CIBA road records the profile and CAMARA API
    // version that answered (absent over Identity Insights: domain/types.ts); everything else is
    // the same set of fields.
    expect(camara.profile).toBe('vonage');
    expect(typeof camara.apiVersion).toBe('string');
    expect(ii).not.toHaveProperty('profile');
    const ciba = Object.keys(camara).filter((key) => key !== 'profile' && key !== 'apiVersion');
    expect(Object.keys(ii).sort()).toEqual([...ciba, 'requestId'].sort());
    expect(ii.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ii).toMatchObject({ operation, polls: 0, authorizations: 0 });
    expect(ii.timestamps.checked).toEqual(expect.any(String));

    const stats = await simulatorStats(ctx.env.simulatorUrl, msisdn);
    expect(requestCount(stats, 'identity-insights')).toBe(1);
    expect(requestCount(stats, 'bc-authorize')).toBe(1); // the camara run's only
  });

  it('fast mode runs the one request as a local activity', async () => {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 2 });
    const handle = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'sim-swap', api: 'identity-insights', maxAge: 5 },
      { taskQueue: ctx.taskQueue, subjectKey, fast: true },
    );
    expect((await handle.result()).data).toEqual({ swapped: true });
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(0);
    // One local activity marker, and the new run's one patch marker (netcheck.<name> activities).
    const markers = events.flatMap((e) => e.markerRecordedEventAttributes?.markerName ?? []);
    expect(markers.filter((name) => name !== 'core_patch')).toHaveLength(1);
    expect(markers.filter((name) => name === 'core_patch')).toHaveLength(1);
  });
});

describe('carrier', () => {
  it('answers validity, country and networks over Identity Insights', async () => {
    const result = await run({ msisdn: '+447700900127', operation: 'carrier', api: 'identity-insights' });
    expect(result.status).toBe('ok');
    if (result.status !== 'ok' || result.operation !== 'carrier') throw new Error('not a carrier answer');
    expect(result.data).toMatchObject({
      valid: true,
      countryCode: 'GB',
      countryName: 'United Kingdom',
      originalCarrier: { networkType: 'MOBILE', countryCode: 'GB' },
      currentCarrier: { networkType: 'MOBILE', countryCode: 'GB' },
      ported: true,
    });
    expect(result.missing).toBeUndefined();
  });

  it('names what Vonage could not give in missing (PARTIAL_SUCCESS)', async () => {
    const result = await run({ msisdn: '+442079460000', operation: 'carrier', api: 'identity-insights' });
    expect(result).toMatchObject({
      status: 'ok',
      data: { valid: true, currentCarrier: { networkType: 'LANDLINE' } },
      missing: ['originalCarrier.networkCode', 'currentCarrier.networkCode'],
      missingCodes: {
        'originalCarrier.networkCode': 'PARTIAL_SUCCESS',
        'currentCarrier.networkCode': 'PARTIAL_SUCCESS',
      },
    });
  });

  it('asked over camara, it is a usage error (INVALID_INPUT), in the client and in the workflow', async () => {
    await expect(run({ msisdn: '+447700900123', operation: 'carrier', api: 'camara' })).rejects.toThrow(
      /carrier runs only over identity-insights/,
    );
    // Without an api, the client picks the one API that serves carrier.
    await expect(run({ msisdn: '+447700900123', operation: 'carrier' })).resolves.toMatchObject({
      api: 'identity-insights',
    });
    const handle = await bareStart({ msisdn: '+447700900123', operation: 'carrier', api: 'camara' });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'INVALID_INPUT', nonRetryable: true });
    expect((err as WorkflowFailedError).cause?.message).toMatch(/use api identity-insights/);
  });
});

describe('per-insight statuses become CheckResults or failed runs', () => {
  it('NOT_FOUND → failed UNKNOWN_NUMBER; NO_COVERAGE → failed NOT_COVERED', async () => {
    const unknown = await numberWith({ unknown: true });
    const a = await run({ msisdn: unknown, operation: 'device-roaming', api: 'identity-insights' });
    expect(a).toMatchObject({
      status: 'failed',
      api: 'identity-insights',
      error: { code: 'UNKNOWN_NUMBER' },
    });
    expect(a.error?.message).toMatch(/request_id [0-9a-f-]{36}/);
    const b = await run({ msisdn: '+81312345678', operation: 'sim-swap', api: 'identity-insights' });
    expect(b).toMatchObject({ status: 'failed', error: { code: 'NOT_COVERED' } });
  });

  it('PARTIAL_SUCCESS → ok with the absent field named in missing', async () => {
    const msisdn = await numberWith({ roaming: { roaming: true } });
    const result = await run({ msisdn, operation: 'device-roaming', api: 'identity-insights' });
    expect(result).toMatchObject({
      status: 'ok',
      data: { roaming: true },
      missing: ['countryName'],
      missingCodes: { countryName: 'PARTIAL_SUCCESS' },
    });
  });

  it('SUPPLIER_ERROR is retried: the next attempt answers', async () => {
    const msisdn = await numberWith({
      connectivity: 'CONNECTED_DATA',
      insights: { reachability: { status: 'SUPPLIER_ERROR', times: 1 } },
    });
    const result = await run({ msisdn, operation: 'device-connectivity', api: 'identity-insights' });
    expect(result).toMatchObject({ status: 'ok', data: { connectivityStatus: 'CONNECTED_DATA' } });
    expect(requestCount(await simulatorStats(ctx.env.simulatorUrl, msisdn), 'identity-insights')).toBe(2);
  });

  it('UNAUTHORIZED → failed PERMISSION_DENIED saying what to register', async () => {
    const msisdn = await numberWith({ insights: { sim_swap: { status: 'UNAUTHORIZED' } } });
    const result = await run({ msisdn, operation: 'sim-swap-date', api: 'identity-insights' });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'PERMISSION_DENIED' } });
    expect(result.error?.message).toMatch(/Network Registry/);
  });

  it('INVALID_PURPOSE fails the run with CONFIGURATION naming the purpose to use', async () => {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 1 });
    const err = await run({
      msisdn,
      operation: 'sim-swap',
      api: 'identity-insights',
      purpose: 'NotApplicable',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = errorCodeOf(err);
    expect(failure).toBe('CONFIGURATION');
    expect(serialize(err)).toMatch(
      /"NotApplicable" is not allowed for SIM Swap[^"]*FraudPreventionAndDetection/,
    );
  });

  it('INVALID_NUMBER_FORMAT fails the run with INVALID_INPUT', async () => {
    const err = await run({
      msisdn: '+44770090012345',
      operation: 'sim-swap',
      api: 'identity-insights',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(errorCodeOf(err)).toBe('INVALID_INPUT');
  });
});

describe('history and visibility', () => {
  it('history holds no JWT, and the number only in inputs', async () => {
    const msisdn = await numberWith({ lastSimChangeHoursAgo: 30, connectivity: 'CONNECTED_DATA' });
    const handle = await startCheck(
      ctx.env.client,
      { msisdn, operation: 'sim-swap', api: 'identity-insights' },
      { taskQueue: ctx.taskQueue, subjectKey },
    );
    expect((await handle.result()).status).toBe('ok');
    const history = await handle.fetchHistory();
    const { raw, decoded } = historyText(history);
    // Payload data is base64 JSON (it starts "eyJ" itself): scan the decoded text for any JWT,
    // and the raw JSON for an RS256 JWT header.
    expect(decoded).not.toContain('eyJ');
    expect(raw).not.toMatch(/eyJhbGciOiJSUzI1Ni|eyJ0eXAiOiJKV1Qi/);
    const digits = msisdn.slice(1);
    const outputs = (history.events ?? [])
      .flatMap((e) => [
        e.activityTaskCompletedEventAttributes?.result,
        e.workflowExecutionCompletedEventAttributes?.result,
        e.markerRecordedEventAttributes?.details,
        e.activityTaskFailedEventAttributes?.failure,
      ])
      .filter((x) => x != null);
    expect(outputs.length).toBeGreaterThan(0);
    const outputText = JSON.stringify(outputs, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v,
    );
    expect(outputText).not.toContain(digits);
    expect(decoded).toContain(digits); // the inputs carry it, as they must
  });

  it('the NetcheckApi search attribute says which API ran', async () => {
    const msisdn = await numberWith({ connectivity: 'CONNECTED_SMS' });
    const handle = await bareStart({ msisdn, operation: 'device-connectivity', api: 'identity-insights' });
    expect((await handle.result()).status).toBe('ok');
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(NetcheckApi)).toBe('identity-insights');
    const camara = await bareStart({ msisdn, operation: 'device-connectivity' });
    await camara.result();
    expect((await camara.describe()).typedSearchAttributes.get(NetcheckApi)).toBe('camara');
  });
});
