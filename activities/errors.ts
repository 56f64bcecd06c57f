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
import { netcheckFailure, type ErrorCode } from '../domain/index.js';
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
/** Anything shaped like a compact JWS/JWT (`eyJ….….…`). */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * Makes provider text safe to put in a message: one line, bounded, no control characters,
 * JWT-shaped strings and the given secrets replaced by `[redacted]`.
 */
export function sanitizeText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  }
  out = out
    .replace(JWT_LIKE, '[redacted]')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
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
  const result: ProviderError = { status };
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
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  // Every HTTP-date form (IMF-fixdate, RFC 850, asctime) names the month; Date.parse alone
  // would also take "-1" or "1.5".
  if (!/\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
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

function classifyAuthorize(endpoint: Endpoint, err: ProviderError): ApplicationFailure {
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
      return fail(
        'CONFIGURATION',
        endpoint,
        err,
        'The application is not allowed to use this API; check its Network API capabilities.',
      );
    case 404:
      return fail('UNKNOWN_NUMBER', endpoint, err, 'The operator does not know this number.');
  }
  return unexpected(endpoint, err);
}

function classifyToken(endpoint: Endpoint, err: ProviderError): ApplicationFailure {
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
      return fail('UNKNOWN_NUMBER', endpoint, err, 'The operator does not know this number.');
    case 409:
      return fail('CONFLICT', endpoint, err, 'The provider reported a conflicting request for this number.');
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
