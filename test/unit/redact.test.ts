/**
 * The one redaction function (domain/redact.ts): phone numbers in every separator form, tokens,
 * JWTs, auth_req_ids and private keys go; ordinary figures (timestamps, durations, ports, ids)
 * stay. `redactValue` does the same through objects and errors and drops task tokens.
 */
import { ApplicationFailure } from '@temporalio/common';
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NUMBER_MASK, redact, redactValue, SECRET_MASK } from '../../domain/redact.js';
import { numberVariants, sanitizeText } from '../../activities/errors.js';

const NUMBER = '+447700900001';
const DIGITS = NUMBER.slice(1);

/** True when 7 digits of the number, in order, survive anywhere (separators ignored). */
function leaksNumber(text: string, digits = DIGITS): boolean {
  const kept = text.replace(/[^0-9]/g, '');
  for (let i = 0; i + 7 <= digits.length; i++) if (kept.includes(digits.slice(i, i + 7))) return true;
  return false;
}

/** The spellings a provider, a user or a log may use for +447700900001. */
const SPELLINGS = [
  '+447700900001',
  '447700900001',
  '7700900001', // the last 10 digits
  '+44 7700 900001',
  '+44 7700 900 001',
  '44-7700-900-001',
  '+44-7700-900001',
  '+44.7700.900.001',
  '+44 (0) 7700 900001',
  '+44(0)7700900001',
  '(+44) 7700 900001',
  '0044 7700 900001',
  '07700 900001', // national
  '07700-900-001',
  '(07700) 900001',
  '%2B447700900001',
  '%2b447700900001',
  '%2B44%207700%20900001',
  'tel:%2B447700900001',
  'tel:+447700900001',
  '+ 44 7700 900001',
  '+44\u00a07700\u00a0900001', // no-break spaces
  '+44\u20117700\u2011900001', // non-breaking hyphens
  '+44\u200b7700\u200b900001', // zero-width spaces
  '＋４４７７００９０００１', // fullwidth
  '+44 - 7700 - 900001',
  '44/7700/900/001',
  '44_7700_900_001',
  '+44·7700·900001',
];

describe('phone numbers', () => {
  it.each(SPELLINGS)('%j is masked', (spelling) => {
    const out = redact(`the subscriber ${spelling} is unknown`);
    expect(out).toContain(NUMBER_MASK);
    expect(leaksNumber(out), out).toBe(false);
    expect(out).toMatch(/^the subscriber .*\[number\] is unknown$/);
  });

  it('masks numbers inside JSON, URLs, quotes and glued to letters', () => {
    for (const text of [
      '{"phoneNumber":"+44 7700 900001"}',
      'https://api.example/v1/+447700900001/status',
      'login_hint=tel%3A%2B447700900001&scope=x',
      'msisdn=447700900001;',
      'ID447700900001',
      'x44-7700-900-001y',
      "'07700 900001'",
      '<b>+44 7700 900001</b>',
    ]) {
      const out = redact(text);
      expect(leaksNumber(out), `${text} → ${out}`).toBe(false);
    }
  });

  it('masks several numbers in one text, and other countries', () => {
    const out = redact('a +1 (415) 555-0100, b +33 6 12 34 56 78, c +49 30 901820, d (415) 555-0100');
    expect(out).toBe(`a ${NUMBER_MASK}, b ${NUMBER_MASK}, c ${NUMBER_MASK}, d ${NUMBER_MASK}`);
  });

  it('keeps what is not a phone number: timestamps, durations, ports, addresses, ids, statuses', () => {
    for (const text of [
      'answered HTTP 503 after 1500 ms (attempt 3 of 10)',
      'retrying after 300000 ms',
      'at 2019-08-24',
      'started 2026-05-01T12:34:56.789Z, finished 2026-05-01 12:35:01+02:00',
      'connect ECONNREFUSED 127.0.0.1:7233',
      'listening on 10.0.12.255:9464',
      'netcheck 0.1.0 on Temporal SDK 1.24.0',
      'workflow netcheck-sim-swap-3f2a9c1e0b7d4a6f8e2130a1c4d5e6f7-0b7d4a6f-1234-4567-8901-123456789012',
      'run 00000000-0000-0000-0000-000000000000',
      'batch-3f2a9c1e0b7d4a6f8e21/12/sim-swap',
      'subject 12345678901234567890abcdef123456',
      'correlation 8a0c2f2e-1111-2222-3333-444455556666',
      '+44*******001 sim-swap: ok (1 authorization, 2 polls, 2.1 s)',
      'line 12: max_age must be a whole number of hours (got "1e3")',
      'at Object.<anonymous> (/work/main/activities/checks.ts:73:13)',
      'batch done: 12 records — 3 ok, 4 failed, 0 invalid',
      'interval 5 s, expires_in 120 s, 600 polls, port 65535',
      '[number] and [redacted] stay as they are',
    ]) {
      expect(redact(text), text).toBe(text);
    }
  });

  it('documents its edge: 7+ digits are a number, 6 are not; a date glued to a number is part of it', () => {
    expect(redact('1234567')).toBe(NUMBER_MASK);
    expect(redact('123456')).toBe('123456');
    expect(redact('12 34 56 7')).toBe(NUMBER_MASK);
    expect(redact('+44 2012-03-12')).toBe(NUMBER_MASK);
    expect(redact('expires_in 3600000 ms')).toBe(`expires_in ${NUMBER_MASK} ms`);
  });

  it('a known number goes in any spelling, also glued inside an identifier', () => {
    const known = { numbers: [NUMBER] };
    for (const text of [
      'deadbeefcafe447700900001',
      'No device for 0 7700-900 001',
      '44/7700/900/001',
      '4_4_7_7_0_0_9_0_0_0_0_1',
      'abc7700900001def',
    ]) {
      const out = redact(text, known);
      expect(leaksNumber(out), `${text} → ${out}`).toBe(false);
    }
    // Another number is masked by the generic rule, not mistaken for this one.
    expect(redact('447700900001 and 447700912345', known)).toBe(`${NUMBER_MASK} and ${NUMBER_MASK}`);
  });
});

describe('credentials', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
  const jwe = 'eyJhbGciOiJSU0EtT0FFUCJ9.ZW5jcnlwdGVkLWtleQ.aXY.Y2lwaGVydGV4dA.dGFn';
  const opaque = 'Q2lRMFpt1234abcdEFGHijklMNOPqrstUVWXyz0123456789';

  it.each([
    [`token ${jwt} expired`, `token ${SECRET_MASK} expired`],
    [`jwe ${jwe}.`, `jwe ${SECRET_MASK}.`],
    ['Authorization: Bearer abc.def-ghi~jkl', `Authorization: Bearer ${SECRET_MASK}`],
    ['authorization: basic dXNlcjpwYXNz==', `authorization: basic ${SECRET_MASK}`],
    [
      'auth_req_id=8a0c2f2e-1111-2222-3333-444455556666&grant_type=x',
      `auth_req_id=${SECRET_MASK}&grant_type=x`,
    ],
    ['{"auth_req_id":"abc-def","expires_in":120}', `{"auth_req_id":"${SECRET_MASK}","expires_in":120}`],
    [
      '{"access_token": "tok", "token_type": "Bearer"}',
      `{"access_token": "${SECRET_MASK}", "token_type": "Bearer"}`,
    ],
    ["authReqId: 'x-1'", `authReqId: '${SECRET_MASK}'`],
    ['refresh_token=r1&id_token=i2', `refresh_token=${SECRET_MASK}&id_token=${SECRET_MASK}`],
    ['client_assertion=abc', `client_assertion=${SECRET_MASK}`],
    ['sealedToken: v2.k1.aXY.Y3Q', `sealedToken: ${SECRET_MASK}`],
    ['taskToken=CiQ0ZmY3', `taskToken=${SECRET_MASK}`],
    [`the token ${opaque} expired`, `the token ${SECRET_MASK} expired`],
  ])('%j → %j', (text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  it('keeps the words: the auth_req_id is unknown, authorization_pending, token_type', () => {
    for (const text of [
      'The auth_req_id is unknown, revoked or already redeemed',
      'authorization_pending',
      'token_type bearer',
      'ActivityInboundCallsInterceptor',
    ]) {
      expect(redact(text)).toBe(text);
    }
  });

  it('redacts a private key block and the secrets it is given', () => {
    // A real key, made now: its PEM block (many lines of base64) goes whole.
    const pem = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
      .trim();
    expect(redact(`key: ${pem} end`)).toBe('key: [redacted private key] end');
    expect(
      redact('sent opaque-secret-1 twice: opaque-secret-1', { secrets: ['opaque-secret-1', 'short'] }),
    ).toBe(`sent ${SECRET_MASK} twice: ${SECRET_MASK}`);
  });
});

describe('redactValue', () => {
  it('redacts strings at any depth, drops task tokens, hides credential-named keys, keeps symbols', () => {
    const stamp = Symbol.for('log_timestamp');
    const value = redactValue({
      message: 'for +44 7700 900001',
      taskToken: 'CiQ0ZmY3LTEyMzQ=',
      base64TaskToken: 'CiQ0ZmY3',
      accessToken: 'opaque',
      authReqId: 'id-1',
      nested: { list: ['07700 900001', 3, true, null], when: new Date(0), bytes: new Uint8Array(5) },
      msisdnAsNumber: 447700900001,
      durationMs: 1234,
      [stamp]: 1n,
    }) as Record<string | symbol, unknown>;
    expect(value).toEqual({
      message: `for ${NUMBER_MASK}`,
      accessToken: SECRET_MASK,
      authReqId: SECRET_MASK,
      nested: { list: [NUMBER_MASK, 3, true, null], when: new Date(0), bytes: '[5 bytes]' },
      msisdnAsNumber: NUMBER_MASK,
      durationMs: 1234,
      [stamp]: 1n,
    });
    expect('taskToken' in value).toBe(false);
  });

  it('an error keeps its class; message, stack, cause and details are redacted', () => {
    const cause = new Error('upstream said 44-7700-900-001');
    const failure = ApplicationFailure.create({
      type: 'UNKNOWN_NUMBER',
      message: 'Vonage answered 404: "no subscriber +44 7700 900001, auth_req_id=abc123"',
      details: [{ echoed: '(0)7700 900001' }],
      cause,
    });
    const copy = redactValue({ error: failure }) as { error: ApplicationFailure };
    expect(copy.error).toBeInstanceOf(ApplicationFailure);
    expect(copy.error.type).toBe('UNKNOWN_NUMBER');
    expect(copy.error.message).toBe(
      `Vonage answered 404: "no subscriber ${NUMBER_MASK}, auth_req_id=${SECRET_MASK}"`,
    );
    const printed = inspect(copy, { depth: 10 });
    expect(leaksNumber(printed), printed).toBe(false);
    expect(printed).not.toContain('abc123');
    expect(printed).toContain('UNKNOWN_NUMBER');
    // The original is untouched.
    expect(failure.message).toContain('+44 7700 900001');
  });

  it('survives cycles and deep values', () => {
    const a: Record<string, unknown> = { n: '+447700900001' };
    a.self = a;
    const copy = redactValue(a) as Record<string, unknown>;
    expect(copy.n).toBe(NUMBER_MASK);
    expect(copy.self).toBe(copy);
    let deep: Record<string, unknown> = { n: '+447700900001' };
    for (let i = 0; i < 50; i++) deep = { deep };
    expect(leaksNumber(JSON.stringify(redactValue(deep)))).toBe(false);
  });
});

describe('provider text in failure messages (activities/errors.ts sanitizeText)', () => {
  it('flattens first, then masks the request’s number in any spelling and its known secrets', () => {
    const authReqId = '8a0c2f2e-1111-2222-3333-444455556666';
    const text = sanitizeText(
      `no subscriber +44\u00007700\u001b[31m900001 (44-7700-900-001, x447700900001y, 07700 900001);\n` +
        `auth_req_id ${authReqId}`,
      [authReqId, ...numberVariants(NUMBER)],
    );
    expect(leaksNumber(text), text).toBe(false);
    expect(text).not.toContain(authReqId);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u001f]/);
    expect(text).toBe(
      `no subscriber ${NUMBER_MASK} (${NUMBER_MASK}, x${NUMBER_MASK}y, ${NUMBER_MASK}); auth_req_id ${SECRET_MASK}`,
    );
  });
});
