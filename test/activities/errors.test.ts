import { describe, expect, it } from 'vitest';
import {
  classifyHttpError,
  parseProviderError,
  parseRetryAfter,
  sanitizeText,
} from '../../activities/errors.js';

describe('parseProviderError', () => {
  it.each([
    [
      'RFC 7807',
      {
        type: 'https://developer.vonage.com/api-errors#invalid-param',
        title: 'Bad Request',
        detail: 'msisdn',
        instance: 'i',
      },
      { providerCode: 'invalid-param', description: 'msisdn' },
    ],
    [
      'RFC 7807, path type, title only',
      { type: 'https://example.com/errors/not-found', title: 'Not Found' },
      { providerCode: 'not-found', description: 'Not Found' },
    ],
    ['RFC 7807 about:blank', { type: 'about:blank', title: 'Oops' }, { description: 'Oops' }],
    [
      'CAMARA',
      { status: 404, code: 'NOT_FOUND', message: 'no such device' },
      { providerCode: 'NOT_FOUND', description: 'no such device' },
    ],
    [
      'CIBA',
      { error: 'slow_down', error_description: 'easy' },
      { providerCode: 'slow_down', description: 'easy' },
    ],
    ['CIBA without description', { error: 'invalid_grant' }, { providerCode: 'invalid_grant' }],
    ['text', '  Service\n Unavailable ', { description: 'Service Unavailable' }],
    ['empty', '', {}],
    ['array', [1], {}],
  ])('%s', (_name, body, expected) => {
    expect(parseProviderError(400, body)).toEqual({ status: 400, ...expected });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['0', 0],
    ['120', 120_000],
    [' 3 ', 3_000],
    ['-1', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['Thursday, 01-Jan-26 00:01:00 GMT', 60_000],
    ['Thu Jan  1 00:00:10 2026', 10_000],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('sanitizeText', () => {
  it('redacts JWT-shaped strings and given secrets, flattens and bounds the text', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2lnbmF0dXJl';
    expect(sanitizeText(`a ${jwt}\n b`)).toBe('a [redacted] b');
    expect(sanitizeText('token=opaque-secret-1 done', ['opaque-secret-1'])).toBe('token=[redacted] done');
    expect(sanitizeText('y'.repeat(1000))).toHaveLength(301);
  });
});

describe('classifyHttpError', () => {
  it('prefers 429/5xx over provider codes, and CIBA codes over the status for bc-authorize', () => {
    const endpoint = { kind: 'bc-authorize', path: '/oauth2/bc-authorize' } as const;
    const at = (status: number, body: unknown) =>
      classifyHttpError(endpoint, { status, headers: {}, body }).type;
    expect(at(503, { error: 'access_denied' })).toBe('UPSTREAM_UNAVAILABLE');
    expect(at(429, { error: 'invalid_request' })).toBe('RATE_LIMITED');
    expect(at(403, { error: 'access_denied' })).toBe('ACCESS_DENIED');
    expect(at(400, { error: 'unknown_user_id' })).toBe('UNKNOWN_NUMBER');
    expect(at(400, { error: 'something_new' })).toBe('INVALID_ARGUMENT');
  });
});
