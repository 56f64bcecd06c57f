/**
 * The payload codec: AES-256-GCM over each whole Payload (its metadata and data, protobuf-encoded),
 * so the Temporal service stores only ciphertext plus two clear metadata fields: the encoding
 * `binary/encrypted` and the id of the key.
 *
 * - Encrypted bytes: 12-byte random IV ‖ ciphertext ‖ 16-byte GCM tag.
 * - Associated data: `netcheck-payload/v1|<key id>`, so a payload does not open under another
 *   key that happens to carry the same id, and the key id cannot be swapped unnoticed.
 * - Decoding: a payload that is not `binary/encrypted` passes unchanged (histories written
 *   before encryption was switched on, and Temporal's own payloads); an encrypted one whose key
 *   id is not in the ring, or that does not authenticate, is an error — never passed through.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
// @temporalio/proto is CommonJS without named exports for Node's ESM loader.
import proto from '@temporalio/proto';
import { keyIds, type KeyRing } from './keyring.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_CIPHER = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const ProtoPayload = proto.temporal.api.common.v1.Payload;
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);
const aad = (keyId: string) => Buffer.from(`netcheck-payload/v1|${keyId}`, 'utf8');

/** A payload that could not be decrypted: the message names the key id and what to do. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

/** Whether a payload is one this codec (or another netcheck process) encrypted. */
export function isEncryptedPayload(payload: Payload): boolean {
  return text(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;
}

/** The codec's work is synchronous (node:crypto); its interface is a promise. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  /** The id of the key that encrypts. */
  get keyId(): string {
    return this.ring.primary;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return settle(() => payloads.map((p) => this.encrypt(p)));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return settle(() => payloads.map((p) => this.decrypt(p)));
  }

  encrypt(payload: Payload): Payload {
    const keyId = this.ring.primary;
    const key = this.ring.keys.get(keyId);
    if (!key) throw new PayloadDecryptionError(`The key ring has no key "${keyId}" to encrypt with.`);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(aad(keyId));
    const plain = ProtoPayload.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING),
        [METADATA_KEY_ID]: utf8(keyId),
        [METADATA_CIPHER]: utf8(CIPHER),
      },
      data: new Uint8Array(data),
    };
  }

  decrypt(payload: Payload): Payload {
    if (!isEncryptedPayload(payload)) return payload;
    const keyId = text(payload.metadata?.[METADATA_KEY_ID]);
    if (!keyId) {
      throw new PayloadDecryptionError(
        `An encrypted payload carries no "${METADATA_KEY_ID}": it was not written by netcheck's codec.`,
      );
    }
    const key = this.ring.keys.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        `A payload is encrypted with key "${keyId}", which is not in this process's key ring ` +
          `(${this.ring.source} has ${keyIds(this.ring).join(', ')}). Add that key to the ring ` +
          '(keep old keys after a rotation for as long as histories that use them are retained).',
      );
    }
    const cipher = payload.metadata?.[METADATA_CIPHER];
    if (cipher && text(cipher) !== CIPHER) {
      throw new PayloadDecryptionError(
        `A payload uses cipher "${text(cipher)}"; netcheck knows only ${CIPHER}.`,
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(`An encrypted payload (key "${keyId}") is truncated.`);
    }
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(aad(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(
        `A payload encrypted with key "${keyId}" does not decrypt: the key under that id in ` +
          `${this.ring.source} is not the one that encrypted it, or the payload was altered.`,
      );
    }
    return ProtoPayload.decode(plain);
  }
}

/**
 * The codec of a process without a key ring: payloads go out as they are, and an encrypted one
 * coming in is an error that says what is missing (instead of Temporal's "Unknown encoding").
 */
export class KeylessCodec implements PayloadCodec {
  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(payloads);
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return settle(() =>
      payloads.map((p) => {
        if (!isEncryptedPayload(p)) return p;
        const keyId = text(p.metadata?.[METADATA_KEY_ID]) ?? '?';
        throw new PayloadDecryptionError(
          `A payload is encrypted (key "${keyId}"), but this process has no key ring: set ` +
            'NETCHECK_ENCRYPTION_KEYS or NETCHECK_ENCRYPTION_KEYS_FILE to the ring of the workers and clients that wrote it.',
        );
      }),
    );
  }
}
