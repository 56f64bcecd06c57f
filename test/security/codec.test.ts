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
import type { Client } from '@temporalio/client';
import { describe, expect, it, vi } from 'vitest';
import { ensureEncryptionMatches } from '../../codec/policy.js';
import { ConfigurationError } from '../../domain/errors.js';
import {
  codecEncryption,
  dataConverterFromEnv,
  encryptingDataConverter,
  EncryptionCodec,
  ENCRYPTED_ENCODING,
  encryptionIdentityToken,
  loadEncryption,
  loadKeyRing,
  METADATA_KEY_ID,
  newKeyEntry,
  parseEncryptionIdentity,
  parseKeyRing,
  PayloadDecryptionError,
  PLAINTEXT_METADATA_KEY,
  plaintextMarkOf,
  withEncryptionIdentity,
} from '../../codec/index.js';
import { payloadConverter as sandboxConverter } from '../../codec/payload-converter.js';
import { plaintextAllowedAt } from '../../codec/plaintext-mark.js';
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

describe('fail closed: the encryption settings', () => {
  const ring = () => newKeyEntry('k1');

  it('an empty or whitespace-only key variable is a configuration error that names it, not "no encryption"', () => {
    for (const name of ['NETCHECK_ENCRYPTION_KEYS', 'NETCHECK_ENCRYPTION_KEYS_FILE']) {
      for (const value of ['', '   ', '\n\t']) {
        const problems = problemsOf(() => loadKeyRing({ [name]: value }));
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(new RegExp(`^${name} is set but empty.*NETCHECK_ENCRYPTION=off`));
      }
    }
    // The client's DataConverter and the worker's configuration read the same rules.
    expect(() => dataConverterFromEnv({ NETCHECK_ENCRYPTION_KEYS: '' })).toThrow(ConfigError);
    // Unset is still the zero-config path.
    expect(loadEncryption({})).toEqual({ mode: 'unset' });
  });

  it('NETCHECK_ENCRYPTION=off says "deliberately unencrypted"; with keys it is an error; =on requires keys', () => {
    expect(loadEncryption({ NETCHECK_ENCRYPTION: 'off' })).toEqual({ mode: 'off' });
    expect(loadEncryption({ NETCHECK_ENCRYPTION: ' OFF ' })).toEqual({ mode: 'off' });
    expect(loadEncryption({ NETCHECK_ENCRYPTION: '' })).toEqual({ mode: 'unset' });
    const withKeys = problemsOf(() =>
      loadEncryption({ NETCHECK_ENCRYPTION: 'off', NETCHECK_ENCRYPTION_KEYS: ring() }),
    );
    expect(withKeys[0]).toMatch(
      /NETCHECK_ENCRYPTION=off says payloads stay in the clear, but NETCHECK_ENCRYPTION_KEYS is set/,
    );
    expect(withKeys.join('\n')).not.toMatch(/[A-Za-z0-9+/]{43}=/); // no key material quoted
    expect(problemsOf(() => loadEncryption({ NETCHECK_ENCRYPTION: 'on' }))[0]).toMatch(
      /NETCHECK_ENCRYPTION=on requires a key ring: set NETCHECK_ENCRYPTION_KEYS/,
    );
    expect(loadEncryption({ NETCHECK_ENCRYPTION: 'on', NETCHECK_ENCRYPTION_KEYS: ring() }).mode).toBe('keys');
    expect(problemsOf(() => loadEncryption({ NETCHECK_ENCRYPTION: 'none' }))[0]).toMatch(
      /NETCHECK_ENCRYPTION must be "off" .* or "on"/,
    );
    // A keyless client with NETCHECK_ENCRYPTION=off says so through its codec (the start guard reads it).
    const codec = dataConverterFromEnv({ NETCHECK_ENCRYPTION: 'off' }).payloadCodecs![0]!;
    expect(codecEncryption(codec)).toEqual({ mode: 'off' });
    expect(codecEncryption(dataConverterFromEnv({}).payloadCodecs![0]!)).toEqual({ mode: 'unset' });
    const keyed = dataConverterFromEnv({ NETCHECK_ENCRYPTION_KEYS: ring() }).payloadCodecs![0]!;
    expect(codecEncryption(keyed)).toEqual({ mode: 'keys', keyId: 'k1' });
  });

  it('NETCHECK_ALLOW_PLAINTEXT_UNTIL: an ISO date on the ring; anything else is an error; ignored without keys', () => {
    const settings = loadEncryption({
      NETCHECK_ENCRYPTION_KEYS: ring(),
      NETCHECK_ALLOW_PLAINTEXT_UNTIL: '2031-07-01T12:00:00Z',
    });
    expect(settings.ring?.allowPlaintextUntil?.toISOString()).toBe('2031-07-01T12:00:00.000Z');
    expect(
      loadKeyRing({
        NETCHECK_ENCRYPTION_KEYS: ring(),
        NETCHECK_ALLOW_PLAINTEXT_UNTIL: '2031-07-01',
      })?.allowPlaintextUntil?.toISOString(),
    ).toBe('2031-07-01T00:00:00.000Z');
    for (const bad of ['next week', '2031-13-45', '1e12', '2031-07-01T12:00']) {
      expect(
        problemsOf(() =>
          loadEncryption({ NETCHECK_ENCRYPTION_KEYS: ring(), NETCHECK_ALLOW_PLAINTEXT_UNTIL: bad }),
        )[0],
      ).toMatch(/NETCHECK_ALLOW_PLAINTEXT_UNTIL must be an ISO 8601 date/);
    }
    // A client without keys may share the workers' environment: the setting is theirs.
    expect(loadEncryption({ NETCHECK_ALLOW_PLAINTEXT_UNTIL: '2031-07-01' })).toEqual({ mode: 'unset' });
  });
});

describe('fail closed: the worker identity token', () => {
  const ring = parseKeyRing(`k2026:${key()},k1:${key()}`, 'TEST');

  it('says whether a worker encrypts and with which key id, never key material', () => {
    expect(encryptionIdentityToken(ring)).toBe('netcheck/enc=on:k2026');
    expect(encryptionIdentityToken(undefined)).toBe('netcheck/enc=off');
    const window = { ...ring, allowPlaintextUntil: new Date('2031-07-01T00:00:00Z') };
    expect(encryptionIdentityToken(window)).toBe(
      'netcheck/enc=on:k2026/clear-until:2031-07-01T00:00:00.000Z',
    );
    for (const material of ring.keys.values()) {
      expect(encryptionIdentityToken(window)).not.toContain(material.toString('base64'));
    }
  });

  it("keeps the host's identity, replaces an older token, and parses back", () => {
    expect(withEncryptionIdentity('4242@host-a', ring)).toBe('4242@host-a netcheck/enc=on:k2026');
    expect(withEncryptionIdentity('4242@host-a netcheck/enc=off', ring)).toBe(
      '4242@host-a netcheck/enc=on:k2026',
    );
    expect(withEncryptionIdentity('', undefined)).toBe('netcheck/enc=off');
    expect(withEncryptionIdentity('pod-7  (eu-west) netcheck/enc=on:old', undefined)).toBe(
      'pod-7  (eu-west) netcheck/enc=off',
    );
    expect(parseEncryptionIdentity('4242@host-a netcheck/enc=on:k2026')).toEqual({
      encrypts: true,
      keyId: 'k2026',
    });
    expect(parseEncryptionIdentity('netcheck/enc=off')).toEqual({ encrypts: false });
    expect(parseEncryptionIdentity('x netcheck/enc=on:k1/clear-until:2031-07-01T00:00:00.000Z y')).toEqual({
      encrypts: true,
      keyId: 'k1',
      clearUntil: '2031-07-01T00:00:00.000Z',
    });
    // A worker without netcheck's token (another SDK, an older netcheck) says nothing.
    for (const other of [
      '4242@host',
      '',
      null,
      undefined,
      'netcheck/enc=maybe',
      'netcheck/enc=on:',
      'netcheck/enc=on:b@d',
    ]) {
      expect(parseEncryptionIdentity(other)).toBeUndefined();
    }
  });
});

describe("fail closed: a worker's codec marks what arrived unencrypted; the sandbox converter carries the mark", () => {
  const ring = {
    ...parseKeyRing(`k7:${key()}`, 'TEST'),
    allowPlaintextUntil: new Date('2031-01-01T00:00:00Z'),
  };
  const input = { msisdn: NUMBER, operation: 'sim-swap' };

  it('an unencrypted input decodes to the same value, marked with the key id and the window', async () => {
    const worker = encryptingDataConverter(ring, { worker: true }).payloadCodecs![0]!;
    const [decoded] = await worker.decode([defaultPayloadConverter.toPayload(input)]);
    expect(Object.keys(decoded!.metadata!)).toContain(PLAINTEXT_METADATA_KEY);
    expect(text(decoded!.metadata![METADATA_ENCODING_KEY])).toBe('json/plain');
    const value = sandboxConverter.fromPayload<typeof input>(decoded!);
    // The same value for everyone else: JSON, keys, spreads and equality do not see the mark.
    expect(value).toEqual(input);
    expect(JSON.stringify(value)).toBe(JSON.stringify(input));
    expect({ ...value }).toEqual(input);
    expect(plaintextMarkOf({ ...value })).toBeUndefined();
    expect(plaintextMarkOf(value)).toEqual({ keyId: 'k7', allowUntil: '2031-01-01T00:00:00.000Z' });
    expect(plaintextAllowedAt(plaintextMarkOf(value)!, Date.parse('2030-12-31T23:59:59Z'))).toBe(true);
    expect(plaintextAllowedAt(plaintextMarkOf(value)!, Date.parse('2031-01-01T00:00:00Z'))).toBe(false);
    // Values that are not objects, and Temporal's own payloads, convert as before.
    const [none] = await worker.decode([defaultPayloadConverter.toPayload(undefined)]);
    expect(sandboxConverter.fromPayload(none!)).toBeUndefined();
    const [num] = await worker.decode([defaultPayloadConverter.toPayload(3)]);
    expect(sandboxConverter.fromPayload(num!)).toBe(3);
  });

  it('an encrypted input is not marked; neither is anything a client (or the codec server) decodes', async () => {
    const worker = encryptingDataConverter(ring, { worker: true }).payloadCodecs![0]!;
    const client = encryptingDataConverter(ring).payloadCodecs![0]!;
    const [encrypted] = await client.encode([defaultPayloadConverter.toPayload(input)]);
    const [decrypted] = await worker.decode([encrypted!]);
    expect(Object.keys(decrypted!.metadata!)).not.toContain(PLAINTEXT_METADATA_KEY);
    expect(plaintextMarkOf(sandboxConverter.fromPayload(decrypted!))).toBeUndefined();
    const [clear] = await client.decode([defaultPayloadConverter.toPayload(input)]);
    expect(plaintextMarkOf(sandboxConverter.fromPayload(clear!))).toBeUndefined();
  });
});

describe('a keyless client that may not look at the task queue', () => {
  /** A client without netcheck's codec whose DescribeTaskQueue fails with `code` under a wrapper, as gRPC errors come. */
  const clientFailingWith = (code: number) =>
    ({
      options: { namespace: 'default', loadedDataConverter: { payloadCodecs: [] } },
      workflowService: {
        describeTaskQueue: () =>
          Promise.reject(new Error('describe failed', { cause: Object.assign(new Error('grpc'), { code }) })),
      },
    }) as unknown as Client;

  it('is refused with what to set when Temporal says it may not (PERMISSION_DENIED)', async () => {
    vi.stubEnv('NETCHECK_ENCRYPTION', undefined);
    try {
      const refused = ensureEncryptionMatches(clientFailingWith(7), `q-${randomBytes(4).toString('hex')}`);
      await expect(refused).rejects.toThrow(ConfigurationError);
      await expect(refused).rejects.toThrow(
        /cannot tell whether the workers .* encrypt.*NETCHECK_ENCRYPTION_KEYS/s,
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('gets the error itself when Temporal is down (UNAVAILABLE), not a configuration error', async () => {
    vi.stubEnv('NETCHECK_ENCRYPTION', undefined);
    try {
      const failed = ensureEncryptionMatches(clientFailingWith(14), `q-${randomBytes(4).toString('hex')}`);
      await expect(failed).rejects.toThrow('describe failed');
      await expect(failed).rejects.not.toThrow(ConfigurationError);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
