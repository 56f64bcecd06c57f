/** Vonage Playground Virtual Operator rules for +990 numbers (doc §6). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { camaraBody, expectCamaraError, TestSim } from './helpers.js';

const HOUR = 3_600_000;
let t: TestSim;

beforeAll(async () => {
  t = await TestSim.start({ fakeClock: true, interval: 0 });
});
afterAll(() => t.close());

describe('SIM Swap', () => {
  it('treats the last swap as 500 h ago: maxAge above → swapped, below → not', async () => {
    const msisdn = '+99012345678';
    const tok = await t.accessToken(msisdn, 'sim-swap');
    const swapped = async (maxAge?: number) =>
      (await t.camara('sim-swap', camaraBody('sim-swap', msisdn, maxAge), tok)).json.swapped;
    expect(await swapped(501)).toBe(true);
    expect(await swapped(2400)).toBe(true);
    expect(await swapped(499)).toBe(false);
    expect(await swapped(1)).toBe(false);
    expect(await swapped()).toBe(false); // default 240
    expect(await swapped(500)).toBe(true); // exactly 500 h: the change is inside the window
  });

  it('retrieve-date answers now − 500 h, following the clock', async () => {
    const msisdn = '+9901234500';
    const tok = await t.accessToken(msisdn, 'sim-swap-date');
    const date = async () =>
      (await t.camara('sim-swap-date', camaraBody('sim-swap-date', msisdn), tok)).json.latestSimChange;
    expect(await date()).toBe(new Date(t.now() - 500 * HOUR).toISOString().replace('.000Z', 'Z'));
    t.advance(10 * 60_000); // the token lives 15 min
    expect(Date.parse((await date()) as string)).toBe(t.now() - 500 * HOUR);
  });

  it.each(['+990123499', '+99011111199'])(
    '%s (ends in 99) answers 404 on both SIM Swap endpoints',
    async (msisdn) => {
      expectCamaraError(await t.check('sim-swap', msisdn, 600), 404, 'SIM_SWAP.UNKNOWN_PHONE_NUMBER');
      expectCamaraError(await t.check('sim-swap-date', msisdn), 404, 'SIM_SWAP.UNKNOWN_PHONE_NUMBER');
    },
  );

  it('+990XXXX99 still answers Device Status', async () => {
    expect((await t.check('device-connectivity', '+990123499')).json).toEqual({
      connectivityStatus: 'CONNECTED_DATA',
    });
    expect((await t.check('device-roaming', '+990123499')).json).toEqual({ roaming: false });
  });
});

describe('Device Status', () => {
  it('answers CONNECTED_DATA for every number', async () => {
    for (const msisdn of ['+990123400', '+990123411', '+9905551237']) {
      expect((await t.check('device-connectivity', msisdn)).json).toEqual({
        connectivityStatus: 'CONNECTED_DATA',
      });
    }
  });

  it.each([
    ['+990123400', { roaming: true, countryCode: 234, countryName: ['GB'] }],
    ['+990123444', { roaming: true, countryCode: 234, countryName: ['GB'] }],
    ['+99012345678', { roaming: true, countryCode: 234, countryName: ['GB'] }],
    ['+990123433', { roaming: false }],
    ['+99012345677', { roaming: false }],
    ['+990123411', { roaming: true, countryCode: 901, countryName: [] }],
    ['+9902345622', { roaming: true, countryCode: 262, countryName: ['DE'] }],
  ])('roaming of %s follows the last digits', async (msisdn, expected) => {
    expect((await t.check('device-roaming', msisdn)).json).toEqual(expected);
  });
});

describe('precedence', () => {
  it('a scenario entry overrides the Virtual Operator rules for its number', async () => {
    const msisdn = '+990123455';
    t.sim.addScenarios({
      numbers: { [msisdn]: { lastSimChangeHoursAgo: 1, connectivity: 'NOT_CONNECTED' } },
    });
    expect((await t.check('sim-swap', msisdn, 2)).json).toEqual({ swapped: true });
    expect((await t.check('device-connectivity', msisdn)).json).toEqual({
      connectivityStatus: 'NOT_CONNECTED',
    });
  });
});
