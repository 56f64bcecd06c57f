/**
 * Operator profiles: the wire facts of one provider (paths, scopes, purpose syntax, client
 * authentication, response schemas, error tables). A worker serves one profile (its task queue);
 * every CheckResult records the profile and the API version that answered. Workflow-safe.
 *
 * - `vonage` (the default): Vonage as it answers today (domain/operations.ts: CAMARA_OPERATIONS,
 *   CAMARA_APIS; the application JWT; Identity Insights).
 * - `camara`: any operator on the current CAMARA releases (SIM Swap 2.1.0, Device Reachability
 *   Status 1.1.0, Device Roaming Status 1.1.0) with Identity and Consent Management r4.2: OIDC
 *   discovery, CIBA, `private_key_jwt` client assertions, scope `openid dpv:<Purpose> <api-scope>`.
 */
import { CAMARA_APIS, CAMARA_OPERATIONS, type CamaraOperation } from './operations.js';

export const PROFILE_NAMES = ['vonage', 'camara'] as const;
export type Profile = (typeof PROFILE_NAMES)[number];
export const DEFAULT_PROFILE: Profile = 'vonage';

export function isProfile(value: unknown): value is Profile {
  return typeof value === 'string' && (PROFILE_NAMES as readonly string[]).includes(value);
}

/**
 * The `camara` profile's APIs: the release each operation is served by, its path under the
 * operator's `apiRoot` (the OpenAPI file's server URL `{apiRoot}/<api>/<v>` plus the operation's
 * path) and the api-scope its `security` section names.
 */
export const CAMARA_PROFILE_OPERATIONS = {
  'sim-swap': {
    api: 'sim-swap',
    version: '2.1.0',
    path: '/sim-swap/v2/check',
    apiScope: 'sim-swap:check',
  },
  'sim-swap-date': {
    api: 'sim-swap',
    version: '2.1.0',
    path: '/sim-swap/v2/retrieve-date',
    apiScope: 'sim-swap:retrieve-date',
  },
  'device-connectivity': {
    api: 'device-reachability-status',
    version: '1.1.0',
    path: '/device-reachability-status/v1/retrieve',
    apiScope: 'device-reachability-status:read',
  },
  'device-roaming': {
    api: 'device-roaming-status',
    version: '1.1.0',
    path: '/device-roaming-status/v1/retrieve',
    apiScope: 'device-roaming-status:read',
  },
} as const satisfies Record<
  CamaraOperation,
  { api: string; version: string; path: string; apiScope: string }
>;

/** The 404 code of the current releases for a number the operator does not know (CAMARA Commonalities). */
export const CAMARA_PROFILE_NOT_FOUND_CODE = 'IDENTIFIER_NOT_FOUND';

/** The `camara` profile's CIBA scope: `openid dpv:<Purpose> <api-scope>` (ICM r4.2: the purpose is its own scope token). */
export function camaraProfileScope(operation: CamaraOperation, purpose: string): string {
  return `openid dpv:${purpose} ${CAMARA_PROFILE_OPERATIONS[operation].apiScope}`;
}

/** The operation the `camara` profile serves at this path under the apiRoot, if any. */
export function camaraProfileOperationAt(path: string): CamaraOperation | undefined {
  return (Object.keys(CAMARA_PROFILE_OPERATIONS) as CamaraOperation[]).find(
    (op) => CAMARA_PROFILE_OPERATIONS[op].path === path,
  );
}

/** The version of the API that serves `operation` over CIBA under `profile`. */
export function apiVersionOf(profile: Profile, operation: CamaraOperation): string {
  return profile === 'camara'
    ? CAMARA_PROFILE_OPERATIONS[operation].version
    : CAMARA_APIS[CAMARA_OPERATIONS[operation].family].version;
}

/**
 * The task queue of a profile when none is named: `netcheck` for `vonage`, `netcheck-camara` for
 * `camara`, so a worker of one profile never takes the checks meant for the other by default.
 */
export function profileTaskQueue(profile: Profile, base: string): string {
  return profile === DEFAULT_PROFILE ? base : `${base}-${profile}`;
}
