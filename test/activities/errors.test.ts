import { describe, expect, it } from 'vitest';
import {
  classifyHttpError,
  parseProviderError,
  numberVariants,
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
    const json = typeof body === 'object' && !Array.isArray(body) ? { json: true } : {};
    expect(parseProviderError(400, body)).toEqual({ status: 400, ...json, ...expected });
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
    // A provider asking for years is asked again after 5 minutes, not obeyed.
    ['99999999', 300_000],
    ['301', 300_000],
    ['Fri, 01 Jan 2027 00:00:00 GMT', 300_000],
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

  it('redacts any number a provider echoes, in every form', () => {
    const text = sanitizeText(
      '{"phoneNumber":"+447700900123"} tel:%2B447700900123 447700900123 at 2019-08-24',
    );
    expect(text).not.toMatch(/7700900123/);
    expect(text).toContain('2019-08-24');
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

describe('classifyHttpError: what each answer means', () => {
  const authorize = { kind: 'bc-authorize', path: '/oauth2/bc-authorize' } as const;
  const token = { kind: 'token', path: '/oauth2/token' } as const;
  const camara = { kind: 'camara', path: '/camara/sim-swap/v040/check' } as const;
  type Ep = typeof authorize | typeof token | typeof camara;
  const classify = (endpoint: Ep, status: number, body: unknown, headers = {}) =>
    classifyHttpError(endpoint, { status, headers, body });

  const simSwapDate = { kind: 'camara', path: '/camara/sim-swap/v040/retrieve-date' } as const;
  const connectivity = { kind: 'camara', path: '/camara/device-status/v050/connectivity' } as const;
  const roaming = { kind: 'camara', path: '/camara/device-status/v050/roaming' } as const;
  const camaraAt = (endpoint: { kind: 'camara'; path: string }, status: number, body: unknown) =>
    classifyHttpError(endpoint, { status, headers: {}, body });
  const problem404 = { type: 'https://developer.vonage.com/api-errors#not-found', title: 'Not Found' };

  it.each([
    ['SIM Swap v0.4.0 /check', camara, 'SIM_SWAP.UNKNOWN_PHONE_NUMBER'],
    ['SIM Swap v0.4.0 /retrieve-date', simSwapDate, 'SIM_SWAP.UNKNOWN_PHONE_NUMBER'],
    ['Device Status v0.5.0 /connectivity', connectivity, 'NOT_FOUND'],
    ['Device Status v0.5.0 /roaming', roaming, 'NOT_FOUND'],
  ])(
    '%s: a 404 with the code its spec documents for an unknown subscriber (%s) is an unknown number',
    (_api, endpoint, code) => {
      const failure = camaraAt(endpoint, 404, { status: 404, code, message: 'x' });
      expect(failure.type).toBe('UNKNOWN_NUMBER');
      expect(failure.nonRetryable).toBe(true);
    },
  );

  it.each([
    ['CAMARA NOT_FOUND', { status: 404, code: 'NOT_FOUND', message: 'The specified resource is not found' }],
    ['IDENTIFIER_NOT_FOUND', { status: 404, code: 'IDENTIFIER_NOT_FOUND', message: 'x' }],
    ['problem+json', problem404],
    ['HTML', '<html><body>Not Found</body></html>'],
    ['empty', ''],
  ])(
    'on the retired SIM Swap routes a 404 with %s is CONFIGURATION: Vonage retired them on 2025-11-23, use identity-insights',
    (_name, body) => {
      for (const endpoint of [camara, simSwapDate]) {
        const failure = camaraAt(endpoint, 404, body);
        expect(failure.type).toBe('CONFIGURATION');
        expect(failure.nonRetryable).toBe(true);
        expect(failure.message).toContain(`POST ${endpoint.path}`);
        expect(failure.message).toMatch(/Vonage retired its standalone SIM Swap API .* on 2025-11-23/);
        expect(failure.message).toMatch(/--api identity-insights/);
      }
    },
  );

  it.each([
    ['SIM_SWAP.UNKNOWN_PHONE_NUMBER', { status: 404, code: 'SIM_SWAP.UNKNOWN_PHONE_NUMBER', message: 'x' }],
    ['IDENTIFIER_NOT_FOUND', { status: 404, code: 'IDENTIFIER_NOT_FOUND', message: 'x' }],
    ['another code', { status: 404, code: 'ROUTE_NOT_FOUND', message: 'no route' }],
    ['problem+json', problem404],
    ['HTML', '<html><body>Not Found</body></html>'],
    ['empty', ''],
  ])('a Device Status 404 with %s is a configuration error naming the path (not retired)', (_name, body) => {
    const failure = camaraAt(roaming, 404, body);
    expect(failure.type).toBe('CONFIGURATION');
    expect(failure.message).toContain('POST /camara/device-status/v050/roaming');
    expect(failure.message).toMatch(/VONAGE_API_BASE_URL/);
    expect(failure.message).not.toMatch(/retired/);
  });

  it('a 410 Gone is a configuration error too; on a SIM Swap route it says Vonage retired it', () => {
    expect(camaraAt(camara, 410, '').message).toMatch(/retired .* on 2025-11-23.*--api identity-insights/);
    const gone = camaraAt(roaming, 410, '');
    expect(gone.type).toBe('CONFIGURATION');
    expect(gone.message).toContain('POST /camara/device-status/v050/roaming');
  });

  it.each([
    ['problem+json', problem404],
    ['CIBA unknown_user_id', { error: 'unknown_user_id', error_description: 'no such user' }],
    ['CAMARA NOT_FOUND', { status: 404, code: 'NOT_FOUND', message: 'x' }],
    ['HTML', '<html>404</html>'],
    ['empty', ''],
  ])(
    'any 404 at bc-authorize or token (%s) is CONFIGURATION naming the path, never an unknown number',
    (_name, body) => {
      const atAuthorize = classify(authorize, 404, body);
      expect(atAuthorize.type).toBe('CONFIGURATION');
      expect(atAuthorize.message).toContain('POST /oauth2/bc-authorize');
      expect(atAuthorize.message).toMatch(/Network Registry profile/);
      const atToken = classify(token, 404, body);
      expect(atToken.type).toBe('CONFIGURATION');
      expect(atToken.message).toContain('POST /oauth2/token');
    },
  );

  it('unknown_user_id outside a 404 is still an unknown number', () => {
    expect(classify(authorize, 400, { error: 'unknown_user_id' }).type).toBe('UNKNOWN_NUMBER');
  });

  it('409 "another request is created for the same MSISDN" is CONFLICT, retried with backoff', () => {
    const failure = classify(camara, 409, {
      status: 409,
      code: 'CONFLICT',
      message: 'Another request is created for the same MSISDN',
    });
    expect(failure.type).toBe('CONFLICT');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/retrying with backoff/);
  });

  it('"No Network Application associated with Vonage Application" is a configuration error', () => {
    const body = {
      type: 'https://developer.vonage.com/api-errors#bad-request',
      title: 'Bad Request',
      detail: 'No Network Application associated with Vonage Application',
    };
    const failure = classify(authorize, 400, body);
    expect(failure.type).toBe('CONFIGURATION');
    expect(failure.message).toMatch(/Network Registry/);
  });

  it('a 403 allowlist block at bc-authorize is a final result for that number', () => {
    const body = {
      type: 'https://developer.vonage.com/api-errors#forbidden',
      title: 'Forbidden',
      detail:
        'The Network API application can only be used with verified phone numbers. Blocked by allowlist.',
    };
    const failure = classify(authorize, 403, body);
    expect(failure.type).toBe('NOT_ALLOWED');
    expect(failure.nonRetryable).toBe(true);
  });

  it('501 is final', () => {
    const failure = classify(camara, 501, { status: 501, code: 'NOT_IMPLEMENTED', message: 'no' });
    expect(failure.type).toBe('NOT_SUPPORTED');
    expect(failure.nonRetryable).toBe(true);
  });

  it.each([
    ['SERVICE_NOT_APPLICABLE', 'NOT_SUPPORTED', /not available for this number/],
    ['UNSUPPORTED_IDENTIFIER', 'INVALID_ARGUMENT', /does not accept a phone number/],
    ['MISSING_IDENTIFIER', 'INVALID_ARGUMENT', /wants the phone number/],
    ['UNNECESSARY_IDENTIFIER', 'INVALID_ARGUMENT', /already identifies the device/],
  ])('422 %s means %s', (code, expected, advice) => {
    const failure = classify(camara, 422, { status: 422, code, message: 'm' });
    expect(failure.type).toBe(expected);
    expect(failure.message).toMatch(advice);
    expect(failure.message).not.toMatch(/base URL/);
  });

  it('Retry-After is honoured up to 5 minutes', () => {
    const failure = classify(
      camara,
      429,
      { status: 429, code: 'TOO_MANY_REQUESTS', message: 'slow' },
      {
        'retry-after': '99999999',
      },
    );
    expect(failure.type).toBe('RATE_LIMITED');
    expect(failure.nextRetryDelay).toBe(300_000);
  });

  it('a number echoed in an error body stays out of the message', () => {
    const failure = classifyHttpError(
      camara,
      {
        status: 404,
        headers: {},
        body: { status: 404, code: 'NOT_FOUND', message: 'No device for +447700900123' },
      },
      numberVariants('+447700900123'),
    );
    expect(failure.message).not.toContain('7700900123');
  });
});
