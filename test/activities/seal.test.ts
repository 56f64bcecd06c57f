import { createDecipheriv, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenSealer, type SealContext } from '../../activities/index.js';
import { SEAL_INFO, SEAL_SALT } from '../../activities/seal.js';
import { makeKeys, pemBodyLines, serializeFailure } from './helpers.js';

const keys = makeKeys();
const ctx: SealContext = { operation: 'sim-swap', msisdn: '+447700900005', correlationId: 'corr-seal' };
const TOKEN = 'access-token-éß-' + 'x'.repeat(500);

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('token sealing', () => {
  it('round-trips, with the v1.<iv>.<ciphertext+tag> format and a fresh IV each time', () => {
    const sealer = createTokenSealer(keys.privateKey);
    const a = sealer.sealToken(TOKEN, ctx);
    const b = sealer.sealToken(TOKEN, ctx);
    expect(a).not.toBe(b);
    const [version, iv, body] = a.split('.');
    expect(version).toBe('v1');
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(body!, 'base64url')).toHaveLength(Buffer.byteLength(TOKEN) + 16);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(a).not.toContain('access-token');
    expect(sealer.openToken(a, ctx)).toBe(TOKEN);
    expect(sealer.openToken(b, ctx)).toBe(TOKEN);
  });

  it('opens in another worker with the same application key (HKDF-SHA256 of the DER pkcs8 key)', () => {
    const sealed = createTokenSealer(keys.privateKey).sealToken(TOKEN, ctx);
    expect(createTokenSealer(keys.privateKey).openToken(sealed, ctx)).toBe(TOKEN);
    // The documented derivation, done by hand.
    const der = keys.privateKey.export({ type: 'pkcs8', format: 'der' });
    const key = Buffer.from(hkdfSync('sha256', der, SEAL_SALT, SEAL_INFO, 32));
    const [, iv, body] = sealed.split('.') as [string, string, string];
    const bytes = Buffer.from(body, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(`${ctx.operation}|${ctx.msisdn}|${ctx.correlationId}`));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    expect(
      Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString(),
    ).toBe(TOKEN);
  });

  it.each([
    ['operation', { operation: 'sim-swap-date' }],
    ['msisdn', { msisdn: '+447700900006' }],
    ['correlationId', { correlationId: 'corr-other' }],
  ] as [string, Partial<SealContext>][])('does not open for another %s (CONFIGURATION)', (_field, change) => {
    const sealer = createTokenSealer(keys.privateKey);
    const err = caught(() => sealer.openToken(sealer.sealToken(TOKEN, ctx), { ...ctx, ...change }));
    expect(err).toMatchObject({ type: 'CONFIGURATION', nonRetryable: true });
  });

  it('does not open with another key, and the failure says what to fix without secrets', () => {
    const sealed = createTokenSealer(keys.privateKey).sealToken(TOKEN, ctx);
    const err = caught(() => createTokenSealer(makeKeys().privateKey).openToken(sealed, ctx));
    expect(err).toMatchObject({ type: 'CONFIGURATION' });
    const text = serializeFailure(err);
    expect(text).toMatch(/same application id and key/);
    expect(text).not.toContain(TOKEN.slice(0, 20));
    for (const line of pemBodyLines(keys.privateKeyPem)) expect(text).not.toContain(line);
  });

  it.each([
    ['tampered ciphertext', (s: string) => s.slice(0, -2) + (s.endsWith('AA') ? 'BB' : 'AA')],
    ['tampered iv', (s: string) => s.replace(/^v1\.(.)/, (_m, c: string) => `v1.${c === 'A' ? 'B' : 'A'}`)],
    ['another version', (s: string) => s.replace(/^v1/, 'v2')],
    ['a plain token', () => 'eyJhbGciOiJIUzI1NiJ9.e30.sig'],
    ['a truncated value', (s: string) => s.split('.').slice(0, 2).join('.')],
    ['an empty string', () => ''],
  ])('rejects %s with CONFIGURATION', (_name, mutate) => {
    const sealer = createTokenSealer(keys.privateKey);
    const err = caught(() => sealer.openToken(mutate(sealer.sealToken(TOKEN, ctx)), ctx));
    expect(err).toMatchObject({ type: 'CONFIGURATION' });
  });
});
