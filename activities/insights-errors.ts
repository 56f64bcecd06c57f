/**
 * How Identity Insights answers become netcheck error codes: HTTP statuses (the whole request)
 * and the per-insight `status.code` of a 200 answer. Pure tables, kept apart from errors.ts so
 * that errors.ts can use them without an import cycle; retryability stays in domain/errors.ts.
 *
 * | Vonage                         | netcheck code          | why                                                      |
 * |--------------------------------|------------------------|----------------------------------------------------------|
 * | OK, PARTIAL_SUCCESS            | (an answer)            | PARTIAL_SUCCESS: absent fields are named in `missing`    |
 * | NOT_FOUND                      | UNKNOWN_NUMBER         | the number is unknown for this insight                   |
 * | INVALID_NUMBER_FORMAT          | INVALID_INPUT          | the number itself is wrong: fix it and run again         |
 * | NO_COVERAGE                    | NOT_COVERED            | no supplier for the number's country or network          |
 * | UNSUPPORTED_NETWORK_TYPE       | NOT_COVERED            | the insight does not serve that kind of network          |
 * | UNAUTHORIZED                   | PERMISSION_DENIED      | application + supplier + number not authorized           |
 * | INVALID_PURPOSE                | CONFIGURATION          | the purpose does not match the application's registration |
 * | SUPPLIER_ERROR, INTERNAL_ERROR | UPSTREAM_UNAVAILABLE   | transient: asked again alone while others answered (the  |
 * |                                |                        | activity), else retried by Temporal                      |
 * | anything else                  | PROTOCOL_ERROR         | not part of the API                                      |
 */
import type { ErrorCode } from '../domain/index.js';

export interface Verdict {
  code: ErrorCode;
  /** What the user should do; never quotes a credential or a phone number. */
  advice: string;
}

/** The insights netcheck asks for, as Vonage names them, with the product name users see. */
export const INSIGHT_LABELS = {
  sim_swap: 'SIM Swap',
  roaming: 'Roaming',
  reachability: 'Reachability',
  format: 'Format',
  original_carrier: 'Original Carrier',
  current_carrier: 'Current Carrier',
} as const;

export type InsightName = keyof typeof INSIGHT_LABELS;

/** Insights that go through Vonage's Network Registry (operator approval, a purpose). */
export const NETWORK_REGISTRY_INSIGHTS: readonly InsightName[] = ['sim_swap', 'roaming', 'reachability'];

export const ANSWER_CODES = ['OK', 'PARTIAL_SUCCESS'] as const;

const TECHNICAL_DETAILS = 'developer.vonage.com/en/identity-insights/technical-details';

/**
 * The verdict on one insight's `status.code`, or undefined when the insight answered
 * (OK, PARTIAL_SUCCESS). `purpose` is the one sent, for the INVALID_PURPOSE advice.
 */
export function insightStatusVerdict(
  code: string,
  insight: InsightName,
  purpose: string | undefined,
): Verdict | undefined {
  const label = INSIGHT_LABELS[insight];
  switch (code.toUpperCase()) {
    case 'OK':
    case 'PARTIAL_SUCCESS':
      return undefined;
    case 'NOT_FOUND':
      return {
        code: 'UNKNOWN_NUMBER',
        advice: `Vonage's suppliers do not know this number for ${label}; check that it is a mobile number in service.`,
      };
    case 'INVALID_NUMBER_FORMAT':
      return {
        code: 'INVALID_INPUT',
        advice:
          'The number is not one carriers assign to users; check it (E.164: + and the country code, no leading 00).',
      };
    case 'NO_COVERAGE':
      return {
        code: 'NOT_COVERED',
        advice: `Identity Insights has no supplier for this number's country or network for ${label} (coverage: ${TECHNICAL_DETAILS}).`,
      };
    case 'UNSUPPORTED_NETWORK_TYPE':
      return {
        code: 'NOT_COVERED',
        advice: `${label} does not serve this number's type of network (for example a landline or VoIP number).`,
      };
    case 'UNAUTHORIZED':
      return {
        code: 'PERMISSION_DENIED',
        advice: NETWORK_REGISTRY_INSIGHTS.includes(insight)
          ? `Vonage did not authorize ${label} for this application and number: in Production, register the application's network profile for ${label} in the Network Registry (Vonage Dashboard, Network Registry) and wait for the operators' approval; in the Playground, add the number to the allowlist or use a Virtual Operator number (+990…).`
          : `Vonage did not authorize ${label} for this application and number; check that the application has Identity Insights enabled.`,
      };
    case 'INVALID_PURPOSE':
      return {
        code: 'CONFIGURATION',
        advice: `The purpose ${purpose === undefined ? '(none sent)' : `"${purpose}"`} is not allowed for ${label}: send the purpose your application's network profile is registered with (--purpose or NETCHECK_PURPOSE, one per API family if they differ: sim-swap=…,device-status=…); the Playground accepts only FraudPreventionAndDetection.`,
      };
    case 'SUPPLIER_ERROR':
      return {
        code: 'UPSTREAM_UNAVAILABLE',
        advice: `Vonage's supplier failed to answer ${label}; retrying with backoff.`,
      };
    case 'INTERNAL_ERROR':
      return {
        code: 'UPSTREAM_UNAVAILABLE',
        advice: `Vonage failed internally while answering ${label}; retrying with backoff.`,
      };
    default:
      return {
        code: 'PROTOCOL_ERROR',
        advice: `This status code is not part of the Identity Insights API; check the base URL and VONAGE_IDENTITY_INSIGHTS_PATH.`,
      };
  }
}

/**
 * The verdict on a non-200 HTTP status that errors.ts's shared rules (429, 5xx) did not take.
 * The application JWT is the credential here, as for bc-authorize, so 401/403 are the worker's
 * configuration; 404/405 mean there is no Identity Insights at the configured path.
 */
export function identityInsightsHttpVerdict(status: number): Verdict | undefined {
  switch (status) {
    case 400:
    case 422:
      return { code: 'INVALID_ARGUMENT', advice: 'Identity Insights rejected the request body.' };
    case 401:
      return {
        code: 'CONFIGURATION',
        advice:
          'The application JWT was rejected; check VONAGE_APPLICATION_ID and that the private key belongs to that application.',
      };
    case 403:
      return {
        code: 'CONFIGURATION',
        advice:
          'The application may not use Identity Insights; enable it for the Vonage application (Vonage Dashboard) and, for SIM Swap, Roaming and Reachability, its Network Registry profile.',
      };
    case 404:
    case 405:
      return {
        code: 'CONFIGURATION',
        advice:
          'There is no Identity Insights endpoint at this URL; check VONAGE_API_BASE_URL and VONAGE_IDENTITY_INSIGHTS_PATH (default /identity-insights/v1/requests; Vonage’s API reference shows /v0.1/identity-insights).',
      };
  }
  return undefined;
}
