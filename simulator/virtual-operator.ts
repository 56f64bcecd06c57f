/**
 * Vonage Playground "Virtual Operator" rules for numbers starting +990 (see
 * shared/docs/vonage-network-auth.md §6 and Vonage's pages getting-started-network/concepts/
 * virtual-operator and device-status/concepts/virtual-operator). Deterministic, derived from the
 * number alone.
 *
 * Two roads, two rule sets. The CIBA road (CAMARA SIM Swap and Device Status) answers any +990
 * number by its trailing digits. Identity Insights' Virtual Operator
 * (identity-insights/concepts/virtual-operator) answers exactly ten numbers,
 * IDENTITY_INSIGHTS_VIRTUAL_NUMBERS, and any other +990 number with INVALID_NUMBER_FORMAT.
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

/**
 * The ten numbers Vonage's Identity Insights Virtual Operator answers. SIM Swap: the last swap
 * 500 h before the request for all but +990123499, which answers NOT_FOUND ("Unknown phone
 * number."). Any other +990 number answers INVALID_NUMBER_FORMAT on that road.
 */
export const IDENTITY_INSIGHTS_VIRTUAL_NUMBERS = [
  '+990123400',
  '+990123411',
  '+990123422',
  '+990123433',
  '+990123444',
  '+990123455',
  '+990123466',
  '+990123477',
  '+990123488',
  '+990123499',
] as const;

/** The Identity Insights Virtual Operator number that is unknown to SIM Swap. */
export const IDENTITY_INSIGHTS_UNKNOWN_NUMBER = '+990123499';

export function isIdentityInsightsVirtualNumber(msisdn: string): boolean {
  return (IDENTITY_INSIGHTS_VIRTUAL_NUMBERS as readonly string[]).includes(msisdn);
}

/** The status message Vonage's Identity Insights answers for any other +990 number. */
export const IDENTITY_INSIGHTS_OTHER_VIRTUAL_NUMBER_MESSAGE = `Invalid number. Only the following Virtual Operator numbers are allowed: ${IDENTITY_INSIGHTS_VIRTUAL_NUMBERS.map((n) => n.slice(1)).join(', ')}.`;
