/**
 * CIBA's own numbers (OpenID CIBA Core) and the limits netcheck puts on what a provider may ask
 * for. What netcheck does with them — the deadline margin, the re-poll floor, the retries, where
 * each wait happens — is the policy of domain/ciba-flow.ts. Workflow-safe.
 */

/** CIBA's slow_down penalty (OpenID CIBA Core §11). */
export const SLOW_DOWN_SECONDS = 5;
/**
 * Caps on what a provider may ask for in a bc-authorize answer: a longer `expires_in`, an
 * `interval` above this or above `expires_in`, is a PROTOCOL_ERROR (activities/responses.ts),
 * never a wait. Real providers answer in minutes (Vonage: expires_in 120, interval 2); without
 * these caps `interval: 1e12` would park a check for decades.
 */
export const MAX_EXPIRES_IN_SECONDS = 3_600;
export const MAX_INTERVAL_SECONDS = 300;
