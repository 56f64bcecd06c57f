/**
 * Sealing of CAMARA access tokens, so workflow history never holds one in the clear.
 *
 * - Key: HKDF-SHA256 over the worker's Vonage private key (DER pkcs8 bytes as IKM), fixed salt
 *   `netcheck/token-seal/v1`, info `netcheck access token AES-256-GCM key`, 32 bytes. Every
 *   worker holding the same application key derives the same sealing key; nobody else can.
 * - Cipher: AES-256-GCM, random 12-byte IV, 16-byte tag.
 * - AAD: `${operation}|${msisdn}|${correlationId}`, so a sealed token only opens for the check
 *   it was issued to (a CAMARA token is valid for one number and one scope anyway).
 * - Format: `v1.<base64url iv>.<base64url ciphertext||tag>`.
 *
 * A sealed token that does not open means a worker with another key (or a token moved to
 * another check): that is a deployment problem, reported as CONFIGURATION.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Operation } from '../domain/index.js';
import { netcheckFailure } from '../domain/index.js';

export const SEAL_SALT = 'netcheck/token-seal/v1';
export const SEAL_INFO = 'netcheck access token AES-256-GCM key';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a sealed token is bound to. */
export interface SealContext {
  operation: Operation;
  msisdn: string;
  correlationId: string;
}

export interface TokenSealer {
  sealToken(token: string, context: SealContext): string;
  openToken(sealed: string, context: SealContext): string;
}

function aad(context: SealContext): Buffer {
  return Buffer.from(`${context.operation}|${context.msisdn}|${context.correlationId}`, 'utf8');
}

/** Derives the sealing key once; seal/open are then cheap, synchronous calls. */
export function createTokenSealer(privateKey: KeyObject): TokenSealer {
  const ikm = privateKey.export({ type: 'pkcs8', format: 'der' });
  const key = Buffer.from(hkdfSync('sha256', ikm, SEAL_SALT, SEAL_INFO, 32));

  const cannotOpen = (why: string) =>
    netcheckFailure(
      'CONFIGURATION',
      `The sealed access token cannot be opened (${why}). It was sealed by a worker with another Vonage ` +
        'private key, or for another check; run every worker of this task queue with the same application id and key',
    );

  return {
    sealToken(token, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(context));
      const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    openToken(sealed, context) {
      const parts = typeof sealed === 'string' ? sealed.split('.') : [];
      if (parts.length !== 3 || parts[0] !== VERSION) throw cannotOpen('unknown format');
      const iv = Buffer.from(parts[1] ?? '', 'base64url');
      const body = Buffer.from(parts[2] ?? '', 'base64url');
      if (iv.length !== IV_BYTES || body.length <= TAG_BYTES) throw cannotOpen('malformed');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(context));
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw cannotOpen('authentication failed');
      }
    },
  };
}
