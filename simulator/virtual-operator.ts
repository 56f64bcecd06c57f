/**
 * Vonage Playground "Virtual Operator" rules for numbers starting +990 (see
 * shared/docs/vonage-network-auth.md §6 and Vonage's pages getting-started-network/concepts/
 * virtual-operator and device-status/concepts/virtual-operator). Deterministic, derived from the
 * number alone.
 *
 * Known gaps (docs/simulator.md): Vonage's Device Status page says the trailing digits also
 * decide /connectivity, and lists roaming rows past "22" (a "33" row with a single country
 * name, …); those rows could not be read from the stored copy of the page, so connectivity
 * stays CONNECTED_DATA and such numbers follow the even / odd rule.
 */
import type { Connectivity, Roaming } from './scenarios.js';

export const VIRTUAL_OPERATOR_PREFIX = '+990';
/** The last SIM swap of every Virtual Operator number is this long before the request. */
export const VIRTUAL_OPERATOR_SWAP_AGE_HOURS = 500;

export function isVirtualOperatorNumber(msisdn: string): boolean {
  return msisdn.startsWith(VIRTUAL_OPERATOR_PREFIX);
}

/**
 * Numbers ending in "99" (`+990XXXX99`) answer SIM Swap calls with an error; Vonage's
 * Identity Insights page calls it an unknown phone number, so the simulator answers 404.
 */
export function virtualOperatorSimSwapUnknown(msisdn: string): boolean {
  return msisdn.endsWith('99');
}

export function virtualOperatorLastSimChange(nowMs: number): number {
  return nowMs - VIRTUAL_OPERATOR_SWAP_AGE_HOURS * 3_600_000;
}

export function virtualOperatorConnectivity(): Connectivity {
  return 'CONNECTED_DATA';
}

/** "11" → roaming, 901, []; "22" → roaming in DE; other even → roaming in GB; odd → home. */
export function virtualOperatorRoaming(msisdn: string): Roaming {
  const lastTwo = msisdn.slice(-2);
  if (lastTwo === '11') return { roaming: true, countryCode: 901, countryName: [] };
  if (lastTwo === '22') return { roaming: true, countryCode: 262, countryName: ['DE'] };
  const lastDigit = Number(msisdn.slice(-1));
  return lastDigit % 2 === 0 ? { roaming: true, countryCode: 234, countryName: ['GB'] } : { roaming: false };
}
