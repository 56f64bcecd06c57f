/**
 * The checks netcheck runs, the two APIs that serve them, and the wire facts each road needs.
 * Workflow-safe: no I/O, no Node built-ins.
 *
 * - `camara`: the CIBA flow (bc-authorize → token → CAMARA endpoint). The default. At Vonage
 *   today it serves Device Status in the Playground only; its SIM Swap routes were retired on
 *   2025-11-23 (`CAMARA_APIS`).
 * - `identity-insights`: one application-JWT request to Vonage's Identity Insights API, where
 *   Vonage serves SIM swap (and roaming, reachability) today.
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
    family: 'sim-swap',
  },
  'sim-swap-date': {
    apiScope: 'retrieve-sim-swap-date',
    path: '/camara/sim-swap/v040/retrieve-date',
    activity: 'retrieveSimSwapDate',
    family: 'sim-swap',
  },
  'device-connectivity': {
    apiScope: 'device-status:connectivity:read',
    path: '/camara/device-status/v050/connectivity',
    activity: 'getDeviceConnectivity',
    family: 'device-status',
  },
  'device-roaming': {
    apiScope: 'device-status:roaming:read',
    path: '/camara/device-status/v050/roaming',
    activity: 'getDeviceRoaming',
    family: 'device-status',
  },
} as const satisfies Record<
  string,
  { apiScope: string; path: string; activity: string; family: 'sim-swap' | 'device-status' }
>;

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

/**
 * The CAMARA APIs of the CIBA road as Vonage serves them: their version, the 404 `code` their own
 * OpenAPI file documents for a subscriber the operator does not know (SIM Swap v0.4.0:
 * `SIM_SWAP.UNKNOWN_PHONE_NUMBER`; Device Status v0.5.0: `NOT_FOUND`) and, for a retired API,
 * the day Vonage retired it. A 404 with any other body is not about the number (activities/errors.ts).
 */
export const CAMARA_APIS = {
  'sim-swap': {
    version: '0.4.0',
    unknownNumberCode: 'SIM_SWAP.UNKNOWN_PHONE_NUMBER',
    /** Vonage's docs: the standalone SIM Swap API "will be sunset on November 23, 2025"; Identity Insights replaces it. */
    retiredOn: '2025-11-23',
  },
  'device-status': { version: '0.5.0', unknownNumberCode: 'NOT_FOUND', retiredOn: undefined },
} as const satisfies Record<
  string,
  { version: string; unknownNumberCode: string; retiredOn: string | undefined }
>;

export type CamaraApi = keyof typeof CAMARA_APIS;

/** The CAMARA API and operation Vonage serves at this path of the CIBA road, if any. */
export function camaraApiAt(path: string): { api: CamaraApi; operation: CamaraOperation } | undefined {
  const operation = CAMARA_OPERATION_NAMES.find((op) => CAMARA_OPERATIONS[op].path === path);
  return operation === undefined ? undefined : { api: CAMARA_OPERATIONS[operation].family, operation };
}

// ---- purposes per API family ----

/**
 * The API families a purpose is chosen for: the operations of one family (and their Identity
 * Insights insights) take the same purpose. `carrier` belongs to none: it sends no purpose.
 */
export const PURPOSE_FAMILIES = ['sim-swap', 'device-status'] as const;
export type PurposeFamily = (typeof PURPOSE_FAMILIES)[number];

export function isPurposeFamily(value: unknown): value is PurposeFamily {
  return typeof value === 'string' && (PURPOSE_FAMILIES as readonly string[]).includes(value);
}

/** The family of an operation (`sim-swap`, `sim-swap-date` → sim-swap; device-* → device-status). */
export function purposeFamily(operation: Operation): PurposeFamily | undefined {
  return operation === 'carrier' ? undefined : CAMARA_OPERATIONS[operation].family;
}

/**
 * Which purposes a family accepts on each road. The CIBA road: Vonage's scope table pairs each
 * api-scope with exactly one purpose (SIM Swap FraudPreventionAndDetection, Device Status
 * NotApplicable); any other is refused at bc-authorize. Identity Insights: the purposes of the
 * application's network profile, which netcheck cannot know, so every purpose of the list (the
 * Playground accepts only FraudPreventionAndDetection).
 */
const ACCEPTED_PURPOSES: Record<Api, Record<PurposeFamily, readonly Purpose[]>> = {
  camara: { 'sim-swap': ['FraudPreventionAndDetection'], 'device-status': ['NotApplicable'] },
  'identity-insights': { 'sim-swap': PURPOSES, 'device-status': PURPOSES },
};

/** Whether `purpose` is one the operation's family accepts over `api`. */
export function acceptsPurpose(operation: Operation, api: Api, purpose: string): boolean {
  const family = purposeFamily(operation);
  return family !== undefined && (ACCEPTED_PURPOSES[api][family] as readonly string[]).includes(purpose);
}

/** A purpose per family (the map form of `--purpose` / NETCHECK_PURPOSE). */
export type PurposeMap = Partial<Record<PurposeFamily, Purpose>>;

/**
 * A purpose setting as written: one purpose (`FraudPreventionAndDetection`), or one per family,
 * `sim-swap=FraudPreventionAndDetection,device-status=NotApplicable` (`,` or `;` between entries,
 * spaces ignored).
 */
export type ParsedPurposeSetting = { purpose: Purpose } | { purposes: PurposeMap };

const PURPOSE_SYNTAX = `${PURPOSES.join(', ')} (or one per API family: ${PURPOSE_FAMILIES.map((f) => `${f}=<purpose>`).join(',')})`;

/**
 * Parses a purpose setting; `label` names it in the problem (`purpose`, `--purpose`,
 * `NETCHECK_PURPOSE`). The problem quotes at most the start of the value.
 */
export function parsePurposeSetting(
  value: unknown,
  label = 'purpose',
): { setting: ParsedPurposeSetting; problem?: undefined } | { setting?: undefined; problem: string } {
  const text = typeof value === 'string' ? value.trim() : '';
  const shown = JSON.stringify(String(value).slice(0, 60));
  if (isPurpose(text)) return { setting: { purpose: text } };
  if (typeof value !== 'string' || !text.includes('=')) {
    return {
      problem: `${label} ${shown} is not a Vonage Network API purpose; use the one your Vonage application is registered with: ${PURPOSE_SYNTAX}`,
    };
  }
  const purposes: PurposeMap = {};
  for (const entry of text.split(/[,;]/)) {
    if (entry.trim() === '') continue;
    const [rawFamily = '', rawPurpose = '', ...rest] = entry.split('=').map((part) => part.trim());
    if (rest.length > 0 || !isPurposeFamily(rawFamily) || !isPurpose(rawPurpose)) {
      const why = !isPurposeFamily(rawFamily)
        ? `${JSON.stringify(rawFamily.slice(0, 30))} is not an API family (${PURPOSE_FAMILIES.join(', ')})`
        : `${JSON.stringify(rawPurpose.slice(0, 40))} is not a Vonage Network API purpose (${PURPOSES.join(', ')})`;
      return { problem: `${label} ${shown}: ${why}; use ${PURPOSE_SYNTAX}` };
    }
    if (purposes[rawFamily] !== undefined) {
      return { problem: `${label} ${shown} names ${rawFamily} twice; use ${PURPOSE_SYNTAX}` };
    }
    purposes[rawFamily] = rawPurpose;
  }
  if (Object.keys(purposes).length === 0) {
    return { problem: `${label} ${shown} names no purpose; use ${PURPOSE_SYNTAX}` };
  }
  return { setting: { purposes } };
}

/** The setting as text, canonical (families in PURPOSE_FAMILIES order, no spaces). */
export function formatPurposeSetting(setting: ParsedPurposeSetting): string {
  if ('purpose' in setting) return setting.purpose;
  return PURPOSE_FAMILIES.filter((family) => setting.purposes[family] !== undefined)
    .map((family) => `${family}=${setting.purposes[family]}`)
    .join(',');
}

/**
 * The purpose a check sends, from a purpose setting (text or parsed; undefined: none given):
 * - none: what Vonage documents for the operation and API (`defaultPurpose`);
 * - one purpose: that purpose where the operation's family accepts it over this API
 *   (`acceptsPurpose`), else the family's default, so one purpose never breaks the other family;
 * - a map: the family's entry, sent as written, else the family's default.
 * `carrier` sends none whatever the setting. A setting that does not parse resolves like none
 * (validation reports it: `parsePurposeSetting`).
 */
export function resolvePurpose(
  setting: string | ParsedPurposeSetting | undefined,
  operation: Operation,
  api: Api,
): Purpose | undefined {
  const fallback = defaultPurpose(operation, api);
  const family = purposeFamily(operation);
  if (family === undefined || setting === undefined) return fallback;
  const parsed = typeof setting === 'string' ? parsePurposeSetting(setting).setting : setting;
  if (!parsed) return fallback;
  if ('purpose' in parsed) return acceptsPurpose(operation, api, parsed.purpose) ? parsed.purpose : fallback;
  return parsed.purposes[family] ?? fallback;
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
