/**
 * The key ring and the payload codec, without a server: what the configuration accepts and
 * refuses (and what the messages say), that payloads round-trip and only ciphertext leaves the
 * codec, that rotation keeps old payloads readable, and that an unknown key id or an altered
 * payload is an error, never a pass-through.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { describe, expect, it } from 'vitest';
import {
  dataConverterFromEnv,
  EncryptionCodec,
  ENCRYPTED_ENCODING,
  loadKeyRing,
  METADATA_KEY_ID,
  newKeyEntry,
  parseKeyRing,
  PayloadDecryptionError,
} from '../../codec/index.js';
import { ConfigurationError as ConfigError } from '../../domain/errors.js';

const key = () => randomBytes(32).toString('base64');
const NUMBER = '+447700900123';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

describe('the key ring', () => {
  it('reads comma-separated <id>:<base64> entries, newest (first) encrypting', () => {
    const ring = parseKeyRing(`k2:${key()}, k1:${key()}`, 'NETCHECK_ENCRYPTION_KEYS');
    expect(ring.primary).toBe('k2');
    expect([...ring.keys.keys()]).toEqual(['k2', 'k1']);
    expect(ring.keys.get('k1')).toHaveLength(32);
  });

  it('reads a file named by NETCHECK_ENCRYPTION_KEYS_FILE (one entry per line is fine too)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-keys-'));
    const file = path.join(dir, 'keys');
    writeFileSync(file, `${newKeyEntry('new')}\n${newKeyEntry('old')}\n`, { mode: 0o600 });
    const ring = loadKeyRing({ NETCHECK_ENCRYPTION_KEYS_FILE: file });
    expect(ring?.primary).toBe('new');
    expect(ring?.keys.size).toBe(2);
    expect(loadKeyRing({})).toBeUndefined();
    expect(
      problemsOf(() => loadKeyRing({ NETCHECK_ENCRYPTION_KEYS_FILE: path.join(dir, 'none') }))[0],
    ).toMatch(/cannot be read: ENOENT/);
    expect(
      problemsOf(() =>
        loadKeyRing({ NETCHECK_ENCRYPTION_KEYS_FILE: file, NETCHECK_ENCRYPTION_KEYS: newKeyEntry('x') }),
      )[0],
    ).toMatch(/only one of/);
  });

  it('refuses every bad entry at once, says how to make a key, and never quotes key material', () => {
    const short = randomBytes(16).toString('base64');
    const problems = problemsOf(() =>
      parseKeyRing(`good:${key()},nocolon,bad id:${key()},short:${short},notb64:%%%%,good:${key()}`, 'ENV'),
    );
    const all = problems.join('\n');
    expect(all).toMatch(/entry 2 is not "<key-id>:<base64 key>"/);
    expect(all).toMatch(/entry 3: "bad id" is not a key id/);
    expect(all).toMatch(/entry 4 \(key "short"\): the key is 16 bytes; AES-256 needs exactly 32/);
    expect(all).toMatch(/entry 5 \(key "notb64"\): the key is not base64/);
    expect(all).toMatch(/entry 6: key id "good" appears twice/);
    expect(all).toMatch(/netcheck keygen.*openssl rand -base64 32/);
    expect(all).not.toContain(short);
    expect(problemsOf(() => parseKeyRing(' , ', 'ENV'))[0]).toMatch(/holds no key/);
  });

  it('newKeyEntry makes a valid entry with a fresh key each time', () => {
    const a = newKeyEntry('rot-1');
    expect(a).toMatch(/^rot-1:[A-Za-z0-9+/]{43}=$/);
    expect(parseKeyRing(a, 'x').keys.get('rot-1')).toHaveLength(32);
    expect(newKeyEntry('rot-1')).not.toBe(a);
    expect(newKeyEntry()).toMatch(/^k\d{8}:/);
  });
});

describe('the payload codec', () => {
  const ring = parseKeyRing(`k2:${key()},k1:${key()}`, 'TEST');
  const codec = new EncryptionCodec(ring);
  const plain: Payload = defaultPayloadConverter.toPayload({ msisdn: NUMBER, operation: 'sim-swap' });

  it('encrypts the whole payload: only the encoding, the key id and the cipher are in the clear', async () => {
    const [encrypted] = await codec.encode([plain]);
    expect(text(encrypted!.metadata![METADATA_ENCODING_KEY])).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted!.metadata![METADATA_KEY_ID])).toBe('k2');
    expect(Object.keys(encrypted!.metadata!).sort()).toEqual(
      ['encoding', 'encryption-cipher', 'encryption-key-id'].sort(),
    );
    const bytes = Buffer.from(encrypted!.data!);
    expect(bytes.toString('latin1')).not.toContain('447700900123');
    expect(bytes.toString('latin1')).not.toContain('json/plain');
    const [decoded] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ msisdn: NUMBER, operation: 'sim-swap' });
    // A fresh IV each time.
    const [again] = await codec.encode([plain]);
    expect(Buffer.from(again!.data!).equals(bytes)).toBe(false);
  });

  it('after a rotation, payloads of the old key still decode; the new key encrypts', async () => {
    const [old] = await new EncryptionCodec(
      parseKeyRing(`k1:${ring.keys.get('k1')!.toString('base64')}`, 'OLD'),
    ).encode([plain]);
    const [decoded] = await codec.decode([old!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toMatchObject({ msisdn: NUMBER });
  });

  it('an unknown key id is an error naming the id and the ring, never a pass-through', async () => {
    const other = new EncryptionCodec(parseKeyRing(`k9:${key()}`, 'OTHER'));
    const [foreign] = await other.encode([plain]);
    const err = await codec.decode([foreign!]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect((err as Error).message).toMatch(/encrypted with key "k9", which is not in .* \(TEST has k2, k1\)/);
  });

  it('an altered payload, a key id moved to another payload, or a wrong key under the same id: errors', async () => {
    const [encrypted] = await codec.encode([plain]);
    const flipped = Buffer.from(encrypted!.data!);
    flipped[20] = flipped[20]! ^ 1;
    const sameIdOtherKey = new EncryptionCodec(parseKeyRing(`k2:${key()}`, 'IMPOSTOR'));
    const relabelled = {
      ...encrypted!,
      metadata: { ...encrypted!.metadata, [METADATA_KEY_ID]: Buffer.from('k1') },
    };
    for (const [payload, c] of [
      [{ ...encrypted!, data: new Uint8Array(flipped) }, codec],
      [relabelled, codec],
      [encrypted!, sameIdOtherKey],
      [{ ...encrypted!, data: new Uint8Array(8) }, codec],
    ] as const) {
      await expect(c.decode([payload])).rejects.toThrow(PayloadDecryptionError);
    }
  });

  it('passes payloads that were never encrypted (histories from before encryption was on)', async () => {
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('without a key ring, payloads stay clear and an encrypted one is a clear error (not "Unknown encoding")', async () => {
    const keyless = loadDataConverter(dataConverterFromEnv({}));
    expect(
      keyless.failureConverter.errorToFailure(new Error('plain'), keyless.payloadConverter).message,
    ).toBe('plain');
    const [same] = await keyless.payloadCodecs[0]!.encode([plain]);
    expect(same).toBe(plain);
    const [encrypted] = await codec.encode([plain]);
    await expect(keyless.payloadCodecs[0]!.decode([encrypted!])).rejects.toThrow(
      /encrypted \(key "k2"\), but this process has no key ring: set NETCHECK_ENCRYPTION_KEYS/,
    );
  });

  it('dataConverterFromEnv: the codec and the encoding failure converter', async () => {
    const converter = dataConverterFromEnv({ NETCHECK_ENCRYPTION_KEYS: newKeyEntry('env') });
    const loaded = loadDataConverter(converter);
    const failure = loaded.failureConverter.errorToFailure(
      new Error(`no such subscriber ${NUMBER}`),
      loaded.payloadConverter,
    );
    expect(failure.message).toBe('Encoded failure');
    expect(JSON.stringify(failure)).not.toContain('447700900123');
    const [encoded] = await loaded.payloadCodecs[0]!.encode([failure.encodedAttributes!]);
    expect(text(encoded!.metadata![METADATA_KEY_ID])).toBe('env');
  });
});
