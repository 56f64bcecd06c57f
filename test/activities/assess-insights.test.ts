/**
 * `assessInsights` over real HTTP against the simulator: ONE Identity Insights request asks every
 * insight the signals need, each signal comes back as its value or unknown with its code (one
 * failing insight never hides the others), a transient insight is asked again alone, and nothing
 * returned carries the number or the JWT.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, createVonageClient, type NetcheckActivities } from '../../activities/index.js';
import type { AssessInsightsInput } from '../../domain/assess.js';
import { startSimulator, type ScenarioFile, type Simulator } from '../../simulator/index.js';
import { failureOf, makeKeys } from './helpers.js';

const { privateKey, publicKey } = makeKeys();
const applicationId = randomUUID();
const PURPOSE = 'FraudPreventionAndDetection';

const SWAPPED = '+447700900301';
const PORTED_ROAMING = '+447700900302';
const SIM_UNKNOWN = '+447700900303';
const FLAKY_REACH = '+447700900304';
const ALL_FLAKY = '+447700900305';
const PARTIAL_DATE = '+447700900306';
const DOWN = '+447700900307';

const carrier = (original: string, current: string) => ({
  carrier: {
    valid: true,
    original: { name: `Net ${original}`, networkType: 'MOBILE', networkCode: original, countryCode: 'GB' },
    current: { name: `Net ${current}`, networkType: 'MOBILE', networkCode: current, countryCode: 'GB' },
  },
});

const scenarios: ScenarioFile = {
  numbers: {
    [SWAPPED]: { lastSimChangeHoursAgo: 10, connectivity: 'CONNECTED_SMS', ...carrier('23410', '23410') },
    [PORTED_ROAMING]: {
      lastSimChange: null,
      roaming: { roaming: true, countryCode: 262, countryName: ['DE'] },
      ...carrier('23410', '23420'),
    },
    [SIM_UNKNOWN]: { insights: { sim_swap: { status: 'NOT_FOUND' } }, ...carrier('23410', '23410') },
    [FLAKY_REACH]: {
      lastSimChange: null,
      insights: { reachability: { status: 'SUPPLIER_ERROR', times: 1 } },
    },
    [ALL_FLAKY]: {
      insights: { sim_swap: { status: 'INTERNAL_ERROR' }, roaming: { status: 'SUPPLIER_ERROR' } },
    },
    [PARTIAL_DATE]: { lastSimChangeHoursAgo: 3, insights: { sim_swap: { omit: ['latest_sim_swap_at'] } } },
    [DOWN]: { faults: [{ endpoint: 'identity-insights', status: 403, code: 'FORBIDDEN' }] },
  },
};

let sim: Simulator;
let acts: NetcheckActivities;

beforeAll(async () => {
  sim = await startSimulator({ applicationId, publicKey, port: 0, interval: 0, scenarios });
  acts = createActivities(createVonageClient({ applicationId, privateKey, baseUrl: sim.url }));
});
afterAll(async () => {
  await acts.close();
  await sim.close();
});

const ALL = ['sim_swap', 'roaming', 'connectivity', 'carrier'] as AssessInsightsInput['signals'];

function assess(msisdn: string, signals = ALL) {
  return acts.assessInsights({ msisdn, signals, purpose: PURPOSE, correlationId: `corr-${randomUUID()}` });
}
const requestsFor = (msisdn: string) => sim.stats(msisdn).requests['identity-insights'] ?? {};
const total = (byStatus: Record<string, number>) => Object.values(byStatus).reduce((a, b) => a + b, 0);

describe('assessInsights', () => {
  it('asks every insight of every signal in one request, and maps each answer', async () => {
    const before = Date.now();
    const out = await assess(SWAPPED);
    expect(total(requestsFor(SWAPPED))).toBe(1);
    expect(out.requests).toBe(1);
    expect(out.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(out.observedAt)).toBeGreaterThanOrEqual(before - 1000);
    const latest = out.signals.sim_swap?.value?.latestSimChange;
    expect(latest).toEqual(expect.any(String));
    // The simulator's change was 10 h before its answer.
    expect(Math.round((Date.parse(out.observedAt) - Date.parse(latest!)) / 3_600_000)).toBe(10);
    expect(out.signals.roaming).toEqual({ value: { roaming: false } });
    expect(out.signals.connectivity).toEqual({ value: { connectivityStatus: 'CONNECTED_SMS' } });
    expect(out.signals.carrier?.value).toMatchObject({
      changed: false,
      originalCarrier: { networkCode: '23410' },
      currentCarrier: { networkCode: '23410' },
    });
    const other = await assess(PORTED_ROAMING);
    expect(other.signals.sim_swap).toEqual({ value: { latestSimChange: null } });
    expect(other.signals.roaming).toEqual({
      value: { roaming: true, countryCode: 262, countryName: ['DE'] },
    });
    expect(other.signals.carrier?.value?.changed).toBe(true);
  });

  it('asks only the insights the signals need', async () => {
    const msisdn = SWAPPED;
    const before = total(requestsFor(msisdn));
    const out = await assess(msisdn, ['carrier']);
    expect(Object.keys(out.signals)).toEqual(['carrier']);
    expect(total(requestsFor(msisdn)) - before).toBe(1);
  });

  it('one failing insight is that signal unknown, with its code; the others answer', async () => {
    const out = await assess(SIM_UNKNOWN);
    expect(out.signals.sim_swap?.error).toMatchObject({ code: 'UNKNOWN_NUMBER' });
    expect(out.signals.sim_swap?.error?.message).toMatch(/request_id [0-9a-f-]{36}/);
    expect(out.signals.carrier?.value?.changed).toBe(false);
    // PARTIAL_SUCCESS without the date: Vonage cannot tell — unknown, not "no SIM change".
    const partial = await assess(PARTIAL_DATE, ['sim_swap']);
    expect(partial.signals.sim_swap?.error).toMatchObject({ code: 'NOT_COVERED' });
    const text = JSON.stringify([out, partial]);
    expect(text).not.toContain(SIM_UNKNOWN.slice(1));
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('a transient insight is asked again alone; when every insight failed, the activity fails (retried)', async () => {
    const out = await assess(FLAKY_REACH, ['sim_swap', 'connectivity']);
    expect(out.signals.connectivity).toEqual({ value: { connectivityStatus: 'CONNECTED_DATA' } });
    expect(out.requests).toBe(2);
    expect(total(requestsFor(FLAKY_REACH))).toBe(2);
    const failure = await failureOf(assess(ALL_FLAKY, ['sim_swap', 'roaming']));
    expect(failure.type).toBe('UPSTREAM_UNAVAILABLE');
    expect(failure.nonRetryable).toBe(false);
  });

  it('a failing request fails the activity with its code, as a check does', async () => {
    const failure = await failureOf(assess(DOWN));
    expect(failure.type).toBe('CONFIGURATION');
  });
});
