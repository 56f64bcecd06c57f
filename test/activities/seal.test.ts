import { createDecipheriv, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenSealer, type SealContext } from '../../activities/index.js';
import { SEAL_INFO, SEAL_KEY_ID_INFO, SEAL_SALT } from '../../activities/seal.js';
import { makeKeys, pemBodyLines, serializeFailure } from './helpers.js';

const keys = makeKeys();
const ctx: SealContext = {
  operation: 'sim-swap',
  msisdn: '+447700900005',
  correlationId: 'corr-seal',
  workflowId: 'wf-seal',
  runId: 'run-1',
};
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
  it('round-trips, with the v2.<key id>.<iv>.<ciphertext+tag> format and a fresh IV each time', () => {
    const sealer = createTokenSealer(keys.privateKey);
    const a = sealer.sealToken(TOKEN, ctx);
    const b = sealer.sealToken(TOKEN, ctx);
    expect(a).not.toBe(b);
    const [version, keyId, iv, body] = a.split('.');
    expect(version).toBe('v2');
    expect(keyId).toBe(sealer.keyId);
    expect(Buffer.from(keyId!, 'base64url')).toHaveLength(8);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(body!, 'base64url')).toHaveLength(Buffer.byteLength(TOKEN) + 16);
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
    const keyId = Buffer.from(hkdfSync('sha256', der, SEAL_SALT, SEAL_KEY_ID_INFO, 8)).toString('base64url');
    const [, id, iv, body] = sealed.split('.') as [string, string, string, string];
    expect(id).toBe(keyId);
    const bytes = Buffer.from(body, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(
      Buffer.from(
        `v2|${keyId}|${ctx.operation}|${ctx.msisdn}|${ctx.correlationId}|${ctx.workflowId}|${ctx.runId}`,
      ),
    );
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    expect(
      Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString(),
    ).toBe(TOKEN);
  });

  it.each([
    ['operation', { operation: 'sim-swap-date' }],
    ['msisdn', { msisdn: '+447700900006' }],
    ['correlationId', { correlationId: 'corr-other' }],
    ['workflow', { workflowId: 'wf-other' }],
    ['run (a reset)', { runId: 'run-2' }],
  ] as [string, Partial<SealContext>][])(
    'does not open for another %s: UNAUTHENTICATED, so the workflow authorizes again',
    (_field, change) => {
      const sealer = createTokenSealer(keys.privateKey);
      const err = caught(() => sealer.openToken(sealer.sealToken(TOKEN, ctx), { ...ctx, ...change }));
      expect(err).toMatchObject({ type: 'UNAUTHENTICATED', nonRetryable: true });
      expect((err as Error).message).toMatch(/issued to another check or workflow run/);
    },
  );

  it('a token sealed with another (rotated) key is UNAUTHENTICATED naming both key ids, without secrets', () => {
    const old = createTokenSealer(keys.privateKey);
    const rotated = createTokenSealer(makeKeys().privateKey);
    expect(rotated.keyId).not.toBe(old.keyId);
    const err = caught(() => rotated.openToken(old.sealToken(TOKEN, ctx), ctx));
    expect(err).toMatchObject({ type: 'UNAUTHENTICATED', nonRetryable: true });
    const text = serializeFailure(err);
    expect(text).toContain(`sealed with key ${old.keyId}, this worker's key is ${rotated.keyId}`);
    expect(text).toMatch(/same Vonage application id and private key/);
    expect(text).not.toContain(TOKEN.slice(0, 20));
    for (const line of pemBodyLines(keys.privateKeyPem)) expect(text).not.toContain(line);
  });

  it.each([
    ['tampered ciphertext', (s: string) => s.slice(0, -2) + (s.endsWith('AA') ? 'BB' : 'AA')],
    [
      'tampered iv',
      (s: string) =>
        s.replace(/^(v2\.[^.]+\.)(.)/, (_m, p: string, c: string) => `${p}${c === 'A' ? 'B' : 'A'}`),
    ],
    ['the v1 format (sealed before the upgrade)', (s: string) => s.replace(/^v2\.[^.]+/, 'v1')],
    ['another version', (s: string) => s.replace(/^v2/, 'v3')],
    ['a plain token', () => 'eyJhbGciOiJIUzI1NiJ9.e30.sig'],
    ['a truncated value', (s: string) => s.split('.').slice(0, 3).join('.')],
    ['an empty string', () => ''],
  ])('rejects %s with UNAUTHENTICATED', (_name, mutate) => {
    const sealer = createTokenSealer(keys.privateKey);
    const err = caught(() => sealer.openToken(mutate(sealer.sealToken(TOKEN, ctx)), ctx));
    expect(err).toMatchObject({ type: 'UNAUTHENTICATED' });
  });

  it('outside an activity the run is unbound (empty ids), and explicit ids must then match', () => {
    const sealer = createTokenSealer(keys.privateKey);
    const unbound = { operation: ctx.operation, msisdn: ctx.msisdn, correlationId: ctx.correlationId };
    expect(sealer.openToken(sealer.sealToken(TOKEN, unbound), unbound)).toBe(TOKEN);
    expect(caught(() => sealer.openToken(sealer.sealToken(TOKEN, unbound), ctx))).toMatchObject({
      type: 'UNAUTHENTICATED',
    });
  });
});
