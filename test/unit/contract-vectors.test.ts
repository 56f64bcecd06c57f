/**
 * The golden vectors of contract/v1/vectors.json, which the Go client's tests read too, hold for
 * netcheck's own TypeScript code: the subject hash, and the payload codec in both directions
 * (it opens the vectors' ciphertexts, and what it writes has the layout docs/contract.md gives).
 * The batch fingerprint vector is checked against startBatch in test/contract/go-client.test.ts.
 */
import { createDecipheriv } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { subjectOf } from '../../client/subject.js';
import { parseKeyRing } from '../../codec/keyring.js';
import { EncryptionCodec } from '../../codec/payload-codec.js';
import { vectors } from '../contract/schemas.js';

const v = vectors();
const Payload = proto.temporal.api.common.v1.Payload;
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

function encryptedPayload(c: (typeof v.codec.ciphertexts)[number]): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(c.metadata).map(([k, val]) => [k, utf8(val)])),
    data: new Uint8Array(Buffer.from(c.dataBase64, 'base64')),
  };
}

describe('subject vectors', () => {
  it.each(v.subject)('$msisdn under key "$key"', ({ key, msisdn, subject }) => {
    expect(subjectOf(msisdn, key)).toBe(subject);
    expect(subject).toMatch(/^[0-9a-f]{32}$/);
  });

  it('the key is the UTF-8 text as written: a non-ASCII key gives another subject', () => {
    const [a, , c] = v.subject;
    expect(a!.msisdn).toBe(c!.msisdn);
    expect(a!.subject).not.toBe(c!.subject);
    expect(subjectOf(c!.msisdn, Buffer.from(c!.key, 'utf8'))).toBe(c!.subject);
  });

  it('the workflow id vector follows the id rule', () => {
    const { api, operation, subject, requestId, workflowId } = v.workflowId;
    expect(workflowId).toBe(`netcheck-${api}-${operation}-${subject}-${requestId}`);
  });
});

describe('codec vectors', () => {
  const ring = parseKeyRing(v.codec.keyRing, 'vectors.json');
  const codec = new EncryptionCodec(ring);

  it('the plaintext is the protobuf encoding of the whole payload', () => {
    const decoded = Payload.decode(Buffer.from(v.codec.plaintextBase64, 'base64'));
    expect(text(decoded.metadata?.[METADATA_ENCODING_KEY])).toBe(v.codec.payload.metadata.encoding);
    expect(text(decoded.data)).toBe(v.codec.payload.data);
  });

  it.each(v.codec.ciphertexts)('netcheck opens the ciphertext of key $keyId', async (c) => {
    expect(ring.keys.has(c.keyId)).toBe(true);
    const [opened] = await codec.decode([encryptedPayload(c)]);
    expect(text(opened!.metadata?.[METADATA_ENCODING_KEY])).toBe('json/plain');
    expect(text(opened!.data)).toBe(v.codec.payload.data);
  });

  it('a ciphertext labelled with the other key id, or altered, does not open', async () => {
    const [first, second] = v.codec.ciphertexts;
    const relabelled = encryptedPayload({
      ...first!,
      metadata: { ...first!.metadata, 'encryption-key-id': second!.keyId },
    });
    await expect(codec.decode([relabelled])).rejects.toThrow(/does not decrypt/);
    const altered = encryptedPayload(first!);
    altered.data![20] = altered.data![20]! ^ 1;
    await expect(codec.decode([altered])).rejects.toThrow(/does not decrypt/);
  });

  it('what netcheck writes is IV ‖ ciphertext ‖ tag under the primary key, with the associated data of the contract', async () => {
    const plain = Payload.decode(Buffer.from(v.codec.plaintextBase64, 'base64'));
    const [sealed] = await codec.encode([plain]);
    const keyId = text(sealed!.metadata?.['encryption-key-id']);
    expect(keyId).toBe(ring.primary);
    expect(text(sealed!.metadata?.[METADATA_ENCODING_KEY])).toBe('binary/encrypted');
    expect(text(sealed!.metadata?.['encryption-cipher'])).toBe('AES-256-GCM');
    const data = Buffer.from(sealed!.data!);
    const decipher = createDecipheriv('aes-256-gcm', ring.keys.get(keyId)!, data.subarray(0, 12), {
      authTagLength: 16,
    });
    decipher.setAAD(Buffer.from(`netcheck-payload/v1|${keyId}`, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - 16));
    const opened = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
    expect(opened.toString('base64')).toBe(v.codec.plaintextBase64);
  });
});
