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
 *   A worker's codec (`markPlaintext`) also adds the `netcheck-plaintext` metadata to a payload
 *   that is not encrypted, so netcheck's workflow entries can refuse inputs a client sent in the
 *   clear (codec/plaintext-mark.ts); the payload's encoding and data stay as they are.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
// @temporalio/proto is CommonJS without named exports for Node's ESM loader.
import proto from '@temporalio/proto';
import { keyIds, type KeyRing } from './keyring.js';
import { PLAINTEXT_METADATA_KEY, plaintextMetadataValue } from './plaintext-mark.js';

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

/**
 * Brand of netcheck's codecs (a symbol, not `instanceof`, so two copies of the package agree):
 * whether a client's DataConverter encrypts, and what it was told (NETCHECK_ENCRYPTION).
 */
export const NETCHECK_CODEC = Symbol.for('netcheck.payload-codec');

/** What a netcheck codec says about itself (see codecEncryption). */
export interface CodecEncryption {
  /** `keys`: it encrypts. `off`: keyless, NETCHECK_ENCRYPTION=off. `unset`: keyless, nothing said. */
  mode: 'keys' | 'off' | 'unset';
  /** The id of the key it encrypts with. */
  keyId?: string;
}

/** What a codec says about encryption when it is one of netcheck's, else undefined. */
export function codecEncryption(codec: PayloadCodec): CodecEncryption | undefined {
  const brand = (codec as unknown as Record<symbol, unknown>)[NETCHECK_CODEC];
  return brand !== null && typeof brand === 'object' ? (brand as CodecEncryption) : undefined;
}

export interface EncryptionCodecOptions {
  /**
   * A worker's codec: payloads that arrive unencrypted get the `netcheck-plaintext` metadata
   * (with the ring's NETCHECK_ALLOW_PLAINTEXT_UNTIL), for netcheck's workflow entries to refuse.
   */
  markPlaintext?: boolean;
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
  readonly #plaintextMark: Uint8Array | undefined;

  constructor(
    private readonly ring: KeyRing,
    options: EncryptionCodecOptions = {},
  ) {
    this.#plaintextMark = options.markPlaintext
      ? utf8(
          plaintextMetadataValue({
            keyId: ring.primary,
            ...(ring.allowPlaintextUntil ? { allowUntil: ring.allowPlaintextUntil.toISOString() } : {}),
          }),
        )
      : undefined;
  }

  get [NETCHECK_CODEC](): CodecEncryption {
    return { mode: 'keys', keyId: this.ring.primary };
  }

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
    if (!isEncryptedPayload(payload)) {
      if (!this.#plaintextMark) return payload;
      return { ...payload, metadata: { ...payload.metadata, [PLAINTEXT_METADATA_KEY]: this.#plaintextMark } };
    }
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
  /** `declaredOff`: NETCHECK_ENCRYPTION=off (deliberately unencrypted), not just no key set. */
  constructor(private readonly options: { declaredOff?: boolean } = {}) {}

  get [NETCHECK_CODEC](): CodecEncryption {
    return { mode: this.options.declaredOff ? 'off' : 'unset' };
  }

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
