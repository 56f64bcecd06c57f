/**
 * The four network checks netcheck runs, and the wire facts each one needs:
 * the CIBA scope (purpose + api-scope) and the CAMARA endpoint path.
 * Workflow-safe: no I/O, no Node built-ins.
 */
export const OPERATIONS = {
  'sim-swap': {
    purpose: 'FraudPreventionAndDetection',
    apiScope: 'check-sim-swap',
    path: '/camara/sim-swap/v040/check',
    activity: 'checkSimSwap',
  },
  'sim-swap-date': {
    purpose: 'FraudPreventionAndDetection',
    apiScope: 'retrieve-sim-swap-date',
    path: '/camara/sim-swap/v040/retrieve-date',
    activity: 'retrieveSimSwapDate',
  },
  'device-connectivity': {
    purpose: 'NotApplicable',
    apiScope: 'device-status:connectivity:read',
    path: '/camara/device-status/v050/connectivity',
    activity: 'getDeviceConnectivity',
  },
  'device-roaming': {
    purpose: 'NotApplicable',
    apiScope: 'device-status:roaming:read',
    path: '/camara/device-status/v050/roaming',
    activity: 'getDeviceRoaming',
  },
} as const satisfies Record<string, { purpose: string; apiScope: string; path: string; activity: string }>;

export type Operation = keyof typeof OPERATIONS;

export const OPERATION_NAMES = Object.keys(OPERATIONS) as Operation[];

/**
 * Purposes a caller may ask for, per operation. Vonage publishes exactly one purpose for
 * each api-scope; an override is accepted only when it names that purpose, so a typo fails
 * before any request instead of as an `invalid_scope` from the provider.
 */
export const ALLOWED_PURPOSES: Record<Operation, readonly string[]> = {
  'sim-swap': [OPERATIONS['sim-swap'].purpose],
  'sim-swap-date': [OPERATIONS['sim-swap-date'].purpose],
  'device-connectivity': [OPERATIONS['device-connectivity'].purpose],
  'device-roaming': [OPERATIONS['device-roaming'].purpose],
};

export function isOperation(value: unknown): value is Operation {
  return typeof value === 'string' && Object.hasOwn(OPERATIONS, value);
}

/** The `scope` form field of bc-authorize: `openid dpv:<purpose>#<api-scope>`. */
export function scopeFor(operation: Operation, purpose: string = OPERATIONS[operation].purpose): string {
  return `openid dpv:${purpose}#${OPERATIONS[operation].apiScope}`;
}

/** SIM Swap `maxAge` bounds, in hours (CAMARA sim-swap v0.4.0). */
export const MAX_AGE_MIN = 1;
export const MAX_AGE_MAX = 2400;
export const MAX_AGE_DEFAULT = 240;
