/**
 * The wire facts the simulator serves, stated here on their own: CAMARA paths as Vonage mounts
 * them, the CIBA scopes (purpose + api-scope) and the SIM Swap `maxAge` bounds.
 *
 * Deliberately NOT read from domain/operations.ts: the simulator is the other side of the wire,
 * so a wrong path or scope in the client's table must fail against it instead of agreeing with
 * itself. Sources: shared/docs/vonage-network-auth.md §2 (scope table), §4 and §5 (paths), and
 * the CAMARA OpenAPI files SIM Swap v0.4.0 / Device Status v0.5.0 (api-scopes as their
 * `security` sections name them, operation paths, `maxAge`). test/simulator/wire.test.ts pins
 * every value literally; test/simulator/camara-conformance.test.ts compares them with the specs.
 */

/** The two CAMARA APIs and where Vonage mounts them. */
export const CAMARA_APIS = {
  'sim-swap': { version: '0.4.0', mount: '/camara/sim-swap/v040' },
  'device-status': { version: '0.5.0', mount: '/camara/device-status/v050' },
} as const;

export type CamaraApi = keyof typeof CAMARA_APIS;

interface OperationFacts {
  api: CamaraApi;
  /** The operation's path in the CAMARA spec (relative to the API's base path). */
  specPath: string;
  /** The path the simulator serves: the API's mount plus specPath. */
  path: string;
  /** The purposes Vonage accepts with this api-scope (it publishes exactly one per scope). */
  purposes: readonly string[];
  /** The CAMARA api-scope (the spec's `security` scope of the operation). */
  apiScope: string;
}

function operation(api: CamaraApi, specPath: string, purpose: string, apiScope: string): OperationFacts {
  return { api, specPath, path: `${CAMARA_APIS[api].mount}${specPath}`, purposes: [purpose], apiScope };
}

/** The four CAMARA operations; the keys are also the simulator's stats names. */
export const CAMARA_OPERATIONS = {
  'sim-swap': operation('sim-swap', '/check', 'FraudPreventionAndDetection', 'check-sim-swap'),
  'sim-swap-date': operation(
    'sim-swap',
    '/retrieve-date',
    'FraudPreventionAndDetection',
    'retrieve-sim-swap-date',
  ),
  'device-connectivity': operation(
    'device-status',
    '/connectivity',
    'NotApplicable',
    'device-status:connectivity:read',
  ),
  'device-roaming': operation('device-status', '/roaming', 'NotApplicable', 'device-status:roaming:read'),
} as const satisfies Record<string, OperationFacts>;

export type CamaraOperation = keyof typeof CAMARA_OPERATIONS;

export const CAMARA_OPERATION_NAMES = Object.keys(CAMARA_OPERATIONS) as CamaraOperation[];

/** `dpv:<purpose>#<api-scope>`, the second word of the bc-authorize `scope`. */
export function dpvScope(operation: CamaraOperation, purpose?: string): string {
  const facts = CAMARA_OPERATIONS[operation];
  return `dpv:${purpose ?? facts.purposes[0]}#${facts.apiScope}`;
}

/** The full bc-authorize `scope`: `openid dpv:<purpose>#<api-scope>`. */
export function cibaScope(operation: CamaraOperation, purpose?: string): string {
  return `openid ${dpvScope(operation, purpose)}`;
}

/** SIM Swap v0.4.0 `maxAge`: hours, integer, 1–2400, default 240. */
export const SIM_SWAP_MAX_AGE = { minimum: 1, maximum: 2400, default: 240 } as const;

/** The CIBA grant type of the token poll (OpenID CIBA Core 1.0 §10.1). */
export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';
