/**
 * The simulator as Vonage answers today, and its two switches (scenario file): the CAMARA SIM Swap
 * routes served as the retired routes they are (`retiredSimSwap`), and Identity Insights'
 * Virtual Operator widened to every +990 number for load tests (`identityInsightsVirtualOperator`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { camaraBody, pathOf, post, TestSim, type HttpResult } from './helpers.js';

const PURPOSE = 'FraudPreventionAndDetection';

let t: TestSim;

beforeAll(async () => {
  t = await TestSim.start({ fakeClock: true, interval: 0 });
});
afterAll(() => t.close());

async function insightCode(msisdn: string): Promise<string> {
  const res = await post(`${t.url}/identity-insights/v1/requests`, {
    json: { phone_number: msisdn, purpose: PURPOSE, insights: { sim_swap: {} } },
    headers: { authorization: `Bearer ${await t.jwt()}` },
  });
  expect(res.status).toBe(200);
  return (res.json.insights as { sim_swap: { status: { code: string } } }).sim_swap.status.code;
}

async function camaraCall(operation: 'sim-swap' | 'sim-swap-date' | 'device-roaming', msisdn: string) {
  const token = await t.accessToken(msisdn, operation);
  return post(`${t.url}${pathOf(operation)}`, {
    json: camaraBody(operation, msisdn, operation === 'sim-swap' ? 240 : undefined),
    headers: { authorization: `Bearer ${token}` },
  });
}

describe('retiredSimSwap: the CAMARA SIM Swap routes as Vonage retired them (2025-11-23)', () => {
  it('answers 404 on both SIM Swap routes like an unserved path, leaves Device Status and OAuth alone, and can be undone', async () => {
    const msisdn = '+99012345601';
    expect((await camaraCall('sim-swap', msisdn)).status).toBe(200);
    t.sim.addScenarios({ retiredSimSwap: true });
    try {
      for (const operation of ['sim-swap', 'sim-swap-date'] as const) {
        const res: HttpResult = await camaraCall(operation, msisdn); // bc-authorize and token still answer
        expect(res.status).toBe(404);
        expect(res.json).toEqual({
          status: 404,
          code: 'NOT_FOUND',
          message: `No endpoint POST ${pathOf(operation)}`,
        });
      }
      // Without a token too: the route is gone, nothing is checked.
      expect((await post(`${t.url}${pathOf('sim-swap')}`, { json: {} })).status).toBe(404);
      expect((await camaraCall('device-roaming', msisdn)).json).toEqual({ roaming: false });
    } finally {
      t.sim.addScenarios({ retiredSimSwap: false });
    }
    expect((await camaraCall('sim-swap-date', msisdn)).status).toBe(200);
  });
});

describe('identityInsightsVirtualOperator', () => {
  it('"documented" (the default) answers the ten numbers only; "every-number" answers any +990 number', async () => {
    expect(await insightCode('+99012345601')).toBe('INVALID_NUMBER_FORMAT');
    expect(await insightCode('+990123422')).toBe('OK');
    t.sim.addScenarios({ identityInsightsVirtualOperator: 'every-number' });
    try {
      expect(await insightCode('+99012345601')).toBe('OK');
      expect(await insightCode('+99012345699')).toBe('NOT_FOUND'); // the CIBA road's …99 rule
    } finally {
      t.sim.addScenarios({ identityInsightsVirtualOperator: 'documented' });
    }
    expect(await insightCode('+99012345601')).toBe('INVALID_NUMBER_FORMAT');
  });

  it('refuses any other value, naming the field', () => {
    expect(() => t.sim.addScenarios({ identityInsightsVirtualOperator: 'all' as 'documented' })).toThrow(
      /identityInsightsVirtualOperator/,
    );
  });
});
