/**
 * The checks netcheck runs, the two APIs that serve them, and the wire facts each road needs.
 * Workflow-safe: no I/O, no Node built-ins.
 *
 * - `camara`: the CIBA flow (bc-authorize → token → CAMARA endpoint). The default.
 * - `identity-insights`: one application-JWT request to Vonage's Identity Insights API.
 */

/** The two roads to an answer. */
export const API_NAMES = ['camara', 'identity-insights'] as const;
export type Api = (typeof API_NAMES)[number];
export const DEFAULT_API: Api = 'camara';

export function isApi(value: unknown): value is Api {
  return typeof value === 'string' && (API_NAMES as readonly string[]).includes(value);
}

/** Every operation, the APIs that serve it and the Identity Insights insights it asks for. */
export const OPERATIONS = {
  'sim-swap': { apis: ['camara', 'identity-insights'], insights: ['sim_swap'] },
  'sim-swap-date': { apis: ['camara', 'identity-insights'], insights: ['sim_swap'] },
  'device-connectivity': { apis: ['camara', 'identity-insights'], insights: ['reachability'] },
  'device-roaming': { apis: ['camara', 'identity-insights'], insights: ['roaming'] },
  /** Number validity, country, original and current network: Identity Insights only (worldwide, no operator approval). */
  carrier: { apis: ['identity-insights'], insights: ['format', 'original_carrier', 'current_carrier'] },
} as const satisfies Record<string, { apis: readonly Api[]; insights: readonly string[] }>;

export type Operation = keyof typeof OPERATIONS;

export const OPERATION_NAMES = Object.keys(OPERATIONS) as Operation[];

export function isOperation(value: unknown): value is Operation {
  return typeof value === 'string' && Object.hasOwn(OPERATIONS, value);
}

export function apiServes(api: Api, operation: Operation): boolean {
  return (OPERATIONS[operation].apis as readonly Api[]).includes(api);
}

/**
 * The CIBA road: for each operation CAMARA serves, the api-scope of the bc-authorize `scope`,
 * the CAMARA endpoint path (as Vonage mounts it) and the activity that calls it.
 */
export const CAMARA_OPERATIONS = {
  'sim-swap': {
    apiScope: 'check-sim-swap',
    path: '/camara/sim-swap/v040/check',
    activity: 'checkSimSwap',
  },
  'sim-swap-date': {
    apiScope: 'retrieve-sim-swap-date',
    path: '/camara/sim-swap/v040/retrieve-date',
    activity: 'retrieveSimSwapDate',
  },
  'device-connectivity': {
    apiScope: 'device-status:connectivity:read',
    path: '/camara/device-status/v050/connectivity',
    activity: 'getDeviceConnectivity',
  },
  'device-roaming': {
    apiScope: 'device-status:roaming:read',
    path: '/camara/device-status/v050/roaming',
    activity: 'getDeviceRoaming',
  },
} as const satisfies Record<string, { apiScope: string; path: string; activity: string }>;

export type CamaraOperation = keyof typeof CAMARA_OPERATIONS;

export const CAMARA_OPERATION_NAMES = Object.keys(CAMARA_OPERATIONS) as CamaraOperation[];

export function isCamaraOperation(value: unknown): value is CamaraOperation {
  return typeof value === 'string' && Object.hasOwn(CAMARA_OPERATIONS, value);
}

/**
 * Vonage Network API purposes (W3C DPV names, as used in `dpv:<purpose>#<api-scope>` and in
 * Identity Insights' `purpose`): the full list on Vonage's "Network API Purposes" page
 * (developer.vonage.com/en/att-network-apis/getting-started-att/network-api-purpose), read
 * 2026-11-29. The purpose to send is the one the Vonage application was registered with; a name
 * outside this list is refused before any request is made.
 */
export const PURPOSES = ['FraudPreventionAndDetection', 'NotApplicable'] as const;
export type Purpose = (typeof PURPOSES)[number];

export function isPurpose(value: unknown): value is Purpose {
  return typeof value === 'string' && (PURPOSES as readonly string[]).includes(value);
}

/**
 * The purpose used when the caller names none: what Vonage documents for each API. Device Status
 * over CIBA uses `NotApplicable`; everything that goes through Vonage's Network Registry over
 * Identity Insights uses FraudPreventionAndDetection (the only purpose the Playground accepts).
 * `carrier` needs none (its insights are not operator data).
 */
export function defaultPurpose(operation: Operation, api: Api): Purpose | undefined {
  if (operation === 'carrier') return undefined;
  if (api === 'camara' && (operation === 'device-connectivity' || operation === 'device-roaming')) {
    return 'NotApplicable';
  }
  return 'FraudPreventionAndDetection';
}

/** The `scope` form field of bc-authorize: `openid dpv:<purpose>#<api-scope>`. */
export function scopeFor(
  operation: CamaraOperation,
  purpose: string = defaultPurpose(operation, 'camara') ?? 'FraudPreventionAndDetection',
): string {
  return `openid dpv:${purpose}#${CAMARA_OPERATIONS[operation].apiScope}`;
}

/** SIM Swap `maxAge` bounds, in hours (CAMARA sim-swap v0.4.0; Identity Insights `sim_swap.period`). */
export const MAX_AGE_MIN = 1;
export const MAX_AGE_MAX = 2400;
export const MAX_AGE_DEFAULT = 240;
