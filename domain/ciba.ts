/**
 * The CIBA timing rules every road follows: the check workflow, the polling activity and a bulk
 * chunk (workflows/network-check.ts, activities/token.ts, activities/bulk.ts). Workflow-safe.
 */

/** bc-authorize requests in all, when earlier ones expire before the token is granted. */
export const DEFAULT_MAX_AUTHORIZATIONS = 2;
/** CIBA's slow_down penalty (OpenID CIBA Core §11). */
export const SLOW_DOWN_SECONDS = 5;
/** Shortest wait between two polls when the provider says interval 0 (Temporal timers' own floor). */
export const MIN_REPOLL_SECONDS = 1;
/**
 * The last poll goes at least this long before `expires_in` ends (never more than a tenth of
 * the window), so it reaches the provider while the auth_req_id is still valid.
 */
export const DEADLINE_MARGIN_MS = 1_000;
