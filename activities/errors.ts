/**
 * The one place where an HTTP outcome from Vonage becomes a netcheck error code.
 *
 * Three error body shapes reach us: RFC 7807 problem details (`{type,title,detail,instance}`),
 * CAMARA (`{status,code,message}`) and OpenID CIBA / OAuth (`{error,error_description}`), plus
 * bodies that are not JSON at all. `parseProviderError` folds them into one `ProviderError`;
 * `classifyHttpError` maps it to a code. Whether a code is retried is decided in domain/errors.ts
 * only. Messages and details never carry a credential: provider text is sanitized and any
 * JWT-shaped string or known secret in it is redacted.
 */
import type { ApplicationFailure } from '@temporalio/common';
import { CAMARA_APIS, camaraApiAt, netcheckFailure, redact, type ErrorCode } from '../domain/index.js';
import { CAMARA_PROFILE_NOT_FOUND_CODE, camaraProfileOperationAt } from '../domain/profiles.js';
import { identityInsightsHttpVerdict } from './insights-errors.js';

/** Which Vonage endpoint answered; the mapping differs per endpoint. */
export type EndpointKind = 'bc-authorize' | 'token' | 'camara' | 'identity-insights';

export interface Endpoint {
  kind: EndpointKind;
  /** The request path, e.g. `/oauth2/bc-authorize` (for messages and details). */
  path: string;
}

export interface ProviderError {
  status: number;
  /** The body was a JSON object (an API error), not HTML, text or empty. */
  json?: boolean;
  /** `error` (CIBA), `code` (CAMARA) or the fragment/last segment of `type` (RFC 7807). */
  providerCode?: string;
  /** `error_description`, `message`, `detail`/`title`, or the start of a non-JSON body. */
  description?: string;
}

/** The parts of an HTTP answer the classifier looks at. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

const MAX_DESCRIPTION = 300;
/** A secret that is a spelling of the number (numberVariants): redacted as a number, in any spelling. */
const NUMBER_SECRET = /^(?:\+|%2B)?\d{7,15}$/i;
/** Longest `Retry-After` netcheck honours: a provider asking for more is asked again after this. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * The forms of a number a provider may echo in an error text (E.164, digits only,
 * percent-encoded `tel:` URI): pass them as secrets so messages never carry the number.
 */
export function numberVariants(msisdn: string): string[] {
  const digits = msisdn.replace(/^\+/, '');
  return [msisdn, encodeURIComponent(msisdn), digits, digits.slice(-10)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * Makes provider text safe to put in a message: one line, bounded, no control characters, then
 * netcheck's redaction (domain/redact.ts): the given secrets, the number in any spelling (its
 * variants among the secrets), any other phone number, JWT, bearer token or auth_req_id.
 */
export function sanitizeText(text: string, secrets: readonly string[] = []): string {
  const flat = text
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const out = redact(flat, {
    secrets: secrets.filter((s) => !NUMBER_SECRET.test(s)),
    numbers: secrets.filter((s) => NUMBER_SECRET.test(s)),
  });
  return out.length > MAX_DESCRIPTION ? `${out.slice(0, MAX_DESCRIPTION)}…` : out;
}

/** `https://developer.vonage.com/api-errors#invalid-param` → `invalid-param`; `about:blank` → undefined. */
function problemTypeCode(type: unknown): string | undefined {
  const value = nonEmptyString(type);
  if (!value || value === 'about:blank') return undefined;
  const hash = value.lastIndexOf('#');
  if (hash >= 0) return nonEmptyString(value.slice(hash + 1));
  const segment = value.replace(/\/+$/, '').split('/').pop();
  return nonEmptyString(segment);
}

/** Folds any error body into `{status, providerCode?, description?}` (sanitized). */
export function parseProviderError(
  status: number,
  body: unknown,
  secrets: readonly string[] = [],
): ProviderError {
  let providerCode: string | undefined;
  let description: string | undefined;
  if (isRecord(body)) {
    if (nonEmptyString(body.error)) {
      providerCode = nonEmptyString(body.error);
      description = nonEmptyString(body.error_description);
    } else if (nonEmptyString(body.code)) {
      providerCode = nonEmptyString(body.code);
      description = nonEmptyString(body.message);
    } else {
      providerCode = problemTypeCode(body.type);
      description = nonEmptyString(body.detail) ?? nonEmptyString(body.title);
    }
  } else if (typeof body === 'string') {
    description = nonEmptyString(body);
  }
  const result: ProviderError = { status, ...(isRecord(body) ? { json: true } : {}) };
  if (providerCode !== undefined) result.providerCode = sanitizeText(providerCode, secrets).slice(0, 100);
  if (description !== undefined) result.description = sanitizeText(description, secrets);
  return result;
}

function headerValue(headers: HttpAnswer['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `Retry-After` as milliseconds from now: delta-seconds or an HTTP-date (a date in the past
 * gives 0). Absent or unparseable → undefined, so Temporal's retry backoff applies.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed) * 1000;
    return Number.isFinite(ms) ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
  }
  // Every HTTP-date form (IMF-fixdate, RFC 850, asctime) names the month; Date.parse alone
  // would also take "-1" or "1.5".
  if (!/\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}

const ENDPOINT_NAMES: Record<EndpointKind, string> = {
  'bc-authorize': 'Vonage bc-authorize',
  token: 'Vonage token endpoint',
  camara: 'Vonage',
  'identity-insights': 'Vonage Identity Insights',
};

function describeAnswer(endpoint: Endpoint, err: ProviderError): string {
  const code = err.providerCode ? ` ${err.providerCode}` : '';
  const text = err.description ? `: "${err.description}"` : '';
  return `${ENDPOINT_NAMES[endpoint.kind]} (POST ${endpoint.path}) answered HTTP ${err.status}${code}${text}`;
}

function fail(
  code: ErrorCode,
  endpoint: Endpoint,
  err: ProviderError,
  advice: string,
  retryAfterMs?: number,
): ApplicationFailure {
  return netcheckFailure(code, `${describeAnswer(endpoint, err)}. ${advice}`, {
    retryAfterMs,
    details: {
      endpoint: endpoint.path,
      httpStatus: err.status,
      providerCode: err.providerCode,
      retryAfterMs,
    },
  });
}

/** Outcomes every endpoint shares: 429 and 5xx. */
function classifyCommon(
  endpoint: Endpoint,
  err: ProviderError,
  answer: HttpAnswer,
): ApplicationFailure | undefined {
  const retryAfterMs = parseRetryAfter(headerValue(answer.headers, 'retry-after'));
  if (err.status === 429) {
    if (err.providerCode?.toUpperCase() === 'QUOTA_EXCEEDED') {
      return fail('QUOTA_EXCEEDED', endpoint, err, 'The business quota is used up; retrying will not help.');
    }
    return fail(
      'RATE_LIMITED',
      endpoint,
      err,
      retryAfterMs === undefined
        ? 'Too many requests; retrying with backoff.'
        : `Too many requests; retrying after ${retryAfterMs} ms (Retry-After).`,
      retryAfterMs,
    );
  }
  if (err.status === 501) {
    return fail(
      'NOT_SUPPORTED',
      endpoint,
      err,
      'The provider does not implement this for this number or operator; retrying will not help.',
    );
  }
  if (err.status === 400 && /no network application/i.test(err.description ?? '')) {
    return fail(
      'CONFIGURATION',
      endpoint,
      err,
      'The Vonage application has no Network Application profile: link it to a Network Registry application profile (Dashboard → Network Registry) or use an application that has one.',
    );
  }
  if (err.status >= 500 && err.status <= 599) {
    return fail(
      'UPSTREAM_UNAVAILABLE',
      endpoint,
      err,
      retryAfterMs === undefined
        ? 'The provider failed; retrying with backoff.'
        : `The provider failed; retrying after ${retryAfterMs} ms (Retry-After).`,
      retryAfterMs,
    );
  }
  return undefined;
}

function unexpected(endpoint: Endpoint, err: ProviderError): ApplicationFailure {
  return fail(
    'PROTOCOL_ERROR',
    endpoint,
    err,
    'This status is not part of the API; check that the base URL points at the Vonage API.',
  );
}

/**
 * A 404 at bc-authorize or token is never about the number, whatever its body: the request
 * reached no authorization endpoint for this application (a wrong base URL, or, as Vonage's
 * Node SDK notes for bc-authorize, a misconfigured network application).
 */
function oauthNotFound(endpoint: Endpoint, err: ProviderError): ApplicationFailure {
  return fail(
    'CONFIGURATION',
    endpoint,
    err,
    endpoint.kind === 'bc-authorize'
      ? `A 404 here is not an answer about the number: nothing serves POST ${endpoint.path} for this application. Check VONAGE_API_BASE_URL, and that the Vonage application has a Network Registry profile (Playground or Production) with this API enabled.`
      : `Nothing answers POST ${endpoint.path} at the configured base URL; check VONAGE_API_BASE_URL.`,
  );
}

function classifyAuthorize(endpoint: Endpoint, err: ProviderError): ApplicationFailure {
  if (err.status === 404) return oauthNotFound(endpoint, err);
  const code = err.providerCode?.toLowerCase();
  switch (code) {
    case 'access_denied':
      return fail('ACCESS_DENIED', endpoint, err, 'The operator or subscriber refused the authorization.');
    case 'unknown_user_id':
      return fail('UNKNOWN_NUMBER', endpoint, err, 'The operator does not know this number.');
    case 'invalid_scope':
      return fail(
        'CONFIGURATION',
        endpoint,
        err,
        'The scope is not allowed for this application; enable the Network API (and purpose) for the Vonage application.',
      );
    case 'invalid_client':
    case 'unauthorized_client':
      return fail(
        'CONFIGURATION',
        endpoint,
        err,
        'The application JWT or the application itself was rejected; check the application id and private key.',
      );
  }
  switch (err.status) {
    case 400:
      return fail('INVALID_ARGUMENT', endpoint, err, 'The provider rejected the authorization request.');
    case 401:
      return fail(
        'CONFIGURATION',
        endpoint,
        err,
        'The application JWT was rejected; check the application id and that the private key belongs to it.',
      );
    case 403:
      // Vonage answers 403 for a number the application may not check (the Playground's allowlist,
      // an operator's refusal): final for this number, not a fault of the worker's configuration.
      return fail(
        'NOT_ALLOWED',
        endpoint,
        err,
        'Vonage refused to authorize this number for the application; in the Playground add it to the allowlist, in production check the Network Registry approval for its operator.',
      );
  }
  return unexpected(endpoint, err);
}

/**
 * A CAMARA 404 means "unknown number" only with the code that API's own OpenAPI file documents
 * for an unknown subscriber (CAMARA_APIS: SIM Swap v0.4.0 `SIM_SWAP.UNKNOWN_PHONE_NUMBER`,
 * Device Status v0.5.0 `NOT_FOUND`). Any other 404 (HTML, empty, RFC 7807, another code such as
 * CAMARA `NOT_FOUND` on SIM Swap) says the request reached no such API: a configuration error
 * naming the path, never negative data about the number.
 */
function camaraNotFound(endpoint: Endpoint, err: ProviderError): ApplicationFailure {
  // Profile `camara` (SIM Swap 2.1.0, Device Reachability/Roaming Status 1.1.0): IDENTIFIER_NOT_FOUND.
  if (camaraProfileOperationAt(endpoint.path) !== undefined) {
    if (err.providerCode?.toUpperCase() === CAMARA_PROFILE_NOT_FOUND_CODE) {
      return fail('UNKNOWN_NUMBER', endpoint, err, 'The operator does not know this number.');
    }
    return fail(
      'CONFIGURATION',
      endpoint,
      err,
      `Nothing serves POST ${endpoint.path} under the configured apiRoot (a 404 without IDENTIFIER_NOT_FOUND); check NETCHECK_API_ROOT and that the operator offers this API to your client.`,
    );
  }
  const at = camaraApiAt(endpoint.path);
  if (at && err.providerCode?.toUpperCase() === CAMARA_APIS[at.api].unknownNumberCode) {
    return fail('UNKNOWN_NUMBER', endpoint, err, 'The operator does not know this number.');
  }
  return camaraNotServed(endpoint, err, 'a 404 without the code the API documents for an unknown number');
}

/**
 * No API at this path (404 without the documented code, 410): on Vonage's retired SIM Swap
 * routes the message says so and names the road that serves SIM swap today.
 */
function camaraNotServed(endpoint: Endpoint, err: ProviderError, what: string): ApplicationFailure {
  const at = camaraApiAt(endpoint.path);
  const retiredOn = at ? CAMARA_APIS[at.api].retiredOn : undefined;
  if (retiredOn !== undefined) {
    return fail(
      'CONFIGURATION',
      endpoint,
      err,
      `Vonage retired its standalone SIM Swap API (CAMARA ${CAMARA_APIS['sim-swap'].version} over CIBA) on ${retiredOn}; SIM swap on Vonage now goes through Identity Insights: run the check with --api identity-insights (NETCHECK_API=identity-insights, or api: 'identity-insights' in the library).`,
    );
  }
  return fail(
    'CONFIGURATION',
    endpoint,
    err,
    `Nothing serves POST ${endpoint.path} at the configured base URL (${what}); check VONAGE_API_BASE_URL and that this API is enabled for the application.`,
  );
}

/** CAMARA 422 codes (device identifiers and applicability), by meaning. */
function classifyUnprocessable(endpoint: Endpoint, err: ProviderError): ApplicationFailure {
  switch (err.providerCode?.toUpperCase()) {
    case 'SERVICE_NOT_APPLICABLE':
      return fail(
        'NOT_SUPPORTED',
        endpoint,
        err,
        'The service is not available for this number (its line or operator does not support it).',
      );
    case 'UNSUPPORTED_IDENTIFIER':
      return fail(
        'INVALID_ARGUMENT',
        endpoint,
        err,
        'The operator does not accept a phone number as the device identifier for this API.',
      );
    case 'MISSING_IDENTIFIER':
      return fail(
        'INVALID_ARGUMENT',
        endpoint,
        err,
        'The provider could not tell which device is meant: it wants the phone number in the request.',
      );
    case 'UNNECESSARY_IDENTIFIER':
      return fail(
        'INVALID_ARGUMENT',
        endpoint,
        err,
        'The access token already identifies the device and the provider refuses a second identifier.',
      );
  }
  return unexpected(endpoint, err);
}

function classifyToken(endpoint: Endpoint, err: ProviderError): ApplicationFailure {
  if (err.status === 404) return oauthNotFound(endpoint, err);
  const code = err.providerCode?.toLowerCase();
  switch (code) {
    case 'access_denied':
      return fail('ACCESS_DENIED', endpoint, err, 'The operator or subscriber refused the authorization.');
    case 'invalid_grant':
      return fail(
        'INVALID_GRANT',
        endpoint,
        err,
        'The auth_req_id is unknown, revoked or already redeemed; a new authorization is needed.',
      );
    case 'invalid_client':
    case 'unauthorized_client':
    case 'unsupported_grant_type':
    case 'invalid_scope':
      return fail(
        'CONFIGURATION',
        endpoint,
        err,
        'The application was rejected by the token endpoint; check the application id, private key and its CIBA capability.',
      );
  }
  switch (err.status) {
    case 400:
      return fail('INVALID_ARGUMENT', endpoint, err, 'The provider rejected the token request.');
    case 401:
    case 403:
      return fail(
        'CONFIGURATION',
        endpoint,
        err,
        'The application JWT was rejected; check the application id and that the private key belongs to it.',
      );
  }
  return unexpected(endpoint, err);
}

function classifyCamara(endpoint: Endpoint, err: ProviderError): ApplicationFailure {
  switch (err.status) {
    case 400:
      // SIM Swap 2.1.0: maxAge beyond what the operator may look back (local regulation).
      if (err.providerCode?.toUpperCase() === 'OUT_OF_RANGE') {
        return fail(
          'INVALID_ARGUMENT',
          endpoint,
          err,
          "The operator cannot look back that far (OUT_OF_RANGE): use a smaller --max-age, within the operator's monitored period.",
        );
      }
      return fail('INVALID_ARGUMENT', endpoint, err, 'The provider rejected the request body.');
    case 401:
      return fail(
        'UNAUTHENTICATED',
        endpoint,
        err,
        'The access token was rejected (missing, invalid or expired); a fresh authorization is needed.',
      );
    case 403:
      return fail('PERMISSION_DENIED', endpoint, err, 'The access token does not allow this check.');
    case 404:
      return camaraNotFound(endpoint, err);
    case 410:
      return camaraNotServed(endpoint, err, '410 Gone');
    case 422:
      return classifyUnprocessable(endpoint, err);
    case 409:
      // SIM Swap v0.4.0: "Another request is created for the same MSISDN": retried with backoff.
      return fail(
        'CONFLICT',
        endpoint,
        err,
        'Another request for this number was in progress at the provider; retrying with backoff.',
      );
  }
  return unexpected(endpoint, err);
}

/**
 * Maps a non-success HTTP answer to the failure to throw. For the token endpoint, the CIBA
 * waiting states (`authorization_pending`, `slow_down`, `expired_token`) are values, not
 * errors: check them with `parseProviderError` before calling this.
 */
export function classifyHttpError(
  endpoint: Endpoint,
  answer: HttpAnswer,
  secrets: readonly string[] = [],
): ApplicationFailure {
  const err = parseProviderError(answer.status, answer.body, secrets);
  const common = classifyCommon(endpoint, err, answer);
  if (common) return common;
  switch (endpoint.kind) {
    case 'bc-authorize':
      return classifyAuthorize(endpoint, err);
    case 'token':
      return classifyToken(endpoint, err);
    case 'camara':
      return classifyCamara(endpoint, err);
    case 'identity-insights': {
      const verdict = identityInsightsHttpVerdict(err.status);
      return verdict ? fail(verdict.code, endpoint, err, verdict.advice) : unexpected(endpoint, err);
    }
  }
}

/** A 2xx answer whose body is not what the API defines. `problem` must not quote secrets. */
export function protocolError(endpoint: Endpoint, status: number, problem: string): ApplicationFailure {
  return netcheckFailure(
    'PROTOCOL_ERROR',
    `${ENDPOINT_NAMES[endpoint.kind]} (POST ${endpoint.path}) answered HTTP ${status} with an unexpected body: ${problem}`,
    { details: { endpoint: endpoint.path, httpStatus: status } },
  );
}
